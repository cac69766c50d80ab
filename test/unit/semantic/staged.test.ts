// The journal's replay staged in typed arrays (no string, Map or Set per key before the first
// answer) gives the same index as replaying into the key maps: same neighbours and scores, in the
// same order, before, while and after the entries move into the maps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorIndex } from '../../../src/core/semantic/index';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { tempDir } from './helpers';

const dimensions = 128;

/** A journal with every kind of record: sparse, too wide for a sparse row, dense, -0, zero, NaN, removes, re-adds. */
async function writeJournal(dir: string): Promise<Float32Array[]> {
  const sparse = Array.from({ length: 300 }, (_, i) => {
    const vector = new Float32Array(dimensions);
    for (let j = 0; j < 12; j++) vector[(i * 7 + j * 13) % dimensions] = Math.sin(i + j) || 0.5;
    return vector;
  });
  const wide = Array.from({ length: 20 }, (_, i) => Float32Array.from({ length: dimensions }, (_, d) => (d % 3 === 0 ? Math.cos(i + d) : 0)));
  const full = Array.from({ length: 30 }, (_, i) => Float32Array.from({ length: dimensions }, (_, d) => Math.sin(i * 31 + d)));
  const edge = Float32Array.from(sparse[0]!);
  edge[127] = -0;
  const twin = Float32Array.from(sparse[3]!); // the same vector under other keys: ties keep the scan order
  const vectors = [...sparse, ...wide, ...full, edge, new Float32Array(dimensions), twin, twin, twin];
  const keyOf = (i: number): string => `l1b:p${i % 3}:${i}:${i % 10 === 0 ? 'é→𝄞'.repeat(i % 7) : 'x'.repeat(i % 5)}`;
  const { journal } = await VectorJournal.open(dir, 'test-embedder', dimensions);
  // The largest label goes to a record that is removed later: the next label must still be above it.
  await journal.rewrite(vectors.map((vector, i) => ({ key: keyOf(i), partition: `p${i % 3}`, label: BigInt(i === 5 ? 90_000 : i + 1), vector })));
  for (let i = 0; i < vectors.length; i += 7) journal.recordRemove(keyOf(i));
  journal.recordRemove(keyOf(5));
  journal.recordRemove('l1b:never:added');
  for (let i = 1; i < vectors.length; i += 11) journal.recordAdd({ key: keyOf(i), partition: `p${i % 3}`, label: BigInt(1000 + i), vector: vectors[(i * 5) % vectors.length]! });
  // A key that moves to another partition, and a partition emptied and then used again.
  journal.recordAdd({ key: keyOf(2), partition: 'moved', label: 2000n, vector: sparse[9]! });
  journal.recordAdd({ key: 'l1b:lone:1', partition: 'lone', label: 2001n, vector: sparse[10]! });
  journal.recordAdd({ key: 'l1b:later:1', partition: 'later', label: 2005n, vector: sparse[14]! });
  journal.recordRemove('l1b:lone:1');
  journal.recordAdd({ key: 'l1b:lone:2', partition: 'lone', label: 2002n, vector: sparse[11]! });
  // A vector that is not finite drops its key and is not added.
  const poisoned = Float32Array.from(sparse[12]!);
  poisoned[40] = Number.NaN;
  journal.recordAdd({ key: keyOf(13), partition: 'p1', label: 2003n, vector: poisoned });
  const poisonedDense = Float32Array.from(full[4]!);
  poisonedDense[2] = Number.POSITIVE_INFINITY;
  journal.recordAdd({ key: keyOf(17), partition: 'p2', label: 2004n, vector: poisonedDense });
  await journal.close();
  return vectors;
}

