/**
 * The journal's entries as its replay reads them, before the index takes them into its maps: key
 * bytes in one buffer, the rest in typed arrays, a key's earlier record found through a hash of its
 * bytes. At 100k entries the maps' work per key (a string, its hash, a Map and a Set entry) was
 * most of the ~600 ms of replay in front of the first L1b answer (issue 15). The index scans these
 * entries exactly until it has moved them into its maps (`VectorIndex.settleStaged`).
 *
 * Same outcome as replaying into the index with add/addSparse/remove: a later add of a key
 * replaces it, a remove drops it, a vector with a value that is not finite drops the key and is
 * not added, and the live entries keep the order of their last add (the scan's order, which
 * decides ties).
 */
import { isFiniteVector } from '../embed/embedder';
import type { ByteKeyedSink, KeyBytes } from './journal';
import type { VectorRows } from './rows';

const INITIAL_SLOTS = 16_384;
/**
 * Key bytes live in chunks of this size, never copied to grow: fresh memory is slow to touch on a
 * busy machine (page faults), and a doubling buffer touched ~1.5× the 10 MB of keys at 100k entries.
 * A key (at most 64 KiB in the journal) never straddles two chunks.
 */
const KEY_CHUNK_SHIFT = 20;
const KEY_CHUNK_BYTES = 1 << KEY_CHUNK_SHIFT;

/** FNV-1a over the key's bytes: keys differ in a hash of their text, so every byte is read. */
function hashKey(key: KeyBytes): number {
  let hash = 0x811c9dc5;
  for (let i = key.start; i < key.end; i++) hash = Math.imul(hash ^ key.bytes[i]!, 0x01000193);
  return hash | 0;
}

/**
 * Entries of a replayed journal, by slot (one per add record, in file order). A slot whose key
 * was added again or removed later is dead; its row is freed at once, as the index would free it.
 *
 * @example const staged = index.stage(); await VectorJournal.openInto(dir, id, dimensions, staged);
 */
export class StagedEntries implements ByteKeyedSink {
  readonly byteKeys = true;
  /** Slots used. */
  count = 0;
  /** Slots alive. */
  liveCount = 0;
  /** Largest label seen (dead slots included): the index's next label goes above it. */
  maxLabel = 0;
  private keyChunks: Buffer[] = [];
  /** Bytes used in the last chunk (a full one to start with: the first key allocates). */
  private keyChunkUsed = KEY_CHUNK_BYTES;
  private keyStart = new Int32Array(INITIAL_SLOTS);
  private keyLength = new Int32Array(INITIAL_SLOTS);
  private hashOf = new Int32Array(INITIAL_SLOTS);
  private rowOf = new Int32Array(INITIAL_SLOTS);
  private labelOf = new Float64Array(INITIAL_SLOTS);
  private partitionOf = new Int32Array(INITIAL_SLOTS);
  /** The next slot of the same partition, -1 at its end. */
  private nextOf = new Int32Array(INITIAL_SLOTS);
  private live = new Uint8Array(INITIAL_SLOTS);
  /** Open addressing, linear probing: slot + 1 of a key's latest record, 0 for an empty cell. */
  private table = new Int32Array(INITIAL_SLOTS * 2);
  private keysInTable = 0;
  /** By partition number: its name, its first slot not yet taken by the index, its last slot. */
  readonly partitionNames: string[] = [];
  private readonly partitionNumbers = new Map<string, number>();
  private heads: number[] = [];
  private tails: number[] = [];
  /** Live slots per partition, and when each partition last went from none to one (the index's creation order). */
  private livePerPartition: number[] = [];
  private bornAt: number[] = [];
  private births = 0;
  /** The hash `drop` computed, for the `append` that follows it. */
  private droppedHash = 0;

  constructor(
    private readonly rows: VectorRows,
    private readonly dimensions: number,
  ) {}

  add(key: KeyBytes, partition: string, label: number, vector: Float32Array): void {
    const cell = this.drop(key);
    if (!isFiniteVector(vector)) return;
    this.append(cell, key, partition, label, this.rows.put(vector));
  }

  addSparse(key: KeyBytes, partition: string, label: number, positions: Uint16Array, values: Float32Array, count: number): void {
    const cell = this.drop(key);
    for (let j = 0; j < count; j++) if (!Number.isFinite(values[j]!)) return;
    let row = this.rows.putSparse(positions, values, count);
    if (row === undefined) {
      // Not a fit for a sparse row: the full vector, as VectorIndex.addSparse falls back to add.
      const vector = new Float32Array(this.dimensions);
      for (let j = 0; j < count; j++) if (positions[j]! < this.dimensions) vector[positions[j]!] = values[j]!;
      row = this.rows.put(vector);
    }
    this.append(cell, key, partition, label, row);
  }

  remove(key: KeyBytes): void {
    this.drop(key);
  }

  /** The partition number of `name`, or -1 when no record named it. */
  partitionNumber(name: string): number {
    return this.partitionNumbers.get(name) ?? -1;
  }

  /** Partition numbers with live slots, in the order the index would have created them. */
  livePartitions(): number[] {
    const numbers: number[] = [];
    for (let p = 0; p < this.partitionNames.length; p++) if (this.livePerPartition[p]! > 0) numbers.push(p);
    return numbers.sort((a, b) => this.bornAt[a]! - this.bornAt[b]!);
  }

