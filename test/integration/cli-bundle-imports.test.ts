/**
 * dist/cli.js runs from a V8 code cache (bin/codeCache.js), where Node 20 cannot run an `import()`
 * written in the bundle: every one must go through the loader's hook (scripts/cli-imports.mjs).
 * One left behind would fail only when its code path runs, e.g. a shared store's `import('redis')`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

test('dist/cli.js calls import() only through the code cache loader\'s hook', () => {
  const lines = readFileSync(join(__dirname, '..', '..', 'dist', 'cli.js'), 'utf8').split('\n');
  assert.match(lines[0]!, /^"use strict";var __isartorImport = module\.isartorImport \|\| \(\(specifier\) => import\(specifier\)\);$/);
  // Comment lines (JSDoc types spell import('...') too) do not run.
  const code = lines.slice(1).filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
  assert.deepEqual(code.filter((line) => /(?<![\w$.])import\s*\(/.test(line)), []);
  assert.ok(code.filter((line) => line.includes('__isartorImport("redis")')).length >= 1);
});
