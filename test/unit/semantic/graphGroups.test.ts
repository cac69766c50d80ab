// A large partition's graph holds only its large groups (issue 15): a group of one, the usual turn
// with its own numbers or identifiers, is scanned exactly and never added to a graph; a group that
// grows joins the graph whole; entries without a group stay searchable from every group.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeInPlace } from '../../../src/core/embed/embedder';
import { annKey } from '../../../src/core/semantic/annKeys';
import { IdGroups } from '../../../src/core/semantic/idGroups';
import { VectorIndex } from '../../../src/core/semantic/index';

const DIMENSIONS = 16;

function seededVectors(count: number, seed: number): Float32Array[] {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => normalizeInPlace(Float32Array.from({ length: DIMENSIONS }, next)));
}

/** Keys "group/n" belong to group "group"; keys without a slash have no group. */
const groupOf = (key: string): string | undefined => (key.includes('/') ? key.split('/')[0] : undefined);

function graphOf(index: VectorIndex) {
  return [...index.graphs()][0]!.graph;
}

function graphSize(index: VectorIndex): number {
  let size = 0;
  for (const { graph } of index.graphs()) size += graph.size();
  return size;
}

/** The exact top k of `keys`' vectors for `query`, by full dot product. */
function exactTop(entries: Array<[string, Float32Array]>, query: Float32Array, k: number): string[] {
  const scored = entries.map(([key, vector]) => ({ key, similarity: vector.reduce((sum, value, d) => sum + value * query[d]!, 0) }));
  return scored.sort((a, b) => b.similarity - a.similarity).slice(0, k).map((n) => n.key);
}

describe('IdGroups', () => {
  it('keeps sizes and members through adds and removes, a group of one as its id alone', () => {
    const groups = new IdGroups();
    assert.equal(groups.add('a', 1), 1);
    assert.equal(groups.add('a', 1), 1, 'the same id twice is one member');
    assert.equal(groups.add('a', 2), 2);
    assert.equal(groups.add('a', 3), 3);
    assert.equal(groups.add('b', 4), 1);
    assert.deepEqual([...groups.ids('a')], [1, 2, 3]);
    assert.equal(groups.remove('a', 1), 2);
    assert.equal(groups.remove('a', 3), 1);
    assert.deepEqual([...groups.ids('a')], [2]);
    assert.equal(groups.add('a', 5), 2);
    assert.deepEqual([...groups.ids('a')], [2, 5]);
    assert.equal(groups.remove('b', 9), 1, 'an id not in the group changes nothing');
    assert.equal(groups.remove('b', 4), 0);
    assert.equal(groups.size('b'), 0);
    assert.deepEqual([...groups.groups()], [['a', 2, false]]);
    assert.equal(groups.remove('zz', 1), 0);
  });

  it('keeps only the number of a graphed group\'s entries', () => {
    const groups = new IdGroups();
    [7, 8, 9].forEach((id) => groups.add('g', id));
    assert.deepEqual(groups.graph('g'), [7, 8, 9]);
    assert.equal(groups.isGraphed('g'), true);
    assert.deepEqual([...groups.ids('g')], [], 'the graph finds them');
    assert.equal(groups.add('g', 10), 4);
    assert.equal(groups.remove('g', 7), 3);
    assert.deepEqual([...groups.groups()], [['g', 3, true]]);
    [8, 9, 10].forEach((id) => groups.remove('g', id));
    assert.equal(groups.isGraphed('g'), false, 'an emptied group is gone');
    assert.equal(groups.add('g', 11), 1);
    assert.deepEqual([...groups.ids('g')], [11]);
    assert.deepEqual(groups.graph('nothing'), []);
    assert.equal(groups.isGraphed('nothing'), false);
  });
});

