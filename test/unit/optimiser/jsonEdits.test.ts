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
