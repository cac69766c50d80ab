/**
 * Entry id by usearch key (`annKey` of the entry's label, a 52-bit integer) for the entries in the
 * graphs, to turn a search's keys back into entries. A `Map<number, number>` held each key as a
 * heap number beside a table of ~37 bytes an entry: ~5 MB of the semantic worker's heap at 100k
 * entries in a graph. Here: the keys in one column by id and an open-addressing table of ids,
 * ~21 bytes an entry off the heap (2.1 MB at 100k; issue 15).
 */
import { closeProbeGap, EMPTY_PLACE } from '../probeTable';

export class AnnKeyTable {
  /** Each id's key while the id is in the table (0 otherwise: annKey gives 0 only for label 0, which no entry has). */
  private keyOf: Float64Array = new Float64Array(0);
  /** id + 1 at the place the key's low bits pick (linear probing), 0 where empty; at most half full. */
  private table = new Int32Array(16);
  private mask = 15;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The id whose key is `key`, or undefined. */
  get(key: number): number | undefined {
    for (let at = placeOf(key, this.mask); ; at = (at + 1) & this.mask) {
      const entry = this.table[at]!;
      if (entry === EMPTY_PLACE) return undefined;
      if (this.keyOf[entry - 1] === key) return entry - 1;
    }
  }

  /** Maps `key` to `id` (replacing what the key or the id had). */
  set(key: number, id: number): void {
    this.deleteId(id);
    this.delete(key);
    if (id >= this.keyOf.length) this.keyOf = grownTo(this.keyOf, id + 1);
    this.keyOf[id] = key;
    if (2 * (this.count + 1) > this.table.length) this.rehash(2 * this.table.length);
    this.insert(id);
    this.count++;
  }

  /** Forgets the key `id` has, if any. */
  deleteId(id: number): void {
    if (id < this.keyOf.length && this.keyOf[id] !== 0) this.delete(this.keyOf[id]!);
  }

  /** Forgets `key`; nothing happens when it is not there. */
  delete(key: number): void {
    let hole = placeOf(key, this.mask);
    for (; ; hole = (hole + 1) & this.mask) {
      const entry = this.table[hole]!;
      if (entry === EMPTY_PLACE) return;
      if (this.keyOf[entry - 1] === key) break;
    }
    this.keyOf[this.table[hole]! - 1] = 0;
    closeProbeGap(this.table, this.mask, hole, (entry) => placeOf(this.keyOf[entry - 1]!, this.mask));
    this.count--;
  }

  clear(): void {
    this.keyOf = new Float64Array(0);
    this.table = new Int32Array(16);
    this.mask = 15;
    this.count = 0;
  }

  private insert(id: number): void {
    let at = placeOf(this.keyOf[id]!, this.mask);
    while (this.table[at] !== EMPTY_PLACE) at = (at + 1) & this.mask;
    this.table[at] = id + 1;
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (const entry of old) if (entry !== EMPTY_PLACE) this.insert(entry - 1);
  }
}

/** Keys are already mixed (annKeys.ts): their low bits pick the place. */
function placeOf(key: number, mask: number): number {
  return (key >>> 0) & mask;
}

function grownTo(column: Float64Array, length: number): Float64Array {
  const grown = new Float64Array(Math.max(length, 2 * column.length, 1024));
  grown.set(column);
  return grown;
}
