/**
 * Counting a parsed body's pieces (src/core/jsonNodes.ts): what decides whether the proxy's thread
 * takes a large body in, so the count must be exact up to the limit and cheap past it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNodesUpTo, jsonTextExceedsNodes, jsonTextNodesUpTo, MAX_MAIN_THREAD_NODES } from '../../../src/core/jsonNodes';
import type { JsonValue } from '../../../src/core/request';

describe('jsonNodesUpTo', () => {
  it('counts each value once and each object key once more', () => {
    assert.equal(jsonNodesUpTo(null, 10), 1);
    assert.equal(jsonNodesUpTo('text', 10), 1);
    assert.equal(jsonNodesUpTo([], 10), 1);
    assert.equal(jsonNodesUpTo({}, 10), 1);
    assert.equal(jsonNodesUpTo([1, 'a', false], 10), 4);
    assert.equal(jsonNodesUpTo({ model: 'm', messages: [] }, 10), 5);
    // object, 2 keys, 2 values; the message: object, 2 keys, 2 values
    assert.equal(jsonNodesUpTo({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, 100), 10);
  });

  it('is exact up to the limit and says limit + 1 past it', () => {
    const messages = Array.from({ length: 20 }, () => ({ role: 'user', content: 'x' })); // 1 + 20 × 5 = 101
    const body: JsonValue = { model: 'm', messages }; // 1 + 2 + 1 + 101 = 105
    assert.equal(jsonNodesUpTo(body, 105), 105);
    assert.equal(jsonNodesUpTo(body, 104), 105);
    assert.equal(jsonNodesUpTo(body, 50), 51);
    const deep: JsonValue = { a: { b: { c: [[[1]]] } } }; // objects 3, keys 3, arrays 3, number 1
    assert.equal(jsonNodesUpTo(deep, 10), 10);
    assert.equal(jsonNodesUpTo(deep, 9), 10);
  });

  it('stops at the limit on a huge array or object without walking it', () => {
    const numbers = new Array<number>(5_000_000).fill(0);
    assert.equal(jsonNodesUpTo({ model: 'm', x: numbers }, MAX_MAIN_THREAD_NODES), MAX_MAIN_THREAD_NODES + 1);
    const keys: Record<string, number> = {};
    for (let i = 0; i < 60_000; i++) keys[`k${i}`] = i;
    assert.equal(jsonNodesUpTo({ metadata: keys }, MAX_MAIN_THREAD_NODES), MAX_MAIN_THREAD_NODES + 1);
  });

  it('counts each key past an object\'s 1,000th as ten: V8 keeps such an object as a hash table', () => {
    const keys: Record<string, number> = {};
    for (let i = 0; i < 1_500; i++) keys[`k${i}`] = i;
    // outer object and its key, the wide object, 1,000 keys at one and 500 at ten, 1,500 values
    assert.equal(jsonNodesUpTo({ metadata: keys }, 1_000_000), 3 + 1_000 + 5_000 + 1_500);
    const narrow = Array.from({ length: 1_500 }, (_, i) => ({ [`k${i}`]: i }));
    assert.equal(jsonNodesUpTo(narrow, 1_000_000), 1 + 1_500 * 3);
  });
});

describe('jsonTextNodesUpTo', () => {
  it('counts JSON text as jsonNodesUpTo counts the value it parses to', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 1_500; i++) wide[`k${i}`] = i;
    const samples: JsonValue[] = [
      null, true, -1.5e-7, 'text', [], {}, [1, 'a', false, null],
      { model: 'm', messages: [{ role: 'user', content: 'say "a":1, {b} [c] \\"' }] },
      { a: { b: { c: [[[1]]] } }, 'key with "quotes"': '\\', e: [{}, [], ''] },
      { arguments: JSON.stringify({ x: 1, y: [2, 3] }) },
      { metadata: wide },
    ];
    for (const value of samples) {
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
        assert.equal(jsonTextNodesUpTo(text, 100_000), jsonNodesUpTo(value, 100_000), text.slice(0, 80));
      }
    }
  });

  it('says limit + 1 past the limit, and throws on an unterminated string', () => {
    assert.equal(jsonTextNodesUpTo(JSON.stringify(new Array(1_000).fill(0)), 100), 101);
    assert.throws(() => jsonTextNodesUpTo('{"a":"b', 100), SyntaxError);
  });
});

describe('jsonTextExceedsNodes', () => {
  it('skips only texts too short to exceed the limit: the densest JSON stays within three pieces a character', () => {
    // Past an object's 1,000th key every key counts ten: the densest text a piece count can have.
    const dense: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) dense[i.toString(36)] = 0;
    for (const text of [JSON.stringify(dense), JSON.stringify(new Array(5_000).fill(0)), JSON.stringify({ a: [[[{}]]] })]) {
      const count = jsonTextNodesUpTo(text, Number.MAX_SAFE_INTEGER);
      assert.ok(count <= text.length * 3, `${count} pieces in ${text.length} characters`);
      for (const limit of [count - 1, count, count + 1, text.length * 3]) assert.equal(jsonTextExceedsNodes(text, limit), count > limit, `limit ${limit}`);
    }
  });
});
