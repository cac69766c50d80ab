// ObjectMemo keeps a value on the object it belongs to, where no serialiser or copy may see it: the
// proxy's memos sit on request bodies and answers, which are forwarded, stored and cloned to workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectMemo } from '../../src/core/objectMemo';
import { rememberedDigest } from '../../src/core/digestMemo';
import { storedAnswerJson, type StoredAnswer } from '../../src/core/outcome';

test('a remembered value is found on its object and on no other', () => {
  const memo = new ObjectMemo<object, string>('test');
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  assert.equal(memo.get(body), undefined);
  memo.set(body, 'first');
  assert.equal(memo.get(body), 'first');
  memo.set(body, 'second');
  assert.equal(memo.get(body), 'second', 'a second set replaces the value');
  for (const copy of [{ ...body }, Object.assign({}, body), structuredClone(body), JSON.parse(JSON.stringify(body)) as object, Object.create(body) as object]) {
    assert.equal(memo.get(copy), undefined, 'copies, clones and objects inheriting from it start empty');
  }
  const other = new ObjectMemo<object, string>('test');
  assert.equal(other.get(body), undefined, 'each memo has its own slot');
});

test('a remembered value is invisible to JSON, keys, enumeration and deep equality', () => {
  const memo = new ObjectMemo<object, string>('test');
  const body = { b: 1, a: [1, 2] };
  const twin = { b: 1, a: [1, 2] };
  memo.set(body, 'digest');
  memo.set(body.a, 'texts');
  assert.equal(JSON.stringify(body), JSON.stringify(twin));
  assert.deepEqual(Object.keys(body), ['b', 'a']);
  assert.deepEqual(Object.keys(body.a), ['0', '1']);
  const seen: string[] = [];
  for (const key in body) seen.push(key);
  assert.deepEqual(seen, ['b', 'a']);
  assert.deepStrictEqual(body, twin);
  assert.equal(body.a.length, 2);
});

test('a frozen or sealed object remembers nothing, and setting does not throw', () => {
  const memo = new ObjectMemo<object, string>('test');
  for (const body of [Object.freeze({ a: 1 }), Object.seal({ a: 1 }), Object.preventExtensions({ a: 1 })]) {
    memo.set(body, 'value');
    assert.equal(memo.get(body), undefined);
  }
});

test('digests are computed once per body object, again for a copy', () => {
  const body = { model: 'm' };
  let computed = 0;
  const compute = (): string => String(++computed);
  assert.equal(rememberedDigest(body, 'purpose', compute), '1');
  assert.equal(rememberedDigest(body, 'purpose', compute), '1');
  assert.equal(rememberedDigest(body, 'other', compute), '2');
  assert.equal(rememberedDigest({ ...body }, 'purpose', compute), '3', 'a spread copy is a new body');
  assert.equal(JSON.stringify(body), '{"model":"m"}');
});

test("a copy of an answer with another body is serialised afresh, not with the original's JSON", () => {
  const answer: StoredAnswer = { api: 'openai.chat', body: { id: 'a', choices: [] }, usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 5 };
  const json = storedAnswerJson(answer);
  assert.equal(json, JSON.stringify(answer));
  const edited: StoredAnswer = { ...answer, body: { id: 'b', choices: [] } };
  assert.equal(storedAnswerJson(edited), JSON.stringify(edited));
  assert.equal(JSON.stringify(answer), json, 'the memo is not part of the answer');
});
