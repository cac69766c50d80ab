/**
 * Nearest-neighbour search per semantic partition: exact scan for small partitions (most agent
 * histories hold a handful of entries), a usearch HNSW graph once a partition grows past
 * `annMinEntries`. Candidates from the graph are re-scored with the exact cosine.
 *
 * With `groupOf` (the entries' gate keys), a large partition's graph holds only its large groups:
 * a query can only be answered by an entry of its own group, so a small group is scanned exactly
 * and its entries never pay for a graph add (most of the worker's time per miss, issue 15).
 */
import type * as Usearch from 'usearch';
import type { Index } from 'usearch';
import { isFiniteVector } from '../embed/embedder';
import { annKey } from './annKeys';
import { AnnKeyTable } from './annKeyTable';
import { VectorRows } from './rows';
import { IdGroups } from './idGroups';
import { StagedEntries } from './staged';

export interface Neighbour {
  /** Store key of the entry. */
  key: string;
  similarity: number;
}

export interface VectorIndexOptions {
  dimensions: number;
  /** A partition switches from exact scan to HNSW at this size (below it a scan is faster). */
  annMinEntries?: number;
  /** Told of every entry that enters or leaves the key maps (see gateTable.ts). */
  counter?: EntryCounter;
  /**
   * The group of an entry, from its store key: only an entry of the query's group may answer it
   * (undefined: an entry that may answer any query, kept in the graph). Without it, a large
   * partition's graph holds every entry.
   */
  groupOf?: (key: string) => string | undefined;
}

/** Follows which entries the index holds, by partition and store key. */
export interface EntryCounter {
  added(partition: string, key: string): void;
  removed(partition: string, key: string): void;
  cleared(): void;
}

/**
 * One partition: the ids of its entries in insertion order (the exact scan's order, which decides
 * ties), and its graph once it is large.
 */
interface Partition {
  name: string;
  ids: Set<number>;
  /** Whether the partition is searched through a graph (it is large, and usearch loaded). */
  large: boolean;
  /** The graph, once it holds an entry. */
  ann?: Index;
  /** With `groupOf`: the entries by group (and which groups are in the graph), and how many entries have no group. */
  groups?: IdGroups;
  ungrouped: number;
}

const DEFAULT_ANN_MIN_ENTRIES = 2048;
/**
 * A group of a large partition joins its graph at this size (or at `annMinEntries`, if smaller).
 * Below it an exact scan of the group costs microseconds; a graph add ~0.45 ms at 100k entries.
 */
const GRAPH_GROUP_MIN = 64;
/** Over-fetch from the approximate graph, then keep the best by exact cosine. */
const ANN_OVERFETCH = 8;

/**
 * Creates an HNSW graph that keeps 8-bit copies of the (unit-length) vectors: the graph only picks
 * candidates, and exact scores come from the re-scoring step. At 100k lexical vectors that is
 * 12 MB less than half precision with the same hits (issue 15, docs/measurements/miss-path.md).
 * A graph saved in half precision by an earlier version loads as it was saved and keeps working.
 */
export function newAnnIndex(dimensions: number): Index {
  const { Index: AnnIndex, MetricKind, ScalarKind } = usearch();
  return new AnnIndex({ dimensions, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false });
}

let usearchModule: typeof Usearch | undefined;
let usearchLoadError: string | undefined;

/** usearch, loaded with the first graph: its native addon takes ~50 ms to load, which `isartor serve` need not pay before it listens. */
function usearch(): typeof Usearch {
  return (usearchModule ??= loadUsearch());
}

let loadUsearch = (): typeof Usearch => require('usearch') as typeof Usearch;

/** Tests: load usearch through `loader` from now on (a platform without its binary throws here). */
export function setUsearchLoaderForTests(loader: () => typeof Usearch): void {
  loadUsearch = loader;
  usearchModule = undefined;
  usearchLoadError = undefined;
}

/**
 * Whether usearch's native addon loads on this platform (it publishes no Windows build, for one).
 * Without it every partition keeps the exact scan: slower past a few thousand entries, never wrong.
 */
function annAvailable(): boolean {
  if (usearchModule) return true;
  if (usearchLoadError !== undefined) return false;
  try {
    usearch();
    return true;
  } catch (error) {
    usearchLoadError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return false;
  }
}

