// The L1b index on disk grows by appends, and upkeep over many entries leaves room for other work.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { SemanticCache } from '../../../src/core/semantic/cache';
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
