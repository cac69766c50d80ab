// Non-finite vectors: never looked up, stored or indexed, and never able to spoil other lookups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardFinite, isFiniteVector, normalizeInPlace, NonFiniteVectorError, type Embedder } from '../../../src/core/embed/embedder';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { silentLogger } from '../../../src/core/logger';
import { ZERO_USAGE } from '../../../src/core/outcome';
import { SemanticCache } from '../../../src/core/semantic/cache';
import { VectorIndex } from '../../../src/core/semantic/index';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import { tempDir } from './helpers';

const answer = { api: 'openai.chat' as const, body: {}, usage: ZERO_USAGE, createdAt: 0 };
const nanVector = (dimensions: number): Float32Array => new Float32Array(dimensions).fill(Number.NaN);

function seededVectors(count: number, dimensions: number): Float32Array[] {
  let state = 3;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => normalizeInPlace(Float32Array.from({ length: dimensions }, next)));
}

describe('non-finite vectors', () => {
  it('isFiniteVector spots NaN and infinities', () => {
    assert.equal(isFiniteVector(Float32Array.of(0, 1)), true);
    assert.equal(isFiniteVector(Float32Array.of(0, Number.NaN)), false);
    assert.equal(isFiniteVector(Float32Array.of(Number.POSITIVE_INFINITY, 0)), false);
  });

  for (const annMinEntries of [100_000, 64]) {
    it(`one NaN vector in the index spoils no later lookup (${annMinEntries === 64 ? 'HNSW' : 'exact scan'})`, () => {
      const vectors = seededVectors(300, 16);
      const index = new VectorIndex({ dimensions: 16, annMinEntries });
      vectors.slice(0, 150).forEach((vector, i) => index.add('p', `k${i}`, vector));
      assert.equal(index.add('p', 'poison', nanVector(16)), undefined, 'a NaN vector is refused');
      vectors.slice(150).forEach((vector, i) => index.add('p', `k${i + 150}`, vector));
      assert.equal(index.has('poison'), false);
      const wrong = vectors.filter((vector, i) => index.nearest('p', vector, 1)[0]?.key !== `k${i}`).length;
      assert.equal(wrong, 0);
      assert.deepEqual(index.nearest('p', nanVector(16), 3), [], 'a NaN query finds nothing');
    });
  }

  it('a NaN query vector is a miss even at the most lenient threshold, and is never stored', async () => {
    const temp = await tempDir('l1b-nan');
    const store = await openEmbeddedStore(temp.dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    try {
      const embedder = createLexicalEmbedder();
      const cache = await SemanticCache.open({ store, embedder, threshold: -1, logger: silentLogger });
      await cache.insert('p', 'How do I sort a list?', answer);
      const result = await cache.lookup('p', 'How do I sort a list?', nanVector(embedder.dimensions));
      assert.equal(result.hit, false);
      await cache.insert('p', 'poison', answer, nanVector(embedder.dimensions));
      assert.equal(cache.size, 1);
      assert.equal((await cache.lookup('p', 'How do I sort a list?')).hit, true);
    } finally {
      await store.close();
      await temp.cleanup();
    }
  });

  it('a NaN threshold fails every comparison', async () => {
    const temp = await tempDir('l1b-nan-threshold');
    const store = await openEmbeddedStore(temp.dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    try {
      const cache = await SemanticCache.open({ store, embedder: createLexicalEmbedder(), threshold: Number.NaN, logger: silentLogger });
      await cache.insert('p', 'How do I sort a list?', answer);
      assert.equal((await cache.lookup('p', 'How do I sort a list ?')).hit, false);
    } finally {
      await store.close();
      await temp.cleanup();
    }
  });

  it('guardFinite turns a NaN embedding into an error', async () => {
    const broken: Embedder = { id: 'broken', dimensions: 2, defaultThreshold: 0.9, embed: async () => Float32Array.of(Number.NaN, 0) };
    await assert.rejects(guardFinite(broken).embed('x'), NonFiniteVectorError);
  });
});