/** The index replayed as before: every record through add/addSparse/remove and the key maps. */
async function replayIntoMaps(dir: string, annMinEntries = 1_000_000): Promise<VectorIndex> {
  const index = new VectorIndex({ dimensions, annMinEntries });
  index.startBulk();
  const { journal } = await VectorJournal.openInto(dir, 'test-embedder', dimensions, {
    add: (key, partition, label, vector) => void index.add(partition, key, vector, label),
    addSparse: (key, partition, label, positions, values, count) => void index.addSparse(partition, key, positions, values, count, label),
    remove: (key) => index.remove(key),
  });
  await journal.close();
  return index;
}

async function replayStaged(dir: string, annMinEntries = 1_000_000): Promise<VectorIndex> {
  const index = new VectorIndex({ dimensions, annMinEntries });
  index.startBulk();
  const { journal } = await VectorJournal.openInto(dir, 'test-embedder', dimensions, index.stage());
  await journal.close();
  return index;
}

const PARTITIONS = ['p0', 'p1', 'p2', 'moved', 'lone', 'later', 'none'];

function sameSearches(actual: VectorIndex, expected: VectorIndex, queries: Float32Array[], when: string): void {
  assert.equal(actual.size, expected.size, `${when}: size`);
  for (const query of queries) {
    for (const partition of PARTITIONS) {
      for (const k of [1, 5, 500]) assert.deepEqual(actual.nearest(partition, query, k), expected.nearest(partition, query, k), `${when}: ${partition}, k=${k}`);
    }
  }
}

const dump = (index: VectorIndex): unknown[] => [...index.entries()].map((e) => [e.key, e.partition, e.label, [...e.vector].map((x) => (Object.is(x, -0) ? '-0' : x))]);

describe('staged journal replay', () => {
  it('searches exactly as the replay into the key maps before, while and after the entries move into them', async () => {
    const { dir, cleanup } = await tempDir('l1b-staged');
    try {
      const vectors = await writeJournal(dir);
      const queries = [vectors[5]!, vectors[3]!, vectors[310]!, vectors[330]!, vectors[350]!, vectors[0]!];
      const expected = await replayIntoMaps(dir);
      const staged = await replayStaged(dir);
      sameSearches(staged, expected, queries, 'staged');
      let steps = 0;
      while (staged.settleStaged(37)) {
        if (steps++ % 3 === 0) sameSearches(staged, expected, queries, `after ${steps} slices`);
      }
      assert.ok(steps > 3, 'moved in several slices');
      sameSearches(staged, expected, queries, 'settled');
      assert.deepEqual(dump(staged), dump(expected), 'same entries, labels and vectors, in the same order');
      assert.deepEqual([...staged.keys()], [...expected.keys()]);
      assert.equal(staged.add('p0', 'l1b:p0:new', vectors[1]!), expected.add('p0', 'l1b:p0:new', vectors[1]!), 'the next label is the same');
    } finally {
      await cleanup();
    }
  });

  it('moves every staged entry into the maps before any other use, and keeps the partitions in the same order', async () => {
    const { dir, cleanup } = await tempDir('l1b-staged-uses');
    try {
      await writeJournal(dir);
      const expected = await replayIntoMaps(dir);
      const key = [...expected.keys()][10]!;
      const staged = await replayStaged(dir);
      assert.equal(staged.has(key), true, 'has() sees a staged key');
      assert.equal(staged.settleStaged(), false, 'nothing left to move');
      const again = await replayStaged(dir);
      again.remove(key);
      expected.remove(key);
      assert.deepEqual(dump(again), dump(expected), 'remove() of a staged key');
      // The partitions' order shows in their graphs' order once each has one (a partition emptied
      // and used again comes after one created meanwhile).
      const graphOrder = (index: VectorIndex): string[] => {
        index.finishBulk();
        return [...index.graphs()].map((graph) => graph.partition);
      };
      const order = graphOrder(await replayIntoMaps(dir, 1));
      assert.ok(order.indexOf('later') < order.indexOf('lone'), order.join());
      assert.deepEqual(graphOrder(await replayStaged(dir, 1)), order);
    } finally {
      await cleanup();
    }
  });
});