/** Why the approximate index could not be loaded, once a partition needed it; undefined otherwise. */
export function annUnavailableReason(): string | undefined {
  return usearchLoadError;
}

/**
 * In-memory vector index over every semantic partition.
 *
 * @example
 * const index = new VectorIndex({ dimensions: 256 });
 * index.add(partition, storeKey, vector);
 * index.nearest(partition, query, 4); // [{ key, similarity }, ...]
 */
export class VectorIndex {
  readonly dimensions: number;
  private readonly annMinEntries: number;
  private readonly counter: EntryCounter | undefined;
  private readonly groupOf: ((key: string) => string | undefined) | undefined;
  private readonly groupMin: number;
  private readonly partitions = new Map<string, Partition>();
  /** Store key → entry id; in the order entries were (last) added. */
  private byKey = new Map<string, number>();
  /** By entry id: store key, partition, usearch label and vector row; undefined/0 for a free id. */
  private keyOf: Array<string | undefined> = [];
  private ownerOf: Array<Partition | undefined> = [];
  private labelOf: number[] = [];
  private rowOf: number[] = [];
  /** usearch key (`annKey` of the entry's label) → entry id, for the entries in graphs. */
  private readonly byAnnKey = new AnnKeyTable();
  /** Ids of removed entries, reused by the next adds. */
  private free: number[] = [];
  /** The only copy of each vector on the JS side (usearch keeps its own 8-bit one in a graph). */
  private readonly rows: VectorRows;
  private nextLabel = 1;
  /** Partitions switched to graph search by building their graph from vectors (rather than adopting a saved one) since this index was created. */
  graphsBuilt = 0;
  /** While true, partitions do not switch to HNSW one insert at a time (see `bulkLoad`). */
  private deferAnn = false;
  /** A replayed journal's entries not yet all in the maps above (see `stage`), and how many live ones moved. */
  private staged: StagedEntries | undefined;
  private stagedMoved = 0;
  /** The next staged slot to move into the maps. */
  private stagedFrom = 0;

  constructor(options: VectorIndexOptions) {
    this.dimensions = options.dimensions;
    this.annMinEntries = options.annMinEntries ?? DEFAULT_ANN_MIN_ENTRIES;
    this.counter = options.counter;
    this.groupOf = options.groupOf;
    this.groupMin = Math.min(GRAPH_GROUP_MIN, this.annMinEntries);
    this.rows = new VectorRows(options.dimensions);
  }

  get size(): number {
    return this.staged ? this.byKey.size + this.staged.liveCount - this.stagedMoved : this.byKey.size;
  }

  /**
   * A sink for the journal's replay into this (empty) index: the entries are searchable at once,
   * and move into the key maps with `settleStaged` (every other use moves them all first).
   */
  stage(): StagedEntries {
    if (this.byKey.size > 0 || this.staged) throw new Error('only an empty index takes a replay');
    this.staged = new StagedEntries(this.rows, this.dimensions);
    this.stagedFrom = 0;
    this.stagedMoved = 0;
    return this.staged;
  }

  /**
   * Moves up to `limit` live staged entries into the key maps, in their order (so a scan's order
   * does not change); returns whether any remain. At 100k entries all of them take ~0.3 s, which
   * the cache spreads over turns after its first answers (issue 15).
   */
  settleStaged(limit = Infinity): boolean {
    const staged = this.staged;
    if (!staged) return false;
    if (this.stagedFrom === 0) {
      // The partitions in the order replaying into the maps would have created them.
      for (const p of staged.livePartitions()) {
        const name = staged.partitionNames[p]!;
        this.partitions.set(name, this.newPartition(name));
      }
    }
    let moved = 0;
    while (this.stagedFrom < staged.count && moved < limit) {
      const slot = this.stagedFrom++;
      staged.taken(slot);
      if (!staged.isLive(slot)) continue;
      moved++;
      this.stagedMoved++;
      this.place(staged.partitionNames[staged.partitionOfSlot(slot)]!, staged.key(slot), staged.row(slot), undefined, staged.label(slot));
    }
    if (this.stagedFrom < staged.count) return true;
    if (staged.maxLabel >= this.nextLabel) this.nextLabel = staged.maxLabel + 1;
    this.staged = undefined;
    return false;
  }

  /** Every use but a search and `size` sees the staged entries in the maps. */
  private settle(): void {
    if (this.staged) this.settleStaged();
  }

