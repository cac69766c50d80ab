/**
 * Nearest-neighbour search per semantic partition: exact scan for small partitions (most agent
 * histories hold a handful of entries), a usearch HNSW graph once a partition grows past
 * `annMinEntries`. Candidates from the graph are re-scored with the exact cosine.
 */
import type * as Usearch from 'usearch';
import type { Index } from 'usearch';
import { isFiniteVector } from '../embed/embedder';

export interface Neighbour {
  /** Store key of the entry. */
  key: string;
  similarity: number;
}

export interface VectorIndexOptions {
  dimensions: number;
  /** A partition switches from exact scan to HNSW at this size (below it a scan is faster). */
  annMinEntries?: number;
}

interface Slot {
  key: string;
  partition: string;
  vector: Float32Array;
  /** usearch key (only meaningful inside an ANN partition). */
  label: bigint;
}

interface Partition {
  slots: Set<Slot>;
  ann?: Index;
  byLabel?: Map<bigint, Slot>;
}

const DEFAULT_ANN_MIN_ENTRIES = 2048;
/** Over-fetch from the approximate graph, then keep the best by exact cosine. */
const ANN_OVERFETCH = 8;

/** Creates an HNSW graph with half-precision storage: exact scores come from the re-scoring step. */
export function newAnnIndex(dimensions: number): Index {
  const { Index: AnnIndex, MetricKind, ScalarKind } = usearch();
  return new AnnIndex({ dimensions, metric: MetricKind.Cos, quantization: ScalarKind.F16, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false });
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
  private readonly partitions = new Map<string, Partition>();
  private readonly byKey = new Map<string, Slot>();
  private nextLabel = 1n;
  /** Graphs built from vectors (rather than adopted from a snapshot) since this index was created. */
  graphsBuilt = 0;
  /** While true, partitions do not switch to HNSW one insert at a time (see `bulkLoad`). */
  private deferAnn = false;

  constructor(options: VectorIndexOptions) {
    this.dimensions = options.dimensions;
    this.annMinEntries = options.annMinEntries ?? DEFAULT_ANN_MIN_ENTRIES;
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Every entry, for persistence. */
  *entries(): IterableIterator<{ key: string; partition: string; vector: Float32Array; label: bigint }> {
    for (const slot of this.byKey.values()) yield slot;
  }

  /** The HNSW graphs of the large partitions, for persistence. */
  *graphs(): IterableIterator<{ partition: string; graph: Index }> {
    for (const [partition, bucket] of this.partitions) if (bucket.ann) yield { partition, graph: bucket.ann };
  }

  /**
   * Adds or replaces the entry stored under `key`. `label` restores the graph key an entry had when
   * a snapshot was saved, so a saved graph can be adopted as it is. Returns the entry's label, or
   * undefined when the vector is refused: one NaN would poison the order of every later search in
   * its partition.
   */
  add(partition: string, key: string, vector: Float32Array, label?: bigint): bigint | undefined {
    if (vector.length !== this.dimensions) throw new Error(`vector has ${vector.length} dimensions, index expects ${this.dimensions}`);
    this.remove(key);
    if (!isFiniteVector(vector)) return undefined;
    const slotLabel = label ?? this.nextLabel;
    if (slotLabel >= this.nextLabel) this.nextLabel = slotLabel + 1n;
    const slot: Slot = { key, partition, vector, label: slotLabel };
    const bucket = this.partitions.get(partition) ?? { slots: new Set<Slot>() };
    this.partitions.set(partition, bucket);
    bucket.slots.add(slot);
    this.byKey.set(key, slot);
    if (bucket.ann && bucket.byLabel) {
      bucket.ann.add(slot.label, vector);
      bucket.byLabel.set(slot.label, slot);
    } else if (!this.deferAnn && bucket.slots.size >= this.annMinEntries) {
      this.buildAnn(bucket);
    }
    return slotLabel;
  }

  /**
   * Adds many entries, then gives each large partition its graph: a saved one from `savedGraphs`
   * when it holds exactly that partition's labels, otherwise one built in a single multi-threaded
   * batch (far faster than growing it one insert at a time).
   */
  bulkLoad(add: (index: VectorIndex) => void, savedGraphs: ReadonlyMap<string, Index> = new Map()): void {
    this.deferAnn = true;
    try {
      add(this);
    } finally {
      this.deferAnn = false;
    }
    for (const [partition, bucket] of this.partitions) {
      if (bucket.ann || bucket.slots.size < this.annMinEntries) continue;
      const saved = savedGraphs.get(partition);
      if (saved && this.adoptGraph(bucket, saved)) continue;
      this.buildAnn(bucket);
    }
  }

  /** Uses `graph` for `bucket` if it holds exactly the bucket's labels. */
  private adoptGraph(bucket: Partition, graph: Index): boolean {
    if (graph.size() !== bucket.slots.size || graph.dimensions() !== this.dimensions) return false;
    const slots = [...bucket.slots];
    const present = graph.contains(BigUint64Array.from(slots, (slot) => slot.label)) as boolean[];
    if (!present.every(Boolean)) return false;
    bucket.ann = graph;
    bucket.byLabel = new Map(slots.map((slot) => [slot.label, slot]));
    return true;
  }

  remove(key: string): void {
    const slot = this.byKey.get(key);
    if (!slot) return;
    this.byKey.delete(key);
    const bucket = this.partitions.get(slot.partition);
    if (!bucket) return;
    bucket.slots.delete(slot);
    if (bucket.ann && bucket.byLabel) {
      bucket.ann.remove(slot.label);
      bucket.byLabel.delete(slot.label);
    }
    if (bucket.slots.size === 0) this.partitions.delete(slot.partition);
  }

  clear(): void {
    this.partitions.clear();
    this.byKey.clear();
  }

  /** Up to `k` entries of `partition`, most similar first, with exact cosine similarity. */
  nearest(partition: string, query: Float32Array, k: number): Neighbour[] {
    const bucket = this.partitions.get(partition);
    if (!bucket || query.length !== this.dimensions || !isFiniteVector(query)) return [];
    let candidates: Iterable<Slot> = bucket.slots;
    if (bucket.ann && bucket.byLabel) {
      const found = bucket.ann.search(query, Math.min(k * ANN_OVERFETCH, bucket.slots.size), 1);
      const slots: Slot[] = [];
      for (const label of found.keys) {
        const slot = bucket.byLabel.get(label);
        if (slot) slots.push(slot);
      }
      candidates = slots;
    }
    return topK(query, candidates, k);
  }

  /** Number of partitions that use an HNSW graph (for `describe()` and tests). */
  annPartitions(): number {
    let count = 0;
    for (const bucket of this.partitions.values()) if (bucket.ann) count++;
    return count;
  }

  /** Bytes held by vectors and graphs, roughly, for the memory figure in the benchmark. */
  approximateBytes(): number {
    let bytes = this.byKey.size * (this.dimensions * 4 + 200);
    for (const bucket of this.partitions.values()) if (bucket.ann) bytes += bucket.ann.size() * (this.dimensions * 2 + 16 * 2 * 8);
    return bytes;
  }

  private buildAnn(bucket: Partition): void {
    if (!annAvailable()) return;
    this.graphsBuilt++;
    const ann = newAnnIndex(this.dimensions);
    const byLabel = new Map<bigint, Slot>();
    const slots = [...bucket.slots];
    const labels = new BigUint64Array(slots.length);
    const matrix = new Float32Array(slots.length * this.dimensions);
    slots.forEach((slot, i) => {
      labels[i] = slot.label;
      matrix.set(slot.vector, i * this.dimensions);
      byLabel.set(slot.label, slot);
    });
    // One thread: a graph built in parallel depends on scheduling, and so would benchmark figures.
    ann.add(labels, matrix, 1);
    bucket.ann = ann;
    bucket.byLabel = byLabel;
  }
}

/** Dot product of two equal-length vectors (embeddings are unit length, so this is the cosine). */
function dotProduct(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const length = a.length;
  // Same order of additions as `dot` in the embedder, so similarities (and hits) are bit-identical.
  for (let i = 0; i < length; i++) sum += a[i]! * b[i]!;
  return sum;
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

/**
 * `dotProduct(query, vector)` over the query's non-zero positions only, in the same order: each
 * skipped term is a zero times a finite number (index vectors are checked finite), and adding a
 * zero leaves a sum unchanged, so the result is bit-identical (but for the sign of a zero sum) and
 * an exact scan of a partition costs a fraction of the full products (issue 15).
 */
function sparseDotProduct(query: Float32Array, nonzero: Uint16Array, vector: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < nonzero.length; j++) {
    const i = nonzero[j]!;
    sum += query[i]! * vector[i]!;
  }
  return sum;
}

/**
 * The `k` most similar candidates, best first. Keeps a list sorted by a fixed-size insertion rather
 * than re-sorting it on every improvement; equal scores keep their scan order, as a stable sort would.
 */
function topK(query: Float32Array, candidates: Iterable<Slot>, k: number): Neighbour[] {
  const best: Neighbour[] = [];
  if (k <= 0) return best;
  const nonzero = nonzeroIndices(query);
  for (const slot of candidates) {
    const similarity = nonzero ? sparseDotProduct(query, nonzero, slot.vector) : dotProduct(query, slot.vector);
    // Written so that NaN fails it: a score that is not a number is never a neighbour.
    if (!(similarity > -Infinity) || (best.length === k && !(similarity > best[k - 1]!.similarity))) continue;
    let position = best.length;
    while (position > 0 && best[position - 1]!.similarity < similarity) position--;
    if (best.length === k) best.pop();
    best.splice(position, 0, { key: slot.key, similarity });
  }
  return best;
}
