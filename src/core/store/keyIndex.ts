/**
 * The embedded store's in-memory index: key → where its record sits in the log, in LRU order.
 * A `Map<string, number>` from key to a slot in three typed columns, instead of one
 * `{offset, frameBytes, createdAt}` object per key: at 100k keys that is ~100k fewer objects for
 * the GC to trace at start-up and less heap for as long as the store is open. The map's insertion
 * order is the LRU order (first = least recently used), as it was with the object map.
 */
import type { IndexEntry } from './logFile';

/** Entries copied out in LRU order, for a compaction or a snapshot that runs across awaits. */
export interface OrderedEntries {
  keys: string[];
  offsets: Float64Array;
  frameBytes: Uint32Array;
  createdAt: Float64Array;
}

/** Smallest column size once the index grows; columns double from there. */
const MIN_CAPACITY = 1024;

export class KeyIndex {
  private readonly slots = new Map<string, number>();
  /** Slots freed by deletes, reused before new ones: the columns stay about as long as the live keys. */
  private free: number[] = [];
  /** Slots [0, used) have been handed out (to a key now, or to one deleted since). */
  private used: number;

  /**
   * An empty index, or one whose slots [0, n) are the given columns (taken over, not copied):
   * `adopt(key, i)` then maps keys onto them, so a snapshot's columns become the index's.
   */
  constructor(
    private offsets: Float64Array = new Float64Array(0),
    private frameBytes: Uint32Array = new Uint32Array(0),
    private createdAt: Float64Array = new Float64Array(0),
  ) {
    this.used = offsets.length;
  }

  get size(): number {
    return this.slots.size;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** The key's slot, or undefined when it is not in the index. */
  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  offsetAt(slot: number): number {
    return this.offsets[slot]!;
  }

  frameBytesAt(slot: number): number {
    return this.frameBytes[slot]!;
  }

  createdAtAt(slot: number): number {
    return this.createdAt[slot]!;
  }

  /** The key's entry as an object (for tests and rare paths; the store reads the columns). */
  get(key: string): IndexEntry | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : { offset: this.offsets[slot]!, frameBytes: this.frameBytes[slot]!, createdAt: this.createdAt[slot]! };
  }

  /** Maps `key` onto adopted slot `slot` as the most recently used; false when the key is already there. */
  adopt(key: string, slot: number): boolean {
    const size = this.slots.size;
    this.slots.set(key, slot);
    return this.slots.size !== size;
  }

  /** Sets `key` as the most recently used (replacing any entry it had); returns its slot. */
  set(key: string, offset: number, frameBytes: number, createdAt: number): number {
    this.delete(key);
    const slot = this.free.length > 0 ? this.free.pop()! : this.newSlot();
    this.offsets[slot] = offset;
    this.frameBytes[slot] = frameBytes;
    this.createdAt[slot] = createdAt;
    this.slots.set(key, slot);
    return slot;
  }

  /** Points `slot` at a record's new place (a compaction moved it); its LRU position stays. */
  relocate(slot: number, offset: number): void {
    this.offsets[slot] = offset;
  }

  delete(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.free.push(slot);
    return true;
  }

  /** Marks `key` as the most recently used; false when it is not there. */
  touch(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.slots.set(key, slot);
    return true;
  }

  /** The least recently used key, or undefined when empty. */
  oldest(): string | undefined {
    return this.slots.keys().next().value;
  }

  /** Keys in LRU order (first = least recently used). Deleting the key being visited is safe. */
  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** [key, slot] pairs in LRU order. Deleting the key being visited is safe. */
  entries(): IterableIterator<[string, number]> {
    return this.slots.entries();
  }

  /** A copy of every entry in LRU order, unaffected by later gets and writes. */
  ordered(): OrderedEntries {
    const count = this.slots.size;
    const out: OrderedEntries = { keys: new Array<string>(count), offsets: new Float64Array(count), frameBytes: new Uint32Array(count), createdAt: new Float64Array(count) };
    let i = 0;
    for (const [key, slot] of this.slots) {
      out.keys[i] = key;
      out.offsets[i] = this.offsets[slot]!;
      out.frameBytes[i] = this.frameBytes[slot]!;
      out.createdAt[i] = this.createdAt[slot]!;
      i++;
    }
    return out;
  }

  clear(): void {
    this.slots.clear();
    this.free = [];
    this.used = 0;
    this.offsets = new Float64Array(0);
    this.frameBytes = new Uint32Array(0);
    this.createdAt = new Float64Array(0);
  }

  /** A never-used slot, doubling the columns when they are full. */
  private newSlot(): number {
    if (this.used === this.offsets.length) {
      const capacity = Math.max(MIN_CAPACITY, 2 * this.offsets.length);
      this.offsets = grown(this.offsets, new Float64Array(capacity));
      this.frameBytes = grown(this.frameBytes, new Uint32Array(capacity));
      this.createdAt = grown(this.createdAt, new Float64Array(capacity));
    }
    return this.used++;
  }
}

function grown<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