  has(key: string): boolean {
    this.settle();
    return this.byKey.has(key);
  }

  /**
   * Makes the index keep `key`, a string equal to one of its keys, instead of its own copy: keys
   * replayed from the journal duplicate the strings the store holds (11 MB at 100k entries, issue
   * 15). Returns whether the index holds the key. `adoptSharedKeys` then re-keys the key map.
   */
  shareKey(key: string): boolean {
    this.settle();
    const id = this.byKey.get(key);
    if (id === undefined) return false;
    this.keyOf[id] = key;
    return true;
  }

  /** Rebuilds the key map from the keys `shareKey` left, in the same order, so the replayed copies can go. */
  adoptSharedKeys(): void {
    this.settle();
    const byKey = new Map<string, number>();
    for (const id of this.byKey.values()) byKey.set(this.keyOf[id]!, id);
    this.byKey = byKey;
  }

  /** Every entry's store key. */
  keys(): IterableIterator<string> {
    this.settle();
    return this.byKey.keys();
  }

  /** Every entry, for persistence (`vector` is valid until the index next changes). */
  *entries(): IterableIterator<{ key: string; partition: string; vector: Float32Array; label: bigint }> {
    this.settle();
    for (const [key, id] of this.byKey) yield { key, partition: this.ownerOf[id]!.name, vector: this.rows.vector(this.rowOf[id]!), label: BigInt(this.labelOf[id]!) };
  }

  private newPartition(name: string): Partition {
    return { name, ids: new Set<number>(), large: false, ungrouped: 0, ...(this.groupOf ? { groups: new IdGroups() } : {}) };
  }

  /** The HNSW graphs of the large partitions, for persistence. */
  *graphs(): IterableIterator<{ partition: string; graph: Index }> {
    this.settle();
    for (const [partition, bucket] of this.partitions) if (bucket.ann) yield { partition, graph: bucket.ann };
  }

