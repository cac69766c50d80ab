/** Splicing edits into the client's JSON: untouched bytes stay the client's, byte for byte. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyJsonEdits, JsonEditError } from '../../../src/core/optimiser/jsonEdits';

test('bytes outside the edits are the client\'s own: big integers, escapes, spacing, key order', () => {
  const text = '{ "z": 1.50, "id": 12345678901234567890, "system" : "caf\\u00e9\\/x", "messages": [ {"role":"user","content":"hi"} ] }';
  const out = applyJsonEdits(text, [{ kind: 'wrapAsTextBlock', path: ['messages', 0, 'content'], marker: true }]);
  assert.equal(out, '{ "z": 1.50, "id": 12345678901234567890, "system" : "caf\\u00e9\\/x", "messages": [ {"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]} ] }');
});

test('wrapping keeps the original string bytes unless a new value is given', () => {
  const text = '{"system":"caf\\u00e9"}';
  assert.equal(applyJsonEdits(text, [{ kind: 'wrapAsTextBlock', path: ['system'], marker: false }]), '{"system":[{"type":"text","text":"caf\\u00e9"}]}');
  assert.equal(applyJsonEdits(text, [{ kind: 'wrapAsTextBlock', path: ['system'], value: 'new', marker: false }]), '{"system":[{"type":"text","text":"new"}]}');
});

test('markers go on the end of objects, empty ones included', () => {
  assert.equal(applyJsonEdits('{"tools":[{"name":"a"},{}]}', [{ kind: 'addMarker', path: ['tools', 0] }, { kind: 'addMarker', path: ['tools', 1] }]), '{"tools":[{"name":"a","cache_control":{"type":"ephemeral"}},{"cache_control":{"type":"ephemeral"}}]}');
});

test('removing array elements takes the right comma, first, middle, last and only', () => {
  const text = '{"a":[1, 2, 3],"b":[9]}';
  assert.equal(applyJsonEdits(text, [{ kind: 'removeElement', path: ['a', 0] }]), '{"a":[2, 3],"b":[9]}');
  assert.equal(applyJsonEdits(text, [{ kind: 'removeElement', path: ['a', 1] }]), '{"a":[1, 3],"b":[9]}');
  assert.equal(applyJsonEdits(text, [{ kind: 'removeElement', path: ['a', 2] }]), '{"a":[1, 2],"b":[9]}');
  assert.equal(applyJsonEdits(text, [{ kind: 'removeElement', path: ['b', 0] }]), '{"a":[1, 2, 3],"b":[]}');
  assert.deepEqual(JSON.parse(applyJsonEdits(text, [{ kind: 'removeElement', path: ['a', 0] }, { kind: 'removeElement', path: ['a', 2] }])), { a: [2], b: [9] });
});

test('a path to the wrong kind of node, or overlapping edits, is an error', () => {
  assert.throws(() => applyJsonEdits('{"a":1}', [{ kind: 'replaceString', path: ['a'], value: 'x' }]), JsonEditError);
  assert.throws(
    () => applyJsonEdits('{"a":["s"]}', [{ kind: 'removeElement', path: ['a', 0] }, { kind: 'replaceString', path: ['a', 0], value: 'x' }]),
    JsonEditError,
  );
});

test('many edits are spliced in one pass, each where its path says, whatever the order they come in', () => {
  const messages = Array.from({ length: 5_000 }, (_, i) => ({ role: 'user', content: `m${i}`, meta: { n: i } }));
  const text = JSON.stringify({ system: 's', messages });
  const edits = messages.flatMap((_, i) => [
    { kind: 'wrapAsTextBlock' as const, path: ['messages', i, 'content'], marker: i % 2 === 0 },
    { kind: 'addMarker' as const, path: ['messages', 4_999 - i, 'meta'] },
  ]);
  const out = JSON.parse(applyJsonEdits(text, edits)) as { messages: Array<{ content: unknown; meta: { n: number; cache_control?: unknown } }> };
  out.messages.forEach((message, i) => {
    assert.deepEqual(message.content, [{ type: 'text', text: `m${i}`, ...(i % 2 === 0 ? { cache_control: { type: 'ephemeral' } } : {}) }]);
    assert.deepEqual(message.meta, { n: i, cache_control: { type: 'ephemeral' } });
  });
});

test('escaped keys, nesting deeper than the call stack and whitespace everywhere are read right', () => {
  const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
  const text = ` { "a\\u0062" : { } , "deep" : ${deep} , "list" : [ "x" , { "k" : "v" } ] } `;
  const out = applyJsonEdits(text, [{ kind: 'addMarker', path: ['ab'] }, { kind: 'replaceString', path: ['list', 0], value: 'y' }, { kind: 'addMarker', path: ['list', 1] }]);
  assert.ok(out.includes(deep));
  assert.equal(out.replace(deep, 'DEEP'), ` { "a\\u0062" : { "cache_control":{"type":"ephemeral"}} , "deep" : DEEP , "list" : [ "y" , { "k" : "v" ,"cache_control":{"type":"ephemeral"}} ] } `);
});
