/**
 * The embedded store's in-memory index: key → where its record sits in the log, in LRU order.
 *
 * Everything lives in typed columns indexed by a slot number: the record's place, an LRU list
 * (previous and next slot), the key's hash, and an open-addressing hash table from key to slot.
 * A key of 64 lowercase hex digits (a sha256, as every key of the exact cache is) is kept as its
 * 32 bytes; any other key as its string. At 100k exact-cache keys, a `Map<string, number>` held
 * ~13 MB of the proxy thread's heap (the keys' text, one string object per key and the map's
 * table) against ~6 MB of typed arrays here, and 100k more objects for every full collection to
 * trace (issue 15).
 */
import { closeProbeGap, EMPTY_PLACE } from '../probeTable';
import type { IndexEntry } from './logFile';

/** Entries copied out in LRU order, for a compaction or a snapshot that runs across awaits. */
export interface OrderedEntries {
  readonly count: number;
  readonly offsets: Float64Array;
  readonly frameBytes: Uint32Array;
  readonly createdAt: Float64Array;
  /** Each entry's slot in the index it was copied from: a compaction finds its entries again by slot, as no write reuses one meanwhile. */
  readonly slots?: Int32Array;
  keyAt(i: number): string;
  /** The length of key i in UTF-16 units. */
  keyUnits(i: number): number;
  /** Every key, concatenated in order (a snapshot's key text). */
  keysText(): string;
}

/** Ordered entries whose keys are at hand as strings. */
export function orderedEntries(keys: readonly string[], offsets: Float64Array, frameBytes: Uint32Array, createdAt: Float64Array): OrderedEntries {
  return { count: keys.length, offsets, frameBytes, createdAt, keyAt: (i) => keys[i]!, keyUnits: (i) => keys[i]!.length, keysText: () => keys.join('') };
}

/** Smallest column size once the index grows; columns double from there. */
const MIN_CAPACITY = 1024;
/** Length of a key kept as bytes, and its bytes. */
const HEX_KEY_CHARS = 64;
const DIGEST_BYTES = 32;
const DIGEST_WORDS = DIGEST_BYTES / 4;
/** No slot: the end of the LRU list, or an empty place in the hash table (which stores slot + 1). */
const NONE = -1;

/** The value of each lowercase hex digit by char code, -1 for anything else. */
const HEX_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let digit = 0; digit < 16; digit++) table['0123456789abcdef'.charCodeAt(digit)] = digit;
  return table;
})();

/** A 32-bit hash of a key kept as text: FNV-1a over its UTF-16 units, then mixed so low bits spread. */
export function textHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash | 0;
}

