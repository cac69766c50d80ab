// The YAML and JSONC editors: a set changes only the value (or adds one line), and removing
// what was added gives the original text back, across the layouts people write by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parse as parseJsonc } from 'jsonc-parser';
import { DocumentSyntaxError, type KeyPath } from '../../../src/extension/integrations/documentEdit';
import { jsoncEditor } from '../../../src/extension/integrations/jsoncEdit';
import { yamlEditor } from '../../../src/extension/integrations/yamlEdit';

const URL = 'http://127.0.0.1:8787/r/0123456789abcdef0123456789abcdef/v1/';

/** Adds a key, checks the parsed result, removes it again and expects the exact original. */
function roundTrip(editor: typeof yamlEditor, parse: (t: string) => unknown, text: string, path: KeyPath, expected: string): void {
  const added = editor.set(text, path, URL);
  assert.equal(added, expected);
  let node = parse(added) as Record<string | number, unknown>;
  for (const step of path) node = node[step] as Record<string | number, unknown>;
  assert.equal(node, URL as unknown);
  assert.equal(editor.remove(added, path), text);
}

describe('yaml editor', () => {
  it('adds a key at the indentation of the list item, after trailing comments, and removes it exactly', () => {
    roundTrip(yamlEditor, parseYaml, 'models:\n  - name: a   # x\n    model: m  # y\n  # note\n  - name: b\n', ['models', 0, 'apiBase'],
      `models:\n  - name: a   # x\n    model: m  # y\n    apiBase: ${URL}\n  # note\n  - name: b\n`);
  });

  it('handles odd indentation, nested blocks, CRLF and a last line without a newline', () => {
    roundTrip(yamlEditor, parseYaml, 'models:\r\n-     name: a\r\n      opts:\r\n          t: 1\r\n', ['models', 0, 'apiBase'],
      `models:\r\n-     name: a\r\n      opts:\r\n          t: 1\r\n      apiBase: ${URL}\r\n`);
    roundTrip(yamlEditor, parseYaml, 'models:\n  - name: a\n    model: m', ['models', 0, 'apiBase'], `models:\n  - name: a\n    model: m\n    apiBase: ${URL}`);
  });

  it('adds to a flow mapping', () => {
    roundTrip(yamlEditor, parseYaml, 'models: [{name: a, model: m}]\n', ['models', 0, 'apiBase'], `models: [{name: a, model: m, apiBase: ${URL}}]\n`);
  });

  it('replaces a value in its own quoting style and keeps the comment after it', () => {
    assert.equal(yamlEditor.set("a: 'x'  # c\n", ['a'], URL), `a: '${URL}'  # c\n`);
    assert.equal(yamlEditor.set('a: "x"\n', ['a'], URL), `a: "${URL}"\n`);
    assert.equal(yamlEditor.set('a: x\n', ['a'], URL), `a: ${URL}\n`);
    assert.equal(yamlEditor.set('a:\nb: 1\n', ['a'], URL), `a: ${URL}\nb: 1\n`);
    // A value that would not survive as a plain scalar gets quoted.
    assert.equal(yamlEditor.set('a: x\n', ['a'], 'http://h/#frag: x'), 'a: "http://h/#frag: x"\n');
  });

  it('removes a key that is first in its list item by moving the next key behind the dash', () => {
    assert.equal(yamlEditor.remove('m:\n  - apiBase: u\n    name: a\n', ['m', 0, 'apiBase']), 'm:\n  - name: a\n');
  });

  it('refuses a document with syntax errors', () => {
    assert.throws(() => yamlEditor.set('a: [b\n', ['a'], URL), DocumentSyntaxError);
  });

  it('refuses a path through an anchor or an alias, which other places share', () => {
    const text = 'base: &b https://a.example.com/\nother: *b\nmodels:\n  - &m\n    name: x\n  - *m\n';
    assert.throws(() => yamlEditor.set(text, ['base'], URL), /base has a YAML anchor \(&b\)/);
    assert.throws(() => yamlEditor.set(text, ['other'], URL), /other is a YAML alias \(\*b\)/);
    assert.throws(() => yamlEditor.set(text, ['models', 0, 'apiBase'], URL), /models\.0 has a YAML anchor/);
    assert.throws(() => yamlEditor.set(text, ['models', 1, 'apiBase'], URL), /models\.1 is a YAML alias/);
    assert.throws(() => yamlEditor.remove(text, ['models', 0, 'name']), DocumentSyntaxError);
    assert.equal(yamlEditor.set(text, ['extra'], 1), `${text}extra: 1\n`);
  });
});

