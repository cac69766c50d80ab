/**
 * The build's ASCII pass (scripts/ascii-bundle.mjs): comments are escaped, code must already be ASCII.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

type AsciiBundle = (text: string, name?: string) => string;
const load = async (): Promise<AsciiBundle> =>
  ((await import(pathToFileURL(join(__dirname, '..', '..', 'scripts', 'ascii-bundle.mjs')).href)) as { asciiBundle: AsciiBundle }).asciiBundle;

test('non-ASCII in line and block comments becomes \\u escapes, and the code still runs the same', async () => {
  const asciiBundle = await load();
  const source = [
    '/** Store key \u2192 entry id. */',
    'const answer = 6 * 7; // it\u2019s \u{1F600}',
    '/*! MIT License. Jimmy W\u00e4rting',
    '  still \u00e9 inside */',
    'result = answer;',
  ].join('\n');
  const ascii = asciiBundle(source);
  assert.doesNotMatch(ascii, /[^\x00-\x7f]/);
  assert.match(ascii, /\/\/ it\\u2019s \\ud83d\\ude00$/m);
  assert.match(ascii, /W\\u00e4rting/);
  assert.equal(ascii.split('\n').length, 5);
  const run = (code: string): unknown => new Function(`let result; ${code}; return result;`)();
  assert.equal(run(ascii), 42);
});

test('already ASCII text comes back unchanged', async () => {
  const asciiBundle = await load();
  const source = 'const re = /[.,;:!?\\u2026]+$/u; // fine\n';
  assert.equal(asciiBundle(source), source);
});

test('non-ASCII in code (a regex literal, a raw template) fails the build with its line', async () => {
  const asciiBundle = await load();
  assert.throws(() => asciiBundle('const a = 1;\nconst re = /can[\'\u2019]t/g;\n', 'dist/x.js'), /dist\/x\.js:2: non-ASCII character U\+2019 outside a comment/);
  assert.throws(() => asciiBundle('const t = String.raw`\u2026`;'), /U\+2026 outside a comment/);
  // After a backslash an escape would mean something else, even where it looks like a comment.
  assert.throws(() => asciiBundle("const s = 'a // \\\u2019';"), /U\+2019 outside a comment/);
});