  /**
   * Adds or replaces the entry stored under `key` (the vector is copied). `label` restores the
   * graph key an entry had when a snapshot was saved, so a saved graph can be adopted as it is.
   * Returns the entry's label, or undefined when the vector is refused: one NaN would poison the
   * order of every later search in its partition.
   */
  add(partition: string, key: string, vector: Float32Array, label?: bigint): bigint | undefined {
    if (vector.length !== this.dimensions) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dimensions}`);
    this.settle();
    this.remove(key);
    if (!isFiniteVector(vector)) return undefined;
    return this.place(partition, key, this.rows.put(vector), vector, label);
  }

  /**
   * `add` for a vector given by its stored values (`values[j]` at `positions[j]`, j < count,
   * positions increasing; every other value +0), as the journal holds it: no pass over its zeros,
   * which was most of the replay's time at 100k entries (issue 15). Same result as `add`.
   */
  addSparse(partition: string, key: string, positions: Uint16Array, values: Float32Array, count: number, label?: bigint): bigint | undefined {
    this.settle();
    this.remove(key);
    for (let j = 0; j < count; j++) if (!Number.isFinite(values[j]!)) return undefined;
    const row = this.rows.putSparse(positions, values, count);
    if (row !== undefined) return this.place(partition, key, row, undefined, label);
    const vector = new Float32Array(this.dimensions);
    for (let j = 0; j < count; j++) if (positions[j]! < this.dimensions) vector[positions[j]!] = values[j]!;
    return this.add(partition, key, vector, label);
  }

  /** The rest of an add once the vector is in `row` (`vector`: its values, when the caller has them). */
  private place(partition: string, key: string, row: number, vector: Float32Array | undefined, label: bigint | number | undefined): bigint {
    // Labels come from this counter, so they stay far below 2^53; anything else gets a fresh one
    // (a saved graph holding it is then not adopted, but rebuilt).
    const restored = label === undefined ? undefined : Number(label);
    const slotLabel = restored !== undefined && Number.isSafeInteger(restored) && restored > 0 ? restored : this.nextLabel;
    if (slotLabel >= this.nextLabel) this.nextLabel = slotLabel + 1;
    const id = this.free.pop() ?? this.keyOf.length;
    this.rowOf[id] = row;
    let bucket = this.partitions.get(partition);
    if (!bucket) {
      bucket = this.newPartition(partition);
      this.partitions.set(partition, bucket);
    }
    this.keyOf[id] = key;
    this.ownerOf[id] = bucket;
    this.labelOf[id] = slotLabel;
    bucket.ids.add(id);
    this.byKey.set(key, id);
    this.counter?.added(partition, key);
    const group = bucket.groups ? this.groupOf!(key) : undefined;
    const groupSize = group === undefined ? 0 : bucket.groups!.add(group, id);
    if (group === undefined) bucket.ungrouped++;
    if (bucket.large) {
      if (group === undefined || bucket.groups!.isGraphed(group)) this.addToGraph(bucket, [id], vector);
      else if (groupSize >= this.groupMin) this.addToGraph(bucket, bucket.groups!.graph(group)); // the whole group, from now on
    } else if (!this.deferAnn && bucket.ids.size >= this.annMinEntries) {
      this.buildAnn(bucket);
    }
    return BigInt(slotLabel);
  }

  /** Whether the entry of `group` (undefined: no group) is in the partition's graph, once it is large. */
  private inGraph(bucket: Partition, group: string | undefined): boolean {
    return bucket.large && (group === undefined || bucket.groups?.isGraphed(group) === true);
  }

  /** Adds entries to the partition's graph, creating it first (`vector`: the values of a single id, when the caller has them). */
  private addToGraph(bucket: Partition, ids: number[], vector?: Float32Array): void {
    if (ids.length === 0) return;
    if (!bucket.ann) {
      bucket.ann = newAnnIndex(this.dimensions);
    }
    const keys = new BigUint64Array(ids.length);
    let matrix: Float32Array;
    if (ids.length === 1 && vector) {
      matrix = vector;
    } else {
      matrix = new Float32Array(ids.length * this.dimensions);
      ids.forEach((id, i) => this.rows.copyTo(this.rowOf[id]!, matrix, i * this.dimensions));
    }
    ids.forEach((id, i) => {
      keys[i] = annKey(this.labelOf[id]!);
      this.byAnnKey.set(Number(keys[i]!), id);
    });
    // One thread, said explicitly: with the default (0) usearch asks the C++ runtime for the core
    // count on every add, which opens and reads /sys/devices/system/cpu/online once per miss. And a
    // graph built in parallel depends on scheduling, and so would benchmark figures.
    bucket.ann.add(ids.length === 1 ? keys[0]! : keys, matrix, 1);
  }

  /**
   * Adds many entries, then gives each large partition its graph: a saved one from `savedGraphs`
   * when it holds exactly that partition's labels, otherwise one built in a single multi-threaded
   * batch (far faster than growing it one insert at a time).
   */
  bulkLoad(add: (index: VectorIndex) => void, savedGraphs: ReadonlyMap<string, Index> = new Map()): void {
    this.startBulk();
    try {
      add(this);
    } catch (error) {
      this.deferAnn = false;
      throw error;
    }
    this.finishBulk(savedGraphs);
  }

  /**
   * `bulkLoad` in two halves, for a cache that answers between them: after `startBulk`, adds build
   * no graph (a large partition is scanned exactly until `finishBulk` gives it one).
   */
  startBulk(): void {
    this.deferAnn = true;
  }

  /** Ends `startBulk`: each large partition gets a graph from `savedGraphs` if one fits, else a new one. */
  finishBulk(savedGraphs: ReadonlyMap<string, Index> = new Map()): void {
    this.settle();
    this.deferAnn = false;
    for (const [partition, bucket] of this.partitions) {
      if (bucket.large || bucket.ids.size < this.annMinEntries) continue;
      const saved = savedGraphs.get(partition);
      if (saved && this.adoptGraph(bucket, saved)) continue;
      this.buildAnn(bucket);
    }
  }

  /**
   * Uses `graph` for `bucket` if it holds exactly the keys of the bucket's labels that belong in a
   * graph: every entry without a group, every entry of a group of `groupMin` or more, and whole
   * groups only (a smaller group that was in the graph when it was saved may stay there). A graph
   * saved before keys were mixed (its keys are the labels themselves) does not: it is built again, once.
   */
  private adoptGraph(bucket: Partition, graph: Index): boolean {
    if (graph.dimensions() !== this.dimensions || !annAvailable()) return false;
    const ids = [...bucket.ids];
    const keys = BigUint64Array.from(ids, (id) => annKey(this.labelOf[id]!));
    const present = graph.contains(keys) as boolean[];
    const groupIn = new Map<string, boolean>();
    let inGraph = 0;
    for (let i = 0; i < ids.length; i++) {
      const group = bucket.groups ? this.groupOf!(this.keyOf[ids[i]!]!) : undefined;
      if (present[i]) inGraph++;
      if (group === undefined) {
        if (!present[i]) return false;
        continue;
      }
      const seen = groupIn.get(group);
      if (seen !== undefined && seen !== present[i]) return false;
      groupIn.set(group, present[i]!);
    }
    if (inGraph !== graph.size()) return false;
    for (const [group, size] of bucket.groups?.groups() ?? []) if (size >= this.groupMin && !groupIn.get(group)) return false;
    bucket.large = true;
    for (const [group, isIn] of groupIn) if (isIn) bucket.groups!.graph(group);
    bucket.ann = graph;
    ids.forEach((id, i) => {
      if (present[i]) this.byAnnKey.set(Number(keys[i]!), id);
    });
    return true;
  }

  remove(key: string): void {
    this.settle();
    const id = this.byKey.get(key);
    if (id === undefined) return;
    this.byKey.delete(key);
    const bucket = this.ownerOf[id]!;
    this.counter?.removed(bucket.name, key);
    const label = this.labelOf[id]!;
    this.keyOf[id] = undefined;
    this.ownerOf[id] = undefined;
    this.labelOf[id] = 0;
    this.rows.release(this.rowOf[id]!);
    this.free.push(id);
    bucket.ids.delete(id);
    const group = bucket.groups ? this.groupOf!(key) : undefined;
    if (this.inGraph(bucket, group) && bucket.ann) bucket.ann.remove(annKey(label));
    this.byAnnKey.deleteId(id);
    if (group === undefined) bucket.ungrouped--;
    else bucket.groups!.remove(group, id);
    if (bucket.ids.size === 0) this.partitions.delete(bucket.name);
  }

  clear(): void {
    this.counter?.cleared();
    this.staged = undefined;
    this.partitions.clear();
    this.byKey.clear();
    this.keyOf = [];
    this.ownerOf = [];
    this.labelOf = [];
    this.rowOf = [];
    this.byAnnKey.clear();
    this.free = [];
    this.rows.clear();
  }

  /**
   * Up to `k` entries of `partition`, most similar first, with exact cosine similarity. `group`:
   * the query's group (see `groupOf`); in a large partition only its entries, and those without a
   * group, are candidates. Without it every entry is.
   */
  nearest(partition: string, query: Float32Array, k: number, group?: string): Neighbour[] {
    const bucket = this.partitions.get(partition);
    const staged = this.staged?.partitionNumber(partition) ?? -1;
    if ((!bucket && staged < 0) || query.length !== this.dimensions || !isFiniteVector(query)) return [];
    if (staged >= 0) return this.topKWithStaged(query, bucket?.ids ?? [], staged, k);
    if (!bucket!.large) return this.topK(query, bucket!.ids, k);
    if (!bucket!.groups) return this.topK(query, this.searchGraph(bucket!, query, k), k);
    if (group === undefined) return this.topK(query, [...this.searchGraph(bucket!, query, k), ...this.ungraphedIds(bucket!)], k);
    if (bucket!.groups.isGraphed(group)) return this.topK(query, this.searchGraph(bucket!, query, k), k);
    const ids = [...bucket!.groups.ids(group)];
    return this.topK(query, bucket!.ungrouped > 0 ? [...ids, ...this.searchGraph(bucket!, query, k)] : ids, k);
  }

  /** The graph's nearest entries to `query` (over-fetched for the exact re-scoring). */
  private searchGraph(bucket: Partition, query: Float32Array, k: number): number[] {
    const ids: number[] = [];
    const size = bucket.ann?.size() ?? 0;
    if (size === 0) return ids;
    const found = bucket.ann!.search(query, Math.min(k * ANN_OVERFETCH, size), 1);
    for (const label of found.keys) {
      const id = this.byAnnKey.get(Number(label));
      // One table serves every partition: an id is this graph's only while its entry is this partition's.
      if (id !== undefined && this.ownerOf[id] === bucket) ids.push(id);
    }
    return ids;
  }

  /** Entries of a large partition's groups that are not in its graph. */
  private *ungraphedIds(bucket: Partition): IterableIterator<number> {
    for (const [group, , graphed] of bucket.groups!.groups()) if (!graphed) yield* bucket.groups!.ids(group);
  }

  /** Number of partitions whose HNSW graph holds entries (for `describe()` and tests). */
  annPartitions(): number {
    let count = 0;
    for (const bucket of this.partitions.values()) if (bucket.ann && bucket.ann.size() > 0) count++;
    return count;
  }

  /** Bytes held by vectors and graphs, roughly, for the memory figure in the benchmark. */
  approximateBytes(): number {
    this.settle();
    let bytes = this.rows.bytes() + this.byKey.size * 150;
    for (const bucket of this.partitions.values()) if (bucket.ann) bytes += bucket.ann.size() * (this.dimensions + 16 * 2 * 8);
    return bytes;
  }

  /** Switches a partition to graph search: its entries without a group and its large groups go into a graph. */
  private buildAnn(bucket: Partition): void {
    if (!annAvailable()) return;
    this.graphsBuilt++;
    bucket.large = true;
    bucket.ann = undefined;
    if (!bucket.groups) {
      this.addToGraph(bucket, [...bucket.ids]);
      return;
    }
    const ids: number[] = [];
    if (bucket.ungrouped > 0) for (const id of bucket.ids) if (this.groupOf!(this.keyOf[id]!) === undefined) ids.push(id);
    for (const [group, size] of bucket.groups.groups()) if (size >= this.groupMin) ids.push(...bucket.groups.graph(group));
    this.addToGraph(bucket, ids);
  }

  /**
   * The `k` most similar candidates, best first. Keeps a list sorted by a fixed-size insertion rather
   * than re-sorting it on every improvement; equal scores keep their scan order, as a stable sort would.
   */
  private topK(query: Float32Array, candidates: Iterable<number>, k: number): Neighbour[] {
    const best: Neighbour[] = [];
    if (k <= 0) return best;
    const nonzero = nonzeroIndices(query);
    for (const id of candidates) {
      const similarity = this.rows.dot(this.rowOf[id]!, query, nonzero);
      const position = rank(best, k, similarity);
      if (position >= 0) best.splice(position, 0, { key: this.keyOf[id]!, similarity });
    }
    return best;
  }

  /**
   * `topK` over a partition part moved into the maps (`ids`) and, after it, its staged slots
   * from partition number `staged` on: together, the order of their last adds.
   */
  private topKWithStaged(query: Float32Array, ids: Iterable<number>, staged: number, k: number): Neighbour[] {
    const best = this.topK(query, ids, k);
    if (k <= 0) return best;
    const entries = this.staged!;
    const nonzero = nonzeroIndices(query);
    for (let slot = entries.head(staged); slot >= 0; slot = entries.next(slot)) {
      if (!entries.isLive(slot)) continue;
      const similarity = this.rows.dot(entries.row(slot), query, nonzero);
      const position = rank(best, k, similarity);
      if (position >= 0) best.splice(position, 0, { key: entries.key(slot), similarity });
    }
    return best;
  }
}

/**
 * Where a candidate scoring `similarity` goes in `best` (best first, at most `k` long), making
 * room for it; -1 when it does not belong. Equal scores keep their scan order, as a stable sort
 * would. Written so that NaN fails it: a score that is not a number is never a neighbour.
 */
function rank(best: Neighbour[], k: number, similarity: number): number {
  if (!(similarity > -Infinity) || (best.length === k && !(similarity > best[k - 1]!.similarity))) return -1;
  let position = best.length;
  while (position > 0 && best[position - 1]!.similarity < similarity) position--;
  if (best.length === k) best.pop();
  return position;
}

/**
 * The positions where `query` is not zero, when they are under half of it (the lexical
 * embedder's vectors hold 8–30 non-zero values of 128); undefined for a dense vector.
 */
function nonzeroIndices(query: Float32Array): Uint16Array | undefined {
  let count = 0;
  for (let i = 0; i < query.length; i++) if (query[i] !== 0) count++;
  if (count * 2 > query.length || query.length > 0xffff) return undefined;
  const indices = new Uint16Array(count);
  let at = 0;
  for (let i = 0; i < query.length; i++) if (query[i] !== 0) indices[at++] = i;
  return indices;
}
