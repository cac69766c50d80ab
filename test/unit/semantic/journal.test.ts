// The L1b index on disk grows by appends, and upkeep over many entries leaves room for other work.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { SemanticCache } from '../../../src/core/semantic/cache';
import { VectorIndex } from '../../../src/core/semantic/index';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import { tempDir } from './helpers';
import { turnCounter } from '../../fixtures/turnCounter';

const answer = { api: 'openai.chat' as const, body: { id: 'stored' }, usage: ZERO_USAGE, createdAt: 1 };

describe('L1b index persistence', () => {
  it('appends one record per new entry instead of rewriting the whole index', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal');
    const store = await openEmbeddedStore(join(dir, 'store'), { maxEntries: 1000, ttlSeconds: 0 }, { name: 'semantic' });
    const embedder = createLexicalEmbedder();
    const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), saveDelayMs: 60_000, deferEmbedding: false });
    const journalBytes = async (): Promise<number> => (await stat(join(dir, 'index', 'vectors.journal'))).size;
    try {
      for (let i = 0; i < 200; i++) await cache.insert('p', `How do I configure service ${i} for tenant ${i * 7}?`, answer);
      await cache.flush();
      const before = await journalBytes();
      await cache.insert('p', 'How do I configure the last service?', answer);
      await cache.flush();
      const grown = (await journalBytes()) - before;
      const oneVector = embedder.dimensions * 4;
      // One record: the key, the partition and the lexical vector's few non-zero values (sparse).
      assert.ok(grown > 64 && grown < oneVector, `the journal grew by ${grown} bytes for one sparse ${oneVector}-byte vector (of ${before} bytes)`);
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

  it('replays sparse and full records exactly, -0 included, and stores sparse ones in a fraction of the bytes', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-sparse');
    const dimensions = 128;
    const embedder = createLexicalEmbedder();
    const sparse = Array.from({ length: 300 }, (_, i) => embedder.embedSync(`How do I configure service ${i} for tenant ${i * 7} on ${i % 3 ? 'linux' : 'windows'}?`));
    const full = Array.from({ length: 50 }, (_, i) => Float32Array.from({ length: dimensions }, (_, d) => Math.sin(i * 31 + d)));
    const edge = Float32Array.from(sparse[0]!);
    edge[127] = -0;
    const vectors = [...sparse, ...full, edge, new Float32Array(dimensions)];
    try {
      const first = await VectorJournal.open(dir, 'test-embedder', dimensions);
      await first.journal.rewrite(vectors.map((vector, i) => ({ key: `l1b:p:${i}`, partition: 'p', label: BigInt(i + 1), vector })));
      first.journal.recordAdd({ key: 'l1b:p:0', partition: 'p', label: 999n, vector: full[0]! }); // a full record replaces a sparse one
      vectors[0] = full[0]!;
      await first.journal.close();
      const size = (await stat(join(dir, 'vectors.journal'))).size;
      assert.ok(size < 351 * dimensions * 4 * 0.35 + 51 * dimensions * 4, `${size} bytes`);
      const reopened = await VectorJournal.open(dir, 'test-embedder', dimensions);
      const keys: string[] = [];
      for (const entry of reopened.entries!) {
        const i = Number(entry.key.split(':')[2]);
        keys.push(entry.key);
        assert.ok([...entry.vector].every((x, d) => Object.is(x, vectors[i]![d])), entry.key);
      }
      await reopened.journal.close();
      assert.equal(keys.length, vectors.length);
      assert.equal(keys.at(-1), 'l1b:p:0', 'in the order of the last add');
    } finally {
      await cleanup();
    }
  });

  it('replays into an index through addSparse exactly as through add: same entries, order, bits and neighbours', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-add-sparse');
    const dimensions = 128;
    const embedder = createLexicalEmbedder();
    const sparse = Array.from({ length: 300 }, (_, i) => embedder.embedSync(`How do I configure service ${i} for tenant ${i * 7} on ${i % 3 ? 'linux' : 'windows'}?`));
    // Too many values for a sparse row (33..84 stay sparse in the journal, full in the index), full ones, -0, all zeros.
    const wide = Array.from({ length: 20 }, (_, i) => Float32Array.from({ length: dimensions }, (_, d) => (d % 3 === 0 ? Math.cos(i + d) : 0)));
    const full = Array.from({ length: 30 }, (_, i) => Float32Array.from({ length: dimensions }, (_, d) => Math.sin(i * 31 + d)));
    const edge = Float32Array.from(sparse[0]!);
    edge[127] = -0;
    const vectors = [...sparse, ...wide, ...full, edge, new Float32Array(dimensions)];
    try {
      const first = await VectorJournal.open(dir, 'test-embedder', dimensions);
      await first.journal.rewrite(vectors.map((vector, i) => ({ key: `l1b:p${i % 3}:${i}`, partition: `p${i % 3}`, label: BigInt(i + 1), vector })));
      for (let i = 0; i < vectors.length; i += 7) first.journal.recordRemove(`l1b:p${i % 3}:${i}`);
      for (let i = 1; i < vectors.length; i += 11) first.journal.recordAdd({ key: `l1b:p${i % 3}:${i}`, partition: `p${i % 3}`, label: BigInt(1000 + i), vector: vectors[(i * 5) % vectors.length]! });
      await first.journal.close();
      const replayInto = async (withSparse: boolean): Promise<VectorIndex> => {
        const index = new VectorIndex({ dimensions, annMinEntries: 1_000_000 });
        const { journal } = await VectorJournal.openInto(dir, 'test-embedder', dimensions, {
          add: (key, partition, label, vector) => void index.add(partition, key, vector, label),
          ...(withSparse ? { addSparse: (key: string, partition: string, label: bigint, positions: Uint16Array, values: Float32Array, count: number) => void index.addSparse(partition, key, positions, values, count, label) } : {}),
          remove: (key) => index.remove(key),
        });
        await journal.close();
        return index;
      };
      const dense = await replayInto(false);
      const viaSparse = await replayInto(true);
      const dump = (index: VectorIndex): unknown[] => [...index.entries()].map((e) => [e.key, e.partition, e.label, [...e.vector].map((x) => (Object.is(x, -0) ? '-0' : x))]);
      assert.equal(viaSparse.size, dense.size);
      assert.deepEqual(dump(viaSparse), dump(dense));
      for (const query of [sparse[5]!, wide[3]!, full[2]!, edge]) {
        for (const partition of ['p0', 'p1', 'p2']) assert.deepEqual(viaSparse.nearest(partition, query, 5), dense.nearest(partition, query, 5));
      }
    } finally {
      await cleanup();
    }
  });

  it('lets other work in during the replay while asked to, with the same result', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-yield');
    const embedder = createLexicalEmbedder();
    const count = 10_000;
    try {
      const first = await VectorJournal.open(dir, 'test-embedder', embedder.dimensions);
      await first.journal.rewrite(Array.from({ length: count }, (_, i) => ({ key: `l1b:p:${i}`, partition: 'p', label: BigInt(i + 1), vector: embedder.embedSync(`How do I configure service ${i} for tenant ${i * 7}?`) })));
      await first.journal.close();
      // Counts the records before which a turn of the event loop ran, since the previous record.
      const replay = async (yieldWhile?: () => boolean): Promise<{ keys: string[]; interrupted: number }> => {
        let turns = 0;
        let replaying = true;
        const tick = (): void => void (replaying && (turns++, setImmediate(tick)));
        setImmediate(tick);
        const keys: string[] = [];
        let seen = -1;
        let interrupted = 0;
        const add = (key: string): void => {
          if (seen >= 0 && turns !== seen) interrupted++;
          seen = turns;
          keys.push(key);
        };
        const { journal } = await VectorJournal.openInto(dir, 'test-embedder', embedder.dimensions, { add, remove: () => undefined }, yieldWhile);
        replaying = false;
        await journal.close();
        return { keys, interrupted };
      };
      const alone = await replay();
      let asked = 0;
      const yielding = await replay(() => ++asked <= 2);
      assert.equal(asked, Math.floor(count / 2048), 'asked every 2,048 records');
      assert.deepEqual(yielding.keys, alone.keys);
      assert.equal(alone.interrupted, 0, 'without being asked the replay runs in one go');
      assert.equal(yielding.interrupted, 2, 'one turn each time it was asked and said yes');
    } finally {
      await cleanup();
    }
  });

  it('opens a version 3 journal (full vectors only) and rewrites it as the current version at the next flush', async () => {
    const { dir, cleanup } = await tempDir('l1b-journal-v3');
    const embedder = createLexicalEmbedder();
    const dimensions = embedder.dimensions;
    const texts = Array.from({ length: 40 }, (_, i) => `How do I configure service ${i} for tenant ${i * 7}?`);
    // The version 3 format, written here byte by byte: magic, header length and JSON, then frames of
    // payload length, crc32 and payload (op 1, key, partition, label, the full float32 vector).
    const json = Buffer.from(JSON.stringify({ embedder: embedder.id, dimensions }));
    const parts: Buffer[] = [Buffer.from('ISARVJ03', 'latin1'), Buffer.alloc(4), json];
    parts[1]!.writeUInt32LE(json.length);
    const record = (key: string, vector: Float32Array, label: number): Buffer => {
      const k = Buffer.from(key);
      const payload = Buffer.concat([Buffer.from([1]), Buffer.alloc(2), k, Buffer.from([1, 0]), Buffer.from('p'), Buffer.alloc(8), Buffer.from(vector.buffer.slice(0))]);
      payload.writeUInt16LE(k.length, 1);
      payload.writeBigUInt64LE(BigInt(label), 3 + k.length + 3);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(payload.length, 0);
      head.writeUInt32LE(crc32(payload), 4);
      return Buffer.concat([head, payload]);
    };
    texts.forEach((text, i) => parts.push(record(`l1b:p:${i}`, embedder.embedSync(text), i + 1)));
    const path = join(dir, 'index', 'vectors.journal');
    try {
      await mkdir(join(dir, 'index'));
      await writeFile(path, Buffer.concat(parts));
      const opened = await VectorJournal.open(join(dir, 'index'), embedder.id, dimensions);
      const replayed = [...opened.entries!].map((entry) => entry.key);
      assert.equal(replayed.length, texts.length);
      for (const entry of opened.entries!) assert.deepEqual([...entry.vector], [...embedder.embedSync(texts[Number(entry.key.split(':')[2])]!)]);
      assert.equal(opened.journal.wantsRewrite(texts.length), true, 'a version 3 journal is rewritten before anything is appended');
      await opened.journal.close();
      assert.equal((await readFile(path)).subarray(0, 8).toString('latin1'), 'ISARVJ03', 'closing without a flush leaves it as it was');

      // Through the cache: it opens the old journal as its snapshot, then the first flush migrates it.
      const store = await openEmbeddedStore(join(dir, 'store'), { maxEntries: 1000, ttlSeconds: 0 }, { name: 'semantic' });
      const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), saveDelayMs: 60_000, deferEmbedding: false });
      await cache.insert('p', 'How do I configure the last service?', answer);
      await cache.flush();
      await cache.close();
      await store.close();
      assert.equal((await readFile(path)).subarray(0, 8).toString('latin1'), 'ISARVJ05');
      const migrated = await VectorJournal.open(join(dir, 'index'), embedder.id, dimensions);
      assert.ok((migrated.entries?.length ?? 0) >= 1);
      assert.equal(migrated.journal.wantsRewrite(migrated.entries!.length), false);
      await migrated.journal.close();
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
      const counter = turnCounter();
      const { removed } = await cache.reconcile();
      counter.stop();
      assert.equal(removed, 3000);
      assert.equal(cache.index.size, 0);
      assert.ok(counter.now() >= 5, `other work got ${counter.now()} turns while 3000 entries were removed`);
    } finally {
      await cache.close();
      await store.close();
      await cleanup();
    }
  });
});
