// The table that turns a graph search's usearch keys back into entry ids, against a plain Map:
// same answers through sets, moves, deletes and growth, including keys whose low bits collide
// (long probe runs, the case a deletion's back-shift must get right).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annKey } from '../../../src/core/semantic/annKeys';
import { AnnKeyTable } from '../../../src/core/semantic/annKeyTable';
import { seededRandom as random } from '../../fixtures/seededRandom';

function assertSame(table: AnnKeyTable, model: Map<number, number>, probes: number[]): void {
  assert.equal(table.size, model.size);
  for (const [key, id] of model) assert.equal(table.get(key), id, `key ${key}`);
  for (const key of probes) assert.equal(table.get(key), model.get(key), `probe ${key}`);
}

const KEY_KINDS: Array<{ name: string; key: (n: number) => number }> = [
  { name: 'usearch keys of labels', key: (n) => Number(annKey(n + 1)) },
  // Equal low 32 bits for every fourth key, differing only above: they share one place in the table.
  { name: 'keys whose low bits collide', key: (n) => (n % 4) * 2 ** 32 + Math.floor(n / 4) * 2 ** 40 + 12_345 + (n % 4 === 0 ? n : 0) },
];

describe('usearch key → entry id table', () => {
  for (const kind of KEY_KINDS) it(`answers as a Map through 30,000 random sets, id moves and deletes (${kind.name})`, () => {
    const next = random(7);
    const table = new AnnKeyTable();
    const model = new Map<number, number>();
    const idKey = new Map<number, number>();
    const probes: number[] = [];
    for (let step = 0; step < 30_000; step++) {
      const key = kind.key(Math.floor(next() * (step / 4 + 20)));
      const id = Math.floor(next() * (step / 4 + 20));
      const roll = next();
      if (roll < 0.55) {
        table.set(key, id);
        // What set promises: the id's previous key and the key's previous id are both gone.
        const previousKey = idKey.get(id);
        if (previousKey !== undefined) model.delete(previousKey);
        const previousId = model.get(key);
        if (previousId !== undefined) idKey.delete(previousId);
        model.set(key, id);
        idKey.set(id, key);
      } else if (roll < 0.8) {
        table.delete(key);
        const held = model.get(key);
        if (held !== undefined) idKey.delete(held);
        model.delete(key);
      } else {
        table.deleteId(id);
        const held = idKey.get(id);
        if (held !== undefined) model.delete(held);
        idKey.delete(id);
      }
      probes.push(key);
      if (step % 3000 === 0) assertSame(table, model, probes.slice(-500));
    }
    assert.ok(model.size > 1000, `grew to ${model.size} keys`);
    assertSame(table, model, probes);
    table.clear();
    assert.equal(table.size, 0);
    assert.equal(table.get(kind.key(3)), undefined);
  });
});