  /** First slot of partition `p` the index has not taken yet, or -1. */
  head(p: number): number {
    return this.heads[p]!;
  }

  next(slot: number): number {
    return this.nextOf[slot]!;
  }

  isLive(slot: number): boolean {
    return this.live[slot] === 1;
  }

  row(slot: number): number {
    return this.rowOf[slot]!;
  }

  label(slot: number): number {
    return this.labelOf[slot]!;
  }

  partitionOfSlot(slot: number): number {
    return this.partitionOf[slot]!;
  }

  /** The key of `slot`, decoded as the journal's string replay decodes it (UTF-8). */
  key(slot: number): string {
    const start = this.keyStart[slot]! & (KEY_CHUNK_BYTES - 1);
    return this.keyChunks[this.keyStart[slot]! >>> KEY_CHUNK_SHIFT]!.toString('utf8', start, start + this.keyLength[slot]!);
  }

  /** The index has taken `slot` (the head of its partition): its partition starts after it. */
  taken(slot: number): void {
    this.heads[this.partitionOf[slot]!] = this.nextOf[slot]!;
  }

  /** Kills the live slot of `key`, if any; returns its table cell (-1-cell when the key is new there). */
  private drop(key: KeyBytes): number {
    const hash = hashKey(key);
    this.droppedHash = hash;
    const mask = this.table.length - 1;
    const length = key.end - key.start;
    for (let cell = hash & mask; ; cell = (cell + 1) & mask) {
      const entry = this.table[cell]!;
      if (entry === 0) return -1 - cell;
      const slot = entry - 1;
      if (this.hashOf[slot] !== hash || this.keyLength[slot] !== length) continue;
      const start = this.keyStart[slot]! & (KEY_CHUNK_BYTES - 1);
      if (this.keyChunks[this.keyStart[slot]! >>> KEY_CHUNK_SHIFT]!.compare(key.bytes, key.start, key.end, start, start + length) !== 0) continue;
      if (this.live[slot] === 1) {
        this.live[slot] = 0;
        this.liveCount--;
        this.livePerPartition[this.partitionOf[slot]!]!--;
        this.rows.release(this.rowOf[slot]!);
      }
      return cell;
    }
  }

  /** A new live slot for `key` at `cell` (from `drop`). */
  private append(cell: number, key: KeyBytes, partition: string, label: number, row: number): void {
    if (this.count === this.live.length) this.grow();
    const slot = this.count++;
    const length = key.end - key.start;
    if (this.keyChunkUsed + length > KEY_CHUNK_BYTES) {
      this.keyChunks.push(Buffer.allocUnsafe(KEY_CHUNK_BYTES));
      this.keyChunkUsed = 0;
    }
    // A loop, not Buffer#copy: for ~100 bytes its per-call cost was most of the replay's (Node 20).
    const { bytes } = key;
    const into = this.keyChunks[this.keyChunks.length - 1]!;
    const at = this.keyChunkUsed;
    for (let i = 0; i < length; i++) into[at + i] = bytes[key.start + i]!;
    this.keyStart[slot] = ((this.keyChunks.length - 1) << KEY_CHUNK_SHIFT) | at;
    this.keyLength[slot] = length;
    this.keyChunkUsed += length;
    this.hashOf[slot] = this.droppedHash;
    this.rowOf[slot] = row;
    this.labelOf[slot] = label;
    if (Number.isSafeInteger(label) && label > this.maxLabel) this.maxLabel = label;
    this.live[slot] = 1;
    this.liveCount++;
    let p = this.partitionNumbers.get(partition);
    if (p === undefined) {
      p = this.partitionNames.push(partition) - 1;
      this.partitionNumbers.set(partition, p);
      this.heads[p] = -1;
      this.tails[p] = -1;
      this.livePerPartition[p] = 0;
      this.bornAt[p] = 0;
    }
    if (this.livePerPartition[p]++ === 0) this.bornAt[p] = this.births++;
    this.partitionOf[slot] = p;
    this.nextOf[slot] = -1;
    if (this.tails[p]! < 0) this.heads[p] = slot;
    else this.nextOf[this.tails[p]!] = slot;
    this.tails[p] = slot;
    if (cell >= 0) {
      this.table[cell] = slot + 1;
      return;
    }
    this.table[-1 - cell] = slot + 1;
    if (++this.keysInTable * 2 > this.table.length) this.rehash();
  }

  private grow(): void {
    const size = this.live.length * 2;
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const wider = make(size);
      wider.set(old);
      return wider;
    };
    this.keyStart = widen(this.keyStart, (n) => new Int32Array(n));
    this.keyLength = widen(this.keyLength, (n) => new Int32Array(n));
    this.hashOf = widen(this.hashOf, (n) => new Int32Array(n));
    this.rowOf = widen(this.rowOf, (n) => new Int32Array(n));
    this.labelOf = widen(this.labelOf, (n) => new Float64Array(n));
    this.partitionOf = widen(this.partitionOf, (n) => new Int32Array(n));
    this.nextOf = widen(this.nextOf, (n) => new Int32Array(n));
    this.live = widen(this.live, (n) => new Uint8Array(n));
  }

  /** Doubles the table, placing each key's latest slot again. */
  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    const mask = this.table.length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      let cell = this.hashOf[entry - 1]! & mask;
      while (this.table[cell] !== 0) cell = (cell + 1) & mask;
      this.table[cell] = entry;
    }
  }
}