describe('VectorIndex with groups', () => {
  const annMinEntries = 40; // groups join the graph at 40 too (under the default 64)

  it('adds no group of one to the graph, and finds each entry by its group exactly', () => {
    const index = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries, groupOf });
    const vectors = seededVectors(200, 5);
    vectors.forEach((vector, i) => index.add('p', `g${i}/0`, vector));
    assert.equal(index.size, 200);
    assert.equal(graphSize(index), 0, '200 groups of one: nothing in a graph');
    assert.equal(index.annPartitions(), 0);
    for (const i of [0, 17, 199]) {
      const found = index.nearest('p', vectors[i]!, 3, `g${i}`);
      assert.deepEqual(found.map((n) => n.key), [`g${i}/0`], 'only its own group is a candidate');
      assert.ok(Math.abs(found[0]!.similarity - 1) < 1e-6);
    }
    assert.deepEqual(index.nearest('p', vectors[3]!, 3, 'unknown'), []);
    // Without a group every entry is a candidate: the exact top 3 of all 200.
    const all = vectors.map((vector, i): [string, Float32Array] => [`g${i}/0`, vector]);
    assert.deepEqual(index.nearest('p', vectors[9]!, 3).map((n) => n.key), exactTop(all, vectors[9]!, 3));
  });

  it('moves a group into the graph when it reaches the size, whole, and its later entries with it', () => {
    const index = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries, groupOf });
    const singles = seededVectors(60, 7);
    singles.forEach((vector, i) => index.add('p', `s${i}/0`, vector));
    const members = seededVectors(60, 9);
    members.slice(0, 39).forEach((vector, i) => index.add('p', `big/${i}`, vector));
    assert.equal(graphSize(index), 0, '39 members: still scanned');
    index.add('p', 'big/39', members[39]!);
    assert.equal(graphSize(index), 40, 'the 40th brings the whole group in');
    members.slice(40).forEach((vector, i) => index.add('p', `big/${40 + i}`, vector));
    assert.equal(graphSize(index), 60);
    const groupEntries = members.map((vector, i): [string, Float32Array] => [`big/${i}`, vector]);
    for (const q of [0, 25, 59]) {
      assert.deepEqual(index.nearest('p', members[q]!, 3, 'big').map((n) => n.key), exactTop(groupEntries, members[q]!, 3));
    }
    // Removing from a graphed group removes from the graph; the group stays graphed below the size.
    for (let i = 0; i < 30; i++) index.remove(`big/${i}`);
    assert.equal(graphSize(index), 30);
    index.add('p', 'big/again', members[0]!);
    assert.equal(graphSize(index), 31);
    assert.equal(index.nearest('p', members[0]!, 1, 'big')[0]!.key, 'big/again');
    index.remove('s3/0');
    assert.deepEqual(index.nearest('p', singles[3]!, 3, 's3'), []);
  });

  it('keeps entries without a group in the graph and offers them to every group', () => {
    const index = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries, groupOf });
    const old = seededVectors(10, 11);
    old.forEach((vector, i) => index.add('p', `old${i}`, vector));
    const singles = seededVectors(50, 13);
    singles.forEach((vector, i) => index.add('p', `s${i}/0`, vector));
    assert.equal(graphSize(index), 10, 'the ten without a group');
    assert.equal(index.nearest('p', old[4]!, 1, 's7')[0]!.key, 'old4', 'an entry without a group answers any group');
    assert.equal(index.nearest('p', singles[7]!, 1, 's7')[0]!.key, 's7/0', 'beside the group\'s own');
    assert.ok(index.nearest('p', singles[7]!, 20, 's7').every((n) => n.key === 's7/0' || n.key.startsWith('old')), 'and no other group');
    index.remove('old4');
    assert.equal(graphSize(index), 9);
  });

  it('without groupOf, graphs every entry of a large partition as before', () => {
    const index = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries });
    seededVectors(50, 15).forEach((vector, i) => index.add('p', `s${i}/0`, vector));
    assert.equal(graphSize(index), 50);
  });

  it('adopts a saved graph whose groups are whole, and builds again one that splits a group', () => {
    const vectors = seededVectors(120, 17);
    // 60 in one group and 60 groups of one; then 25 of the group removed: 35 left, under the size, still graphed.
    const fill = (index: VectorIndex): void => {
      vectors.slice(0, 60).forEach((vector, i) => index.add('p', `big/${i}`, vector, BigInt(i + 1)));
      vectors.slice(60).forEach((vector, i) => index.add('p', `s${i}/0`, vector, BigInt(61 + i)));
      for (let i = 0; i < 25; i++) index.remove(`big/${i}`);
    };
    const reopened = (saved: ReturnType<typeof graphOf>): VectorIndex => {
      const index = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries, groupOf });
      index.bulkLoad(fill, new Map([['p', saved]]));
      return index;
    };
    const first = new VectorIndex({ dimensions: DIMENSIONS, annMinEntries, groupOf });
    fill(first);
    const saved = graphOf(first);
    assert.equal(saved.size(), 35);

    const second = reopened(saved);
    assert.equal(second.graphsBuilt, 0, 'adopted as it was');
    assert.equal(graphOf(second), saved);

    // One member of the group left out of the saved graph: it would never be found, so build again.
    saved.remove(annKey(31)); // big/30's label
    const third = reopened(saved);
    assert.equal(third.graphsBuilt, 1, 'not adopted');
    assert.equal(graphSize(third), 0, 'built again: a group of 35 is under the size, so scanned');
    assert.equal(third.nearest('p', vectors[30]!, 1, 'big')[0]!.key, 'big/30');
  });
});
