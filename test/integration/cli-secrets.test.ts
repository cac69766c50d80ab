/**
 * What the built `isartor` prints about a bad flag may quote the flag's value: a password in it
 * must not land in the terminal (or a CI log) in clear.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

test('a rejected --upstream URL is quoted with its password hidden', () => {
  const result = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--upstream', 'http://me:hunter2secret@exa mple/v1'], { encoding: 'utf8' });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--upstream must be an http\(s\) URL \(got "http:\/\/me:\*\*\*@exa mple\/v1"\)/);
  assert.doesNotMatch(result.stderr + result.stdout, /hunter2secret/);
});
