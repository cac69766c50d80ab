/**
 * The built bundles are pure ASCII: one other character makes V8 read and compile the whole file as
 * a two-byte string, ~40 ms more at every `isartor serve` start (scripts/ascii-bundle.mjs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const DIST = join(__dirname, '..', '..', 'dist');

test('dist/cli.js, extension.js, semanticWorker.js, bodyWorker.js and countWorker.js hold only ASCII', () => {
  for (const name of ['cli.js', 'extension.js', 'semanticWorker.js', 'bodyWorker.js', 'countWorker.js']) {
    const text = readFileSync(join(DIST, name), 'latin1');
    const at = text.search(/[^\x00-\x7f]/);
    assert.equal(at, -1, `${name}: byte 0x${text.charCodeAt(at).toString(16)} at line ${text.slice(0, at).split('\n').length}`);
  }
});
