// Entries no lookup could have been compared with are stored without their vector and embedded at
// their group's first lookup (issue 15): they are still found, across restarts and while the index
// opens, and leave the gate counts and the journal when the store evicts them.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { cacheBackend } from '../../../src/core/semantic/backend';
import { SemanticCache, type SemanticCacheOptions } from '../../../src/core/semantic/cache';
import { entryKey, readEntry } from '../../../src/core/semantic/entries';
import { gateKeyOf } from '../../../src/core/semantic/gateKeys';
import { GateView } from '../../../src/core/semantic/gateTable';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import type { KeyValueStore } from '../../../src/core/store/store';
import { tempDir } from './helpers';

const answer = (id: string) => ({ api: 'openai.chat' as const, body: { id }, usage: ZERO_USAGE, createdAt: 1 });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
/** Turns with their own numbers: each its own gate key. */
const numbered = (i: number): string => `How do I rotate the logs of service ${i} on host ${i * 7}?`;
/** Turns with no code, numbers, identifiers or symbols: all one gate key. */
const plain = ['how do i reverse a linked list in place', 'how do i read a file line by line', 'how do i undo the last commit', 'how do i sort a dictionary by value', 'how do i center a div on a page', 'how do i parse a date string'];

async function withStore<T>(dir: string, maxEntries: number, run: (store: KeyValueStore) => Promise<T>): Promise<T> {
  const store = await openEmbeddedStore(join(dir, 'store'), { maxEntries, ttlSeconds: 0 }, { name: 'semantic' });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

function options(store: KeyValueStore, dir: string, extra: Partial<SemanticCacheOptions> = {}): SemanticCacheOptions {
  const embedder = createLexicalEmbedder();
  return { store, embedder, threshold: embedder.defaultThreshold, logger: silentLogger, indexDir: join(dir, 'index'), ...extra };
}

const mayHold = (cache: SemanticCache, text: string): boolean => new GateView(cache.gateCountsBuffer!).mayHold('p', gateKeyOf(text));

describe('L1b entries stored before they are embedded', () => {
  it('stores a turn no lookup embedded without its vector, counts it for the main thread, and embeds it at its group\'s first lookup', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending');
    try {
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        await cache.insert('p', numbered(3), answer('three'));
        assert.deepEqual([cache.size, cache.index.size, cache.pendingSize], [1, 0, 1]);
        assert.equal((await readEntry(store, entryKey('p', numbered(3))))?.vector.length, 0, 'stored without a vector');
        assert.equal(mayHold(cache, numbered(3)), true, 'the main thread asks the worker about its gate key');
        assert.equal(mayHold(cache, numbered(4)), false);

        const other = await cache.lookup('p', numbered(4));
        assert.equal(other.hit, false);
        assert.equal(cache.pendingSize, 1, 'a lookup of another gate key embeds nothing');

        const found = await cache.lookup('p', numbered(3).toLowerCase().replace('?', ''));
        assert.equal(found.hit, true);
        assert.equal(found.hit && found.entry.answer.body.id, 'three');
        assert.deepEqual([cache.size, cache.index.size, cache.pendingSize], [1, 1, 0]);
        assert.equal(mayHold(cache, numbered(3)), true, 'counted once, now as an indexed entry');
        await cache.close();
      });
      const saved = await VectorJournal.open(join(dir, 'index'), createLexicalEmbedder().id, 128);
      assert.deepEqual([saved.entries?.length, saved.pendingKeys.size], [1, 0], 'the journal\'s add supersedes its pending record');
      await saved.journal.close();
    } finally {
      await cleanup();
    }
  });

  it('stores a turn its lookup embedded with that vector, as before', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-looked-up');
    try {
      await withStore(dir, 100, async (store) => {
        const embedder = createLexicalEmbedder();
        const cache = await SemanticCache.open(options(store, dir, { embedder }));
        const backend = cacheBackend({ cache, embedder, store, threshold: embedder.defaultThreshold });
        assert.equal((await backend.lookup('p', numbered(5))).hit, false);
        await backend.insert('p', numbered(5), answer('five'));
        assert.deepEqual([cache.index.size, cache.pendingSize], [1, 0]);
        assert.equal((await readEntry(store, entryKey('p', numbered(5))))?.vector.length, embedder.dimensions);
        await backend.close();
      });
    } finally {
      await cleanup();
    }
  });

  it('embeds at insert when deferring is off', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-off');
    try {
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir, { deferEmbedding: false }));
        await cache.insert('p', numbered(6), answer('six'));
        assert.deepEqual([cache.index.size, cache.pendingSize], [1, 0]);
        await cache.close();
      });
    } finally {
      await cleanup();
    }
  });

  it('keeps pending entries across a restart from the journal, and answers them while the index still opens', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-restart');
    try {
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        for (let i = 0; i < 40; i++) await cache.insert('p', numbered(i), answer(`n${i}`));
        assert.equal(cache.pendingSize, 40);
        await cache.close();
      });
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.openForLookups(options(store, dir));
        assert.equal(cache.origin, 'snapshot');
        assert.equal(cache.pendingSize, 40, 'from the journal, before the store is walked');
        const early = await cache.lookup('p', numbered(12).toLowerCase());
        assert.equal(early.hit && early.entry.answer.body.id, 'n12');
        await cache.indexed;
        assert.equal(cache.pendingSize, 40, 'found without being indexed while opening');
        assert.equal(mayHold(cache, numbered(20)), true, 'replayed pending entries are counted once the open is done');
        assert.equal(mayHold(cache, numbered(99)), false);
        const later = await cache.lookup('p', numbered(13).toLowerCase());
        assert.equal(later.hit && later.entry.answer.body.id, 'n13');
        assert.deepEqual([cache.size, cache.pendingSize], [40, 39]);
        await cache.close();
      });
      // Without the journal the store's keys say the same.
      await writeFile(join(dir, 'index', 'vectors.journal'), 'damaged');
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.openForLookups(options(store, dir));
        assert.equal(cache.origin, 'rebuilt');
        assert.deepEqual([cache.size, cache.pendingSize], [40, 40], 'stored without a vector, all wait again, the one a lookup embedded too');
        const found = await cache.lookup('p', numbered(13).toLowerCase());
        assert.equal(found.hit && found.entry.answer.body.id, 'n13');
        await cache.close();
      });
    } finally {
      await cleanup();
    }
  });

  it('lets an evicted pending entry go from the counts and the journal', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-evicted');
    try {
      await withStore(dir, 2, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        for (let i = 0; i < 3; i++) await cache.insert('p', numbered(i), answer(`n${i}`));
        await settle();
        assert.deepEqual([store.size(), cache.pendingSize], [2, 2]);
        assert.equal(mayHold(cache, numbered(0)), false, 'the evicted entry no longer counts');
        assert.equal(mayHold(cache, numbered(2)), true);
        assert.equal((await cache.lookup('p', numbered(0).toLowerCase())).hit, false);
        await cache.close();
      });
      const saved = await VectorJournal.open(join(dir, 'index'), createLexicalEmbedder().id, 128);
      assert.deepEqual([...saved.pendingKeys].sort(), [entryKey('p', numbered(1)), entryKey('p', numbered(2))].sort());
      await saved.journal.close();
    } finally {
      await cleanup();
    }
  });

  it('finds every entry of one group for lookups made at once, and embeds at most 16 per lookup', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-group');
    try {
      assert.equal(new Set(plain.map(gateKeyOf)).size, 1, 'the turns share a gate key');
      await withStore(dir, 1000, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        for (const [i, text] of plain.entries()) await cache.insert('p', text, answer(`plain${i}`));
        const found = await Promise.all(plain.map((text) => cache.lookup('p', `${text}?`)));
        assert.deepEqual(found.map((result) => result.hit && result.entry.answer.body.id), plain.map((_, i) => `plain${i}`));
        assert.equal(cache.pendingSize, 0);

        for (let i = 0; i < 20; i++) await cache.insert('q', `how do i write test case ${'abcdefghij'[i % 10]} for the parser in variant ${'kl'[Math.floor(i / 10)]}`, answer(`q${i}`));
        assert.equal(cache.pendingSize, 20);
        await cache.lookup('q', 'how do i write test case a for the parser in variant k');
        assert.equal(cache.pendingSize, 4);
        await cache.close();
      });
    } finally {
      await cleanup();
    }
  });

  it('empties with clear', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-clear');
    try {
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        await cache.insert('p', numbered(1), answer('one'));
        await store.clear();
        await cache.clear();
        assert.deepEqual([cache.size, cache.pendingSize], [0, 0]);
        assert.equal(mayHold(cache, numbered(1)), false);
        await cache.close();
      });
    } finally {
      await cleanup();
    }
  });

  it('opens a version 4 journal and rewrites it as version 5 with the pending entries', async () => {
    const { dir, cleanup } = await tempDir('l1b-pending-v4');
    const path = join(dir, 'index', 'vectors.journal');
    try {
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir, { deferEmbedding: false }));
        for (let i = 0; i < 5; i++) await cache.insert('p', numbered(i), answer(`n${i}`));
        await cache.close();
      });
      // Version 4 is version 5 without pending records: only the magic differs.
      const bytes = await readFile(path);
      assert.equal(bytes.subarray(0, 8).toString('latin1'), 'ISARVJ05');
      bytes.write('ISARVJ04', 0, 'latin1');
      await writeFile(path, bytes);
      await withStore(dir, 100, async (store) => {
        const cache = await SemanticCache.open(options(store, dir));
        assert.equal(cache.origin, 'snapshot');
        assert.equal(cache.index.size, 5);
        await cache.insert('p', numbered(9), answer('n9'));
        await cache.close();
      });
      assert.equal((await readFile(path)).subarray(0, 8).toString('latin1'), 'ISARVJ05');
      const saved = await VectorJournal.open(join(dir, 'index'), createLexicalEmbedder().id, 128);
      assert.deepEqual([saved.entries?.length, [...saved.pendingKeys]], [5, [entryKey('p', numbered(9))]]);
      await saved.journal.close();
    } finally {
      await cleanup();
    }
  });
});
