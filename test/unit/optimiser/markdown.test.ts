/**
 * Lossless Markdown shrinking: golden checks on every real instruction file in ../shared/eval, plus
 * the edge cases where whitespace or a comment carries meaning.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { markdownParseCount, markdownStructure, shrinkMarkdown, verbatimSlices } from '../../../src/core/optimiser/markdown';

const ALL_ON = { whitespace: true, htmlComments: true };
const WHITESPACE_ONLY = { whitespace: true, htmlComments: false };
const INSTRUCTION_FILES = join(__dirname, '../../../../shared/eval/instruction-files');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownFiles(path);
      return /\.(md|mdc)$/.test(name) ? [path] : [];
    });
}

test('deterministic: the same payload shrinks to the same bytes every time', () => {
  for (const file of markdownFiles(INSTRUCTION_FILES).filter((_, index) => index % 25 === 0)) {
    const text = readFileSync(file, 'utf8');
    assert.equal(shrinkMarkdown(text, ALL_ON), shrinkMarkdown(`${text}`, ALL_ON), file);
  }
});

test('golden: every instruction file keeps its structure, code and front matter, and shrinking is idempotent', () => {
  const files = markdownFiles(INSTRUCTION_FILES);
  assert.ok(files.length >= 480, `expected the whole corpus, found ${files.length} files`);
  let before = 0;
  let after = 0;
  let changed = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const out = shrinkMarkdown(text, ALL_ON);
    before += text.length;
    after += out.length;
    // An unchanged file is trivially idempotent (shrink(out) is shrink(text)); the rest are checked.
    if (out === text) continue;
    changed++;
    assert.equal(shrinkMarkdown(out, ALL_ON), out, `not idempotent: ${file}`);
    assert.equal(markdownStructure(out, { ignoreComments: true }), markdownStructure(text, { ignoreComments: true }), `structure changed: ${file}`);
    assert.deepEqual(verbatimSlices(out), verbatimSlices(text), `a code block or front matter changed: ${file}`);
    assert.ok(out.length < text.length, `a change must remove bytes: ${file}`);
    const whitespaceOnly = shrinkMarkdown(text, WHITESPACE_ONLY);
    assert.equal(markdownStructure(whitespaceOnly), markdownStructure(text), `whitespace shrinking changed the tree: ${file}`);
  }
  // The corpus does have trailing spaces, blank-line runs and comments: the shrinker must find some.
  assert.ok(changed >= 20, `only ${changed} files shrank`);
  assert.ok(after < before);
});

test('trailing spaces and blank-line runs go; a hard line break stays', () => {
  const text = '# Rules   \n\n\n\nFirst line  \nsecond line \nthird\n\n\n- item  \n';
  const out = shrinkMarkdown(text, ALL_ON);
  assert.equal(out, '# Rules\n\nFirst line  \nsecond line\nthird\n\n- item\n');
  assert.equal(markdownStructure(out), markdownStructure(text));
});

test('fenced, indented and inline code keep every byte, blank lines included', () => {
  const text = 'Intro  \n\n```python\ndef f():  \n\n\n\n    return 1   \n```\n\n    indented   \n\n\n\n    still code  \n\nUse `a  \nb` here.\n';
  const out = shrinkMarkdown(text, ALL_ON);
  assert.deepEqual(verbatimSlices(out), verbatimSlices(text));
  assert.ok(out.includes('def f():  \n\n\n\n    return 1   \n'));
  assert.ok(out.includes('    indented   \n\n\n\n    still code  \n'));
  assert.ok(out.includes('`a  \nb`'));
  assert.ok(out.startsWith('Intro\n'));
});

test('code outside fences keeps its whitespace: blank lines and trailing spaces next to indented lines stay', () => {
  // Parsed as paragraphs, these were shrunk: the YAML literal lost a blank line, the docstring its
  // trailing spaces and blank lines.
  const yaml = 'Config example:\n\nscript: |\n  echo a\n\n\n  echo b   \n';
  assert.equal(shrinkMarkdown(yaml, WHITESPACE_ONLY), yaml);
  const python = 'def f():\n    return 1\n\n\n\ndef g():\n    s = """a  \n\n\n\nb"""\n';
  assert.equal(shrinkMarkdown(python, WHITESPACE_ONLY), python);
  // Away from indented lines the shrinking still works, blank lines holding spaces included.
  assert.equal(shrinkMarkdown('# Rules   \n  \n\n\nUse pnpm.  \n\n\n\n  - nested\n', WHITESPACE_ONLY), '# Rules\n\nUse pnpm.\n\n\n\n  - nested\n');
});

test('front matter is never touched', () => {
  const text = '---\napplyTo: "**/*.ts"   \n\n\n\nglobs: src/**  \n---\n\n\n\n# Title  \n';
  const out = shrinkMarkdown(text, ALL_ON);
  assert.ok(out.startsWith('---\napplyTo: "**/*.ts"   \n\n\n\nglobs: src/**  \n---\n'));
  assert.ok(out.endsWith('\n\n# Title\n'));
});