export class KeyIndex {
  /** Slots freed by deletes, reused before new ones: the columns stay about as long as the live keys. */
  private free: number[] = [];
  /** Slots [0, used) have been handed out (to a key now, or to one deleted since). */
  private used: number;
  private count = 0;
  /** Least and most recently used slots. */
  private head = NONE;
  private tail = NONE;
  private previous: Int32Array;
  private following: Int32Array;
  private hashes: Int32Array;
  /** 32 bytes per slot of the hex keys; made when the first one comes. */
  private digests: Uint8Array | undefined;
  private digestWords: Int32Array | undefined;
  /** The key of each slot that holds a text key (undefined for a hex key); made when the first one comes. */
  private texts: Array<string | undefined> | undefined;
  /** slot + 1 at the place its hash picks (linear probing), 0 where empty; at most half full. */
  private table: Int32Array;
  private mask: number;
  /** The key being looked up or written, as bytes, when it is a hex key. */
  private readonly scratch = new Uint8Array(DIGEST_BYTES);
  private readonly scratchWords = new Int32Array(this.scratch.buffer);
  /** Whether the last `find` read a hex key into the scratch, and the hash it computed: what `place` stores. */
  private scratchIsHex = false;
  private scratchHash = 0;

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
    this.previous = new Int32Array(offsets.length);
    this.following = new Int32Array(offsets.length);
    this.hashes = new Int32Array(offsets.length);
    this.table = new Int32Array(tableSizeFor(offsets.length));
    this.mask = this.table.length - 1;
  }

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.find(key) !== NONE;
  }

  /** The key's slot, or undefined when it is not in the index. */
  slotOf(key: string): number | undefined {
    const slot = this.find(key);
    return slot === NONE ? undefined : slot;
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

  /** The key held in a live slot. */
  keyAt(slot: number): string {
    const text = this.texts?.[slot];
    if (text !== undefined) return text;
    return Buffer.from(this.digests!.buffer, this.digests!.byteOffset + slot * DIGEST_BYTES, DIGEST_BYTES).toString('hex');
  }

  /** The key's entry as an object (for tests and rare paths; the store reads the columns). */
  get(key: string): IndexEntry | undefined {
    const slot = this.find(key);
    return slot === NONE ? undefined : { offset: this.offsets[slot]!, frameBytes: this.frameBytes[slot]!, createdAt: this.createdAt[slot]! };
  }

  /** Maps `key` onto adopted slot `slot` as the most recently used; false when the key is already there. */
  adopt(key: string, slot: number): boolean {
    if (this.find(key) !== NONE) return false;
    // find() left the key's bytes in the scratch when it is a hex key.
    this.place(key, slot);
    return true;
  }

  /** Sets `key` as the most recently used (replacing any entry it had); returns its slot. */
  set(key: string, offset: number, frameBytes: number, createdAt: number): number {
    const existing = this.find(key);
    if (existing !== NONE) this.remove(existing);
    const slot = this.free.length > 0 ? this.free.pop()! : this.newSlot();
    this.offsets[slot] = offset;
    this.frameBytes[slot] = frameBytes;
    this.createdAt[slot] = createdAt;
    // The scratch still holds the key's bytes: nothing since find() wrote to it.
    this.place(key, slot);
    return slot;
  }

  /** Points `slot` at a record's new place (a compaction moved it); its LRU position stays. */
  relocate(slot: number, offset: number): void {
    this.offsets[slot] = offset;
  }

  delete(key: string): boolean {
    const slot = this.find(key);
    if (slot === NONE) return false;
    this.remove(slot);
    return true;
  }

  /** Marks `key` as the most recently used; false when it is not there. */
  touch(key: string): boolean {
    const slot = this.find(key);
    if (slot === NONE) return false;
    if (slot !== this.tail) {
      this.unlink(slot);
      this.append(slot);
    }
    return true;
  }

  /** The least recently used key, or undefined when empty. */
  oldest(): string | undefined {
    return this.head === NONE ? undefined : this.keyAt(this.head);
  }

  /** Live slots in LRU order (first = least recently used). Deleting the slot being visited is safe. */
  *slots(): IterableIterator<number> {
    for (let slot = this.head; slot !== NONE; ) {
      const next = this.following[slot]!;
      yield slot;
      slot = next;
    }
  }

  /** Keys in LRU order (first = least recently used). Deleting the key being visited is safe. */
  *keys(): IterableIterator<string> {
    for (const slot of this.slots()) yield this.keyAt(slot);
  }

  /**
   * A copy of every entry in LRU order, unaffected by later gets and writes. Hex keys are copied
   * as bytes and become text only when asked for: 100k keys made into strings here took 10–30 ms
   * of the thread, in front of every snapshot.
   */
  ordered(): OrderedEntries {
    const count = this.count;
    const slots = new Int32Array(count);
    const offsets = new Float64Array(count);
    const frameBytes = new Uint32Array(count);
    const createdAt = new Float64Array(count);
    let at = 0;
    for (let slot = this.head; slot !== NONE; slot = this.following[slot]!) {
      slots[at] = slot;
      offsets[at] = this.offsets[slot]!;
      frameBytes[at] = this.frameBytes[slot]!;
      createdAt[at] = this.createdAt[slot]!;
      at++;
    }
    let texts: Array<string | undefined> | undefined;
    if (this.texts) {
      texts = new Array<string | undefined>(count);
      for (let i = 0; i < count; i++) texts[i] = this.texts[slots[i]!];
    }
    const digestWords = this.digestWords;
    const hexBytes = digestWords ? new Uint8Array(count * DIGEST_BYTES) : undefined;
    if (hexBytes) {
      const words = new Int32Array(hexBytes.buffer);
      for (let i = 0; i < count; i++) {
        if (texts?.[i] !== undefined) continue;
        const from = slots[i]! * DIGEST_WORDS;
        for (let word = 0; word < DIGEST_WORDS; word++) words[i * DIGEST_WORDS + word] = digestWords![from + word]!;
      }
    }
    const keyAt = (i: number): string => texts?.[i] ?? Buffer.from(hexBytes!.buffer, i * DIGEST_BYTES, DIGEST_BYTES).toString('hex');
    return {
      count, offsets, frameBytes, createdAt, slots, keyAt,
      keyUnits: (i) => texts?.[i]?.length ?? HEX_KEY_CHARS,
      keysText: () => {
        // An index that never held a key (a fresh or cleared store) has neither column.
        if (!hexBytes) return texts?.join('') ?? '';
        if (!texts) return Buffer.from(hexBytes.buffer).toString('hex');
        return Array.from({ length: count }, (_, i) => keyAt(i)).join('');
      },
    };
  }

  clear(): void {
    this.free = [];
    this.used = 0;
    this.count = 0;
    this.head = this.tail = NONE;
    this.offsets = new Float64Array(0);
    this.frameBytes = new Uint32Array(0);
    this.createdAt = new Float64Array(0);
    this.previous = new Int32Array(0);
    this.following = new Int32Array(0);
    this.hashes = new Int32Array(0);
    this.digests = this.digestWords = this.texts = undefined;
    this.table = new Int32Array(tableSizeFor(0));
    this.mask = this.table.length - 1;
  }

  // ---- keys and the hash table -------------------------------------------------------------------

  /** Reads `key` into the scratch when it is 64 lowercase hex digits; returns whether it was. */
  private readHex(key: string): boolean {
    if (key.length !== HEX_KEY_CHARS) return false;
    for (let byte = 0; byte < DIGEST_BYTES; byte++) {
      const high = key.charCodeAt(2 * byte);
      const low = key.charCodeAt(2 * byte + 1);
      const value = high < 128 && low < 128 ? (HEX_VALUE[high]! << 4) | HEX_VALUE[low]! : -1;
      if (value < 0) return false;
      this.scratch[byte] = value;
    }
    return true;
  }

  /** The slot holding `key`, or NONE. Leaves a hex key's bytes in the scratch for `place`. */
  private find(key: string): number {
    const hex = this.readHex(key);
    this.scratchIsHex = hex;
    const hash = hex ? this.scratchWords[0]! : textHash(key);
    this.scratchHash = hash;
    for (let at = hash & this.mask; ; at = (at + 1) & this.mask) {
      const entry = this.table[at]!;
      if (entry === EMPTY_PLACE) return NONE;
      const slot = entry - 1;
      if (this.hashes[slot] !== hash) continue;
      const text = this.texts?.[slot];
      if (hex ? text === undefined && this.digestMatches(slot) : text === key) return slot;
    }
  }

  private digestMatches(slot: number): boolean {
    const words = this.digestWords!;
    const base = slot * DIGEST_WORDS;
    for (let word = 0; word < DIGEST_WORDS; word++) if (words[base + word] !== this.scratchWords[word]) return false;
    return true;
  }

  /** Gives `slot` the key `find` just looked for, as the most recently used. */
  private place(key: string, slot: number): void {
    if (this.scratchIsHex) {
      this.digestColumn().set(this.scratch, slot * DIGEST_BYTES);
      if (this.texts && slot < this.texts.length) this.texts[slot] = undefined;
    } else {
      const texts = (this.texts ??= []);
      // Fill up to the slot so the array stays dense (a hole would turn it into a slower kind).
      while (texts.length < slot) texts.push(undefined);
      texts[slot] = key;
    }
    this.hashes[slot] = this.scratchHash;
    if (2 * (this.count + 1) > this.table.length) this.rehash(tableSizeFor(this.count + 1));
    this.insertIntoTable(slot);
    this.append(slot);
    this.count++;
  }

  private remove(slot: number): void {
    this.removeFromTable(slot);
    this.unlink(slot);
    if (this.texts && slot < this.texts.length) this.texts[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  private insertIntoTable(slot: number): void {
    let at = this.hashes[slot]! & this.mask;
    while (this.table[at] !== EMPTY_PLACE) at = (at + 1) & this.mask;
    this.table[at] = slot + 1;
  }

  /** Takes `slot` out of the table (probeTable.ts repairs its probe run). */
  private removeFromTable(slot: number): void {
    let hole = this.hashes[slot]! & this.mask;
    while (this.table[hole] !== slot + 1) hole = (hole + 1) & this.mask;
    closeProbeGap(this.table, this.mask, hole, (entry) => this.hashes[entry - 1]! & this.mask);
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let slot = this.head; slot !== NONE; slot = this.following[slot]!) this.insertIntoTable(slot);
  }

  // ---- LRU list and columns ----------------------------------------------------------------------

  private append(slot: number): void {
    this.previous[slot] = this.tail;
    this.following[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.following[this.tail] = slot;
    this.tail = slot;
  }

  private unlink(slot: number): void {
    const before = this.previous[slot]!;
    const after = this.following[slot]!;
    if (before === NONE) this.head = after;
    else this.following[before] = after;
    if (after === NONE) this.tail = before;
    else this.previous[after] = before;
  }

  private digestColumn(): Uint8Array {
    if (!this.digests) {
      this.digests = new Uint8Array(this.offsets.length * DIGEST_BYTES);
      this.digestWords = new Int32Array(this.digests.buffer);
    }
    return this.digests;
  }

  /** A never-used slot, doubling the columns when they are full. */
  private newSlot(): number {
    if (this.used === this.offsets.length) {
      const capacity = Math.max(MIN_CAPACITY, 2 * this.offsets.length);
      this.offsets = grown(this.offsets, new Float64Array(capacity));
      this.frameBytes = grown(this.frameBytes, new Uint32Array(capacity));
      this.createdAt = grown(this.createdAt, new Float64Array(capacity));
      this.previous = grown(this.previous, new Int32Array(capacity));
      this.following = grown(this.following, new Int32Array(capacity));
      this.hashes = grown(this.hashes, new Int32Array(capacity));
      if (this.digests) {
        // Only the slots handed out so far: pages past them stay untouched, so they cost no memory.
        const digests = new Uint8Array(capacity * DIGEST_BYTES);
        digests.set(this.digests.subarray(0, this.used * DIGEST_BYTES));
        this.digests = digests;
        this.digestWords = new Int32Array(digests.buffer);
      }
    }
    return this.used++;
  }
}

/** A power of two that keeps `count` keys at most half the table (and at least 16 places). */
function tableSizeFor(count: number): number {
  let size = 16;
  while (size < 2 * count) size *= 2;
  return size;
}

function grown<T extends Float64Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
