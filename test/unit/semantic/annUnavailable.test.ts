/**
 * A platform where usearch publishes no binary (win32-x64): partitions past the graph threshold keep
 * the exact scan, answer the same nearest neighbours, and the reason is reported once.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type * as Usearch from 'usearch';
import { annUnavailableReason, setUsearchLoaderForTests, VectorIndex } from '../../../src/core/semantic/index';

after(() => setUsearchLoaderForTests(() => require('usearch') as typeof Usearch));

function seededVectors(count: number, dimensions: number): Float32Array[] {
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: count }, () => {
    const vector = Float32Array.from({ length: dimensions }, random);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}

it('without usearch a large partition is searched exactly and says why', () => {
  setUsearchLoaderForTests(() => {
    throw new Error('No native build was found for platform=win32 arch=x64');
  });
  const vectors = seededVectors(200, 16);
  const index = new VectorIndex({ dimensions: 16, annMinEntries: 64 });
  vectors.forEach((vector, i) => index.add('p', `k${i}`, vector));
  const wrong = vectors.filter((vector, i) => index.nearest('p', vector, 1)[0]?.key !== `k${i}`).length;
  assert.equal(wrong, 0);
  assert.match(annUnavailableReason() ?? '', /No native build was found/);
  assert.equal([...index.graphs()].length, 0, 'no graph was built');
});