test('HTML comments go, but not one that separates two lists, nor one inside code', () => {
  const text = '<!-- maintainer note -->\n# Title\n\n- a\n\n<!-- end list -->\n\n- b\n\nSay <!-- inline --> hi.\n\n```html\n<!-- kept -->\n```\n';
  const out = shrinkMarkdown(text, ALL_ON);
  assert.ok(!out.includes('maintainer note'));
  assert.ok(!out.includes('inline'));
  assert.ok(out.includes('<!-- end list -->'), 'the separating comment keeps the two lists apart');
  assert.ok(out.includes('```html\n<!-- kept -->\n```'));
  assert.equal(markdownStructure(out, { ignoreComments: true }), markdownStructure(text, { ignoreComments: true }));
});

test('each switch works alone', () => {
  const text = '<!-- note -->\nText  \n\n\n\nMore\n';
  assert.equal(shrinkMarkdown(text, { whitespace: false, htmlComments: false }), text);
  assert.equal(shrinkMarkdown(text, { whitespace: false, htmlComments: true }), 'Text  \n\n\n\nMore\n');
  assert.equal(shrinkMarkdown(text, WHITESPACE_ONLY), '<!-- note -->\nText\n\nMore\n');
});

test('CRLF line endings are kept', () => {
  const text = 'a  \r\n\r\n\r\n\r\nb \r\n';
  assert.equal(shrinkMarkdown(text, ALL_ON), 'a\r\n\r\nb\r\n');
});

test('comment removal parses a payload a bounded number of times, however many comments it holds', () => {
  // 64 comments that each separate two lists: removing them all changes the tree, and trying each
  // alone re-parsed this 84 KB payload 66 times a round (4.4 s in all).
  let text = '';
  for (let k = 0; k < 64; k++) text += `- a${k} ${'words about the build and tests '.repeat(40)}\n\n<!-- sep ${k} -->\n\n- b${k}\n\n`;
  const before = markdownParseCount();
  const out = shrinkMarkdown(text, ALL_ON);
  const parses = markdownParseCount() - before;
  assert.ok(parses <= 4 * 9 + 3, `${parses} parses`);
  assert.equal(markdownStructure(out, { ignoreComments: true }), markdownStructure(text, { ignoreComments: true }));
  // Comments that carry no structure still go, next to one that does.
  const mixed = '# A\n\n<!-- drop me -->\n\n- one\n\n<!-- sep -->\n\n- two\n\nText <!-- inline --> here.\n';
  const shrunk = shrinkMarkdown(mixed, { whitespace: false, htmlComments: true });
  assert.ok(shrunk.includes('<!-- sep -->'), shrunk);
  assert.ok(!shrunk.includes('drop me') && !shrunk.includes('inline'), shrunk);
});
