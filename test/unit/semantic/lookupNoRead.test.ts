// A lookup checks the gates of neighbours whose signature it already knows without reading them
// (issue 15), and ends up with the same answers, refusals and LRU order as reading each one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { SemanticCache, type LookupResult } from '../../../src/core/semantic/cache';
import { entryKey } from '../../../src/core/semantic/entries';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import type { KeyValueStore } from '../../../src/core/store/store';
import { tempDir } from './helpers';

const answer = (n: number) => ({ api: 'openai.chat' as const, body: { n }, usage: ZERO_USAGE, createdAt: n });
const sort = (n: number): string => `How do I sort ${n} items by date in JavaScript?`;

/** The store with its reads counted, and with or without its `touch`. */
function counted(store: KeyValueStore, withTouch: boolean): { store: KeyValueStore; reads: string[] } {
  const reads: string[] = [];
  const wrapped: KeyValueStore = {
    get: (key) => (reads.push(key), store.get(key)),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
    keys: () => store.keys(),
    clear: () => store.clear(),
    size: () => store.size(),
    byteSize: () => store.byteSize(),
    close: () => store.close(),
    ...(withTouch ? { touch: (key: string) => store.touch!(key) } : {}),
  };
  return { store: wrapped, reads };
}

const summary = (result: LookupResult) => (result.hit ? { hit: true, key: result.key, n: result.entry.answer.body.n, similarity: result.similarity } : result);

async function run(withTouch: boolean) {
  const { dir, cleanup } = await tempDir('lookup-no-read');
  const base = await openEmbeddedStore(dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
  assert.equal(typeof base.touch, 'function', 'the embedded store can count a use without a read');
  const { store, reads } = counted(base, withTouch);
  const cache = await SemanticCache.open({ store, embedder: createLexicalEmbedder(), threshold: 0.5, logger: silentLogger, deferEmbedding: false });
  const results: unknown[] = [];
  const steps: Array<[string, () => Promise<unknown>]> = [];
  const lookup = (n: number) => steps.push([`lookup ${n}`, async () => summary(await cache.lookup('p', sort(n)))]);
  const insert = (n: number) => steps.push([`insert ${n}`, () => cache.insert('p', sort(n), answer(n))]);
  insert(10);
  lookup(12); // reads 10: refused (numbers), 10's and 12's signatures remembered
  lookup(12); // 10 refused again from memory
  insert(12); // as a miss does after its lookup
  steps.push(['insert another', () => cache.insert('p', 'Which license does this project use?', answer(99))]);
  lookup(14); // 10 and 12 both refused from memory, and both now used more recently than the other
  steps.push(['LRU order', async () => {
    const order: string[] = [];
    for await (const key of store.keys()) order.push(key === entryKey('p', sort(10)) ? '10' : key === entryKey('p', sort(12)) ? '12' : 'other');
    return order;
  }]);
  lookup(10); // the same text: read and answered
  steps.push(['delete 12 behind the index', () => base.delete(entryKey('p', sort(12)))]);
  lookup(16); // 12 is gone: the lookup reads, finds nothing and drops it from the index
  for (const [name, step] of steps) {
    const before = reads.length;
    results.push({ name, result: await step(), reads: reads.slice(before).map((key) => (key === entryKey('p', sort(10)) ? 10 : key === entryKey('p', sort(12)) ? 12 : key)) });
  }
  const order: string[] = [];
  for await (const key of store.keys()) order.push(key);
  const indexed = [...cache.index.keys()];
  await cache.close();
  await base.close();
  await cleanup();
  return { results, order, indexed };
}

describe('lookup without reading refused neighbours', () => {
  it('answers, refuses and orders the LRU exactly as reading every neighbour does, with fewer reads', async () => {
    const reading = await run(false);
    const remembering = await run(true);
    const strip = (results: unknown[]) => results.map((step) => ({ ...(step as object), reads: undefined }));
    assert.deepEqual(strip(remembering.results), strip(reading.results));
    assert.deepEqual(remembering.order, reading.order, 'same LRU order in the store');
    const lru = (run: { results: unknown[] }) => (run.results.find((step) => (step as { name: string }).name === 'LRU order') as { result: string[] }).result;
    assert.equal(lru(remembering)[0], 'other', 'refusing from memory counted a use of both neighbours');
    assert.deepEqual(remembering.indexed, reading.indexed);
    const readsOf = (run: { results: unknown[] }, name: string) => (run.results.find((step) => (step as { name: string }).name === name) as { reads: unknown[] }).reads;
    // The refusals are real (a gate, not a threshold), and the memory saved their reads.
    const refusal = (reading.results[1] as { result: { hit: boolean; rejected?: string } }).result;
    assert.equal(refusal.hit, false);
    assert.ok(refusal.rejected, 'the nearest was refused by a gate');
    assert.deepEqual(readsOf(reading, 'lookup 12'), [10]);
    assert.deepEqual(readsOf(remembering, 'lookup 14'), [], 'both known neighbours refused without a read');
    assert.deepEqual(readsOf(reading, 'lookup 14').sort(), [10, 12]);
    assert.deepEqual(readsOf(remembering, 'lookup 10'), [10], 'an answer is still read');
    assert.ok(readsOf(remembering, 'lookup 16').includes(12), 'a key the store no longer has is read, and dropped');
    assert.equal(remembering.indexed.includes(entryKey('p', sort(12))), false);
  });
});

describe('the query\'s gate signature', () => {
  it('is remembered after a miss, for the insert that follows, and not after a hit', async () => {
    const { dir, cleanup } = await tempDir('lookup-signature');
    const store = await openEmbeddedStore(dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    const cache = await SemanticCache.open({ store, embedder: createLexicalEmbedder(), threshold: 0.5, logger: silentLogger, deferEmbedding: false });
    // Reached through the private field: the memo's contents are what this test is about.
    const remembered = (text: string): boolean => cache['signatures'].get(entryKey('p', text)) !== undefined;
    try {
      await cache.insert('p', sort(10), answer(10));
      const respaced = sort(10).replace('sort', 'sort  ');
      const hit = await cache.lookup('p', respaced);
      assert.equal(hit.hit, true, 'another spacing of the stored question is a hit');
      assert.equal(remembered(respaced), false, 'nothing is stored under a hit\'s key: its signature is not held');
      const miss = await cache.lookup('p', sort(12));
      assert.equal(miss.hit, false);
      assert.ok(!miss.hit && miss.rejected, 'the neighbour was refused by a gate, so the query\'s signature was computed');
      assert.equal(remembered(sort(12)), true, 'a miss\'s signature waits for its insert');
    } finally {
      await cache.close();
      await store.close();
      await cleanup();
    }
  });
});
