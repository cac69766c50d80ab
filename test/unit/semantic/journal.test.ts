// The L1b index on disk grows by appends, and upkeep over many entries leaves room for other work.
import assert from 'node:assert/strict';
import { appendFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { SemanticCache } from '../../../src/core/semantic/cache';
import { VectorIndex } from '../../../src/core/semantic/index';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import { tempDir } from './helpers';

const answer = { api: 'openai.chat' as const, body: { id: 'stored' }, usage: ZERO_USAGE, createdAt: 1 };

describe('L1b index persistence', () => {
  it('appends one record per new entry instead of rewriting the whole index', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal');
    const store = await openEmbeddedStore(join(dir, 'store'), { maxEntries: 1000, ttlSeconds: 0 }, { name: 'semantic' });
    const embedder = createLexicalEmbedder();
    const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), saveDelayMs: 60_000 });
    const journalBytes = async (): Promise<number> => (await stat(join(dir, 'index', 'vectors.journal'))).size;
    try {
      for (let i = 0; i < 200; i++) await cache.insert('p', `How do I configure service ${i} for tenant ${i * 7}?`, answer);
      await cache.flush();
      const before = await journalBytes();
      await cache.insert('p', 'How do I configure the last service?', answer);
      await cache.flush();
      const grown = (await journalBytes()) - before;
      const oneVector = embedder.dimensions * 4;
      assert.ok(grown > oneVector && grown < 2 * oneVector, `the journal grew by ${grown} bytes for one ${oneVector}-byte vector (of ${before} bytes)`);
    } finally {
      await cache.close();
      await store.close();
      await cleanup();
    }
  });

  it('replays a multi-megabyte journal exactly: every live vector, in the order of its last add, without a torn tail', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-replay');
    const dimensions = 64;
    const vectorOf = (i: number, round: number): Float32Array => Float32Array.from({ length: dimensions }, (_, d) => Math.sin(i * 31 + d * 7 + round * 1000));
    // Keys of varying length (some over a kilobyte), so records straddle the replay's read window.
    const keyOf = (i: number): string => `l1b:p${i % 5}:${i}:${'x'.repeat(i % 97 === 0 ? 1500 : i % 13)}`;
    const count = 6000;
    try {
      const first = await VectorJournal.open(dir, 'test-embedder', dimensions);
      await first.journal.rewrite(Array.from({ length: count }, (_, i) => ({ key: keyOf(i), partition: `p${i % 5}`, label: BigInt(i + 1), vector: vectorOf(i, 0) })));
      const expected = new Map<string, { partition: string; label: bigint; vector: Float32Array }>();
      for (let i = 0; i < count; i++) expected.set(keyOf(i), { partition: `p${i % 5}`, label: BigInt(i + 1), vector: vectorOf(i, 0) });
      for (let i = 0; i < count; i += 4) {
        first.journal.recordRemove(keyOf(i));
        expected.delete(keyOf(i));
      }
      for (let i = 1; i < count; i += 9) {
        first.journal.recordAdd({ key: keyOf(i), partition: `p${i % 5}`, label: BigInt(count + i), vector: vectorOf(i, 1) });
        expected.delete(keyOf(i));
        expected.set(keyOf(i), { partition: `p${i % 5}`, label: BigInt(count + i), vector: vectorOf(i, 1) });
      }
      await first.journal.close();
      const path = join(dir, 'vectors.journal');
      const size = (await stat(path)).size;
      assert.ok(size > 2 * 1024 * 1024, `journal of ${size} bytes spans several read windows`);
      await appendFile(path, Buffer.from([200, 1, 0, 0, 1, 2, 3])); // a torn record
      const reopened = await VectorJournal.open(dir, 'test-embedder', dimensions);
      assert.equal(reopened.entries?.length, expected.size);
      const replayed = [...reopened.entries!].length === expected.size ? [] : ['count'];
      const wanted = [...expected];
      let at = 0;
      for (const entry of reopened.entries!) {
        const [key, want] = wanted[at++]!;
        assert.equal(entry.key, key);
        assert.equal(entry.partition, want.partition);
        assert.equal(entry.label, want.label);
        assert.deepEqual([...entry.vector], [...want.vector], key);
      }
      assert.deepEqual(replayed, []);
      await reopened.journal.close();
      assert.equal((await stat(path)).size, size, 'the torn tail was cut');
    } finally {
      await cleanup();
    }
  });

  it('a rewrite saves each entry\'s vector as it was when asked, though the index reuses its row meanwhile', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-rewrite');
    const dimensions = 16;
    const vectorOf = (i: number): Float32Array => Float32Array.from({ length: dimensions }, (_, d) => Math.cos(i * 13 + d));
    try {
      const index = new VectorIndex({ dimensions });
      for (let i = 0; i < 10; i++) index.add('p', `k${i}`, vectorOf(i));
      const first = await VectorJournal.open(dir, 'test-embedder', dimensions);
      const rewritten = first.journal.rewrite(index.entries());
      // Before the rewrite's writes run: k0's row goes to a new entry.
      index.remove('k0');
      index.add('p', 'k10', vectorOf(10));
      await rewritten;
      await first.journal.close();
      const reopened = await VectorJournal.open(dir, 'test-embedder', dimensions);
      const saved = new Map<string, number[]>();
      for (const entry of reopened.entries!) saved.set(entry.key, [...entry.vector]); // copy: replay reuses one array
      await reopened.journal.close();
      assert.equal(saved.size, 10);
      for (let i = 0; i < 10; i++) assert.deepEqual(saved.get(`k${i}`), [...vectorOf(i)], `k${i}`);
    } finally {
      await cleanup();
    }
  });

  it('after a restart, a flush appends to a large journal rather than rewriting it', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-reopen');
    const dimensions = 128;
    const vector = new Float32Array(dimensions).fill(1 / Math.sqrt(dimensions));
    // Past the 4 MiB below which the journal is never rewritten, all records live.
    const count = 8000;
    try {
      const first = await VectorJournal.open(dir, 'test-embedder', dimensions);
      await first.journal.rewrite(Array.from({ length: count }, (_, i) => ({ key: `l1b:p:${i}`, partition: 'p', label: BigInt(i + 1), vector })));
      await first.journal.close();
      const path = join(dir, 'vectors.journal');
      const size = (await stat(path)).size;
      assert.ok(size > 4 * 1024 * 1024, `journal of ${size} bytes`);
      const reopened = await VectorJournal.open(dir, 'test-embedder', dimensions);
      assert.equal(reopened.entries?.length, count);
      assert.equal(reopened.journal.wantsRewrite(count - 1), false, 'a journal of live records needs no rewrite');
      reopened.journal.recordRemove('l1b:p:0');
      await reopened.journal.close();
      assert.ok((await stat(path)).size > size, 'the remove was appended');
    } finally {
      await cleanup();
    }
  });

  it('drops thousands of evicted entries in steps, letting other work run between them', async () => {
    const { dir, cleanup } = await tempDir('l1b-steps');
    const store = await openEmbeddedStore(join(dir, 'store'), { maxEntries: 10, ttlSeconds: 0 }, { name: 'semantic' });
    const embedder = createLexicalEmbedder();
    const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger });
    try {
      // Entries the store no longer has (as after its LRU evicted them).
      for (let i = 0; i < 3000; i++) cache.index.add(`p${i % 3}`, `l1b:p${i % 3}:gone-${i}`, await embedder.embed(`evicted question ${i}`));
      let turns = 0;
      let counting = true;
      const tick = (): void => {
        turns++;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      const { removed } = await cache.reconcile();
      counting = false;
      assert.equal(removed, 3000);
      assert.equal(cache.index.size, 0);
      assert.ok(turns >= 5, `other work got ${turns} turns while 3000 entries were removed`);
    } finally {
      await cache.close();
      await store.close();
      await cleanup();
    }
  });
});
