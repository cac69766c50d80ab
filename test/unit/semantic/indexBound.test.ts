// A semantic index over a store that does not bound it (a team's Redis) keeps at most `maxIndexed`
// entries, the most recently added or used; evicted ones stay in the store, a larger excess goes a
// step per turn, and nothing the store no longer holds is ever an answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE, type StoredAnswer } from '../../../src/core/outcome';
import { SemanticCache } from '../../../src/core/semantic/cache';
import { encodeEntry, entryKey } from '../../../src/core/semantic/entries';
import { openEmbeddedStore, type EmbeddedStore } from '../../../src/core/store/embedded';
import { tempDir } from './helpers';

const BOUND = 20;
const embedder = createLexicalEmbedder();
const answer = (n: number): StoredAnswer => ({ api: 'openai.chat', body: { n }, usage: ZERO_USAGE, createdAt: n });
/** Text `n`: its own number, so no two are each other's hit. */
const text = (n: number): string => `what is the price of plan number ${n}`;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('L1b index bound (maxIndexed)', () => {
  let cleanup: () => Promise<void>;
  let store: EmbeddedStore;
  let cache: SemanticCache;

  before(async () => {
    const temp = await tempDir('l1b-bound');
    cleanup = temp.cleanup;
    // The store holds everything, as Redis does: only the index is bounded.
    store = await openEmbeddedStore(temp.dir, { maxEntries: 100_000, ttlSeconds: 0 }, { name: 'semantic' });
    cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, deferEmbedding: false, maxIndexed: BOUND });
  });
  after(async () => {
    await cache.close();
    await store.close();
    await cleanup();
  });

  const hits = async (n: number): Promise<boolean> => (await cache.lookup('p', text(n))).hit;

  it('holds at most the bound after every add, keeps the most recent, and leaves the store alone', async () => {
    for (let n = 0; n < 100; n++) {
      await cache.insert('p', text(n), answer(n));
      assert.ok(cache.size <= BOUND, `${cache.size} entries after insert ${n}`);
    }
    assert.equal(cache.size, BOUND);
    for (let n = 100 - BOUND; n < 100; n++) assert.equal(await hits(n), true, `recent entry ${n}`);
    assert.equal(await hits(0), false, 'the oldest left the index');
    assert.equal(store.size(), 100, 'and stayed in the store');
  });

  it('a hit keeps an entry: the least recently used goes instead', async () => {
    // 80..99 are indexed; 80 is used, then one more comes in.
    assert.equal(await hits(80), true);
    await cache.insert('p', text(100), answer(100));
    assert.equal(await hits(80), true, 'the used entry stayed');
    assert.equal(await hits(81), false, 'the least recently used one left');
  });

  it('an evicted entry seen again (another replica stores it) comes back into the index', async () => {
    await cache.adoptStored(entryKey('p', text(5)));
    const found = await cache.lookup('p', text(5));
    assert.equal(found.hit && found.entry.answer.createdAt, 5);
    assert.equal(cache.size, BOUND);
  });

  it('never answers from an indexed entry the store no longer holds', async () => {
    await cache.insert('p', text(200), answer(200));
    assert.equal(await hits(200), true);
    await store.delete(entryKey('p', text(200)));
    // The embedded store reports the removal; an index that has not heard yet must still miss.
    assert.equal(await hits(200), false);
  });

  it('never answers from an indexed entry whose stored record is another text\'s', async () => {
    // A record copied under another entry's key: the key says text 201, the record text 202.
    await cache.insert('p', text(201), answer(201));
    await store.set(entryKey('p', text(201)), encodeEntry({ partition: 'p', text: text(202), embedder: embedder.id, vector: await embedder.embed(text(202)), answer: answer(202) }));
    assert.equal(await hits(201), false);
  });

  it('a larger excess leaves a step per turn, never in one pass', async () => {
    const dims = embedder.dimensions;
    const many = Array.from({ length: 20_000 }, (_, i) => {
      const vector = new Float32Array(dims);
      vector[i % dims] = 1;
      return { partition: `bulk-${i % 4}`, key: `l1b:bulk-${i % 4}:${i}`, vector };
    });
    cache.bulkAdd(many);
    assert.ok(cache.size > BOUND + 10_000, `${cache.size} entries right after the bulk add: not evicted in one pass`);
    let turns = 0;
    let longestMs = 0;
    while (cache.size > BOUND && turns < 10_000) {
      // A turn's own work, as blockedMs counts it: the lesser of wall and CPU time (either alone
      // also counts other processes, or V8's background threads, on a busy machine).
      const started = performance.now();
      const cpu = process.cpuUsage();
      await nextTurn();
      const used = process.cpuUsage(cpu);
      longestMs = Math.max(longestMs, Math.min(performance.now() - started, (used.user + used.system) / 1000));
      turns++;
    }
    assert.equal(cache.size, BOUND);
    assert.ok(turns > 10, `${turns} turns`);
    assert.ok(longestMs < 50, `the longest turn took ${longestMs} ms`);
    assert.deepEqual([...cache.index.keys()].sort(), many.slice(-BOUND).map((entry) => entry.key).sort(), 'the newest are what is left');
  });
});

describe('L1b index bound at open', () => {
  it('a journal or a store with more entries than the bound opens within it, reading no entry beyond it', async () => {
    const temp = await tempDir('l1b-bound-open');
    const store = await openEmbeddedStore(temp.dir, { maxEntries: 100_000, ttlSeconds: 0 }, { name: 'semantic' });
    const indexDir = `${temp.dir}/index`;
    const options = { store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, deferEmbedding: false };
    try {
      const unbounded = await SemanticCache.open({ ...options, indexDir });
      for (let n = 0; n < 300; n++) await unbounded.insert('p', text(n), answer(n));
      await unbounded.close();

      // The journal holds 300: the excess leaves before the cache serves.
      const fromJournal = await SemanticCache.open({ ...options, indexDir, maxIndexed: 50 });
      assert.equal(fromJournal.size, 50);
      assert.equal((await fromJournal.lookup('p', text(299))).hit, true);
      await fromJournal.close();

      // No journal: rebuilt from the store, which is read only as far as the bound.
      let reads = 0;
      const get = store.get.bind(store);
      store.get = (key) => {
        reads++;
        return get(key);
      };
      const rebuilt = await SemanticCache.open({ ...options, maxIndexed: 50 });
      assert.equal(rebuilt.size, 50);
      assert.ok(reads <= 50, `${reads} entries read`);
      assert.equal(store.size(), 300);
      await rebuilt.close();
    } finally {
      await store.close();
      await temp.cleanup();
    }
  });
});