describe('jsonc editor', () => {
  it('adds a member after the last one, keeping its comment on its line', () => {
    roundTrip(jsoncEditor, parseJsonc, '{\n  // c\n  "a": 1 // tail\n}\n', ['b'], `{\n  // c\n  "a": 1, // tail\n  "b": "${URL}"\n}\n`);
  });

  it('mirrors a trailing-comma style and tabs', () => {
    roundTrip(jsoncEditor, parseJsonc, '{\n\t"a": 1,\n}', ['b'], `{\n\t"a": 1,\n\t"b": "${URL}",\n}`);
  });

  it('adds to an inline object inline', () => {
    roundTrip(jsoncEditor, parseJsonc, '{ "m": [ { "a": 1 } ] }', ['m', 0, 'b'], `{ "m": [ { "a": 1, "b": "${URL}" } ] }`);
  });

  it('creates a missing parent object indented like the file', () => {
    const text = '{\n    "x": true\n}\n';
    const added = jsoncEditor.set(text, ['env', 'K'], 'v');
    assert.equal(added, '{\n    "x": true,\n    "env": {\n        "K": "v"\n    }\n}\n');
    assert.equal(jsoncEditor.remove(jsoncEditor.remove(added, ['env', 'K']), ['env']), text);
  });

  it('fills an empty object and an empty file', () => {
    assert.equal(jsoncEditor.set('{}', ['a'], 1), '{\n  "a": 1\n}');
    assert.equal(jsoncEditor.set('', ['env', 'K'], 'v'), '{\n  "env": {\n    "K": "v"\n  }\n}\n');
  });

  it('replaces only the value bytes', () => {
    assert.equal(jsoncEditor.set('{"a":   "x" , /*c*/ "b": 2}', ['a'], URL), `{"a":   "${URL}" , /*c*/ "b": 2}`);
  });

  it('removing a member keeps comments around it', () => {
    assert.equal(jsoncEditor.remove('{\n  "a": 1, // keep me\n  "b": 2\n}', ['b']), '{\n  "a": 1 // keep me\n}');
  });

  it('refuses a document with syntax errors', () => {
    assert.throws(() => jsoncEditor.set('{ "a": }', ['a'], 1), DocumentSyntaxError);
  });

  it('refuses a key the path goes through twice, where readers take the last and the lookup the first', () => {
    const twice = '{\n  "env": { "ANTHROPIC_BASE_URL": "https://a.example.com" },\n  "env": { "ANTHROPIC_BASE_URL": "https://b.example.com" }\n}\n';
    assert.throws(() => jsoncEditor.set(twice, ['env', 'ANTHROPIC_BASE_URL'], URL), /the key "env" appears 2 times; Isartor leaves/);
    assert.throws(() => jsoncEditor.remove(twice, ['env', 'ANTHROPIC_BASE_URL']), DocumentSyntaxError);
    const inner = '{ "env": { "K": "a", "K": "b" }, "models": [{ "u": 1, "u": 2 }] }';
    assert.throws(() => jsoncEditor.set(inner, ['env', 'K'], URL), /the key "K" appears 2 times inside \["env"\]/);
    assert.throws(() => jsoncEditor.set(inner, ['models', 0, 'u'], 3), /inside \["models",0\]/);
    // Keys repeated elsewhere in the file are not in the way.
    assert.equal(jsoncEditor.set(inner, ['other'], 1), '{ "env": { "K": "a", "K": "b" }, "models": [{ "u": 1, "u": 2 }], "other": 1 }');
  });
});
