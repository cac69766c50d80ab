/**
 * The vectors of the L1b index, stored sparse when they are: a lexical vector holds 6–30 non-zero
 * values of 128, so (uint8 position, float32 value) pairs take 81 B (up to 16 values) or 161 B (up
 * to 32) instead of 512 B (issue 15: 51 MB of vectors at 100k entries, then 16 MB with one row
 * size, ~12 MB with two). Vectors with more non-zero values than a sparse row holds
 * (long prompts, dense embedders such as the transformers profile) keep a full row.
 *
 * Rows live in fixed-size chunks, one typed array each, found from a row handle: no object per
 * vector, no array copied whole to grow, and a freed row is reused by the next put.
 */
const ROWS_PER_CHUNK = 4096;
const CHUNK_SHIFT = 12;
const ROW_MASK = ROWS_PER_CHUNK - 1;

interface SparseRow {
  values: Float32Array;
  positions: Uint8Array;
  start: number;
  end: number;
}

/**
 * Sparse rows of one capacity. Two of them: a lexical vector holds 6–25 non-zero values (15.6 on
 * average in the bench data), so rows of half the largest capacity hold most of them in half the
 * bytes (issue 15).
 */
class SparseRows {
  values: Float32Array[] = [];
  positions: Uint8Array[] = [];
  lengths: Uint8Array[] = [];
  count = 0;
  free: number[] = [];

  constructor(readonly capacity: number) {}

  /** A free row, its chunk allocated. */
  newRow(): number {
    const row = this.free.pop() ?? this.count++;
    while (this.values.length <= row >>> CHUNK_SHIFT) {
      this.values.push(new Float32Array(ROWS_PER_CHUNK * this.capacity));
      this.positions.push(new Uint8Array(ROWS_PER_CHUNK * this.capacity));
      this.lengths.push(new Uint8Array(ROWS_PER_CHUNK));
    }
    return row;
  }

  bytes(): number {
    return this.values.length * ROWS_PER_CHUNK * (this.capacity * 5 + 1);
  }
}

/** A sparse row's handle: < 0, with the class (0 small, 1 large) in the low bit of its complement. */
const sparseHandle = (row: number, kind: number): number => ~((row << 1) | kind);

/** A stored value: a sparse row keeps every value but +0, so a vector reads back exactly as it was put (-0 included). */
export const isStored = (value: number): boolean => value !== 0 || 1 / value < 0;

/**
 * Rows of one dimension count. A handle ≥ 0 is a full row, a handle < 0 a sparse one (see `sparseHandle`).
 *
 * @example
 * const rows = new VectorRows(128);
 * const handle = rows.put(vector);
 * rows.dot(handle, query); // the same number as the full dot product
 */
export class VectorRows {
  /** Non-zero values a sparse row holds (a quarter of the dimensions); 0 when positions do not fit a byte. */
  readonly sparseCapacity: number;
  private full: Float32Array[] = [];
  private fullCount = 0;
  private fullFree: number[] = [];
  /** Sparse rows of up to half `sparseCapacity` values, then of up to `sparseCapacity`. */
  private sparse: [SparseRows, SparseRows];
  /** Reused by sparseRow: a scan calls dot once per candidate, so no object per call. */
  private readonly cursor: SparseRow = { values: new Float32Array(0), positions: new Uint8Array(0), start: 0, end: 0 };

  constructor(readonly dimensions: number) {
    this.sparseCapacity = dimensions <= 256 ? dimensions >> 2 : 0;
    this.sparse = this.newSparse();
  }

  private newSparse(): [SparseRows, SparseRows] {
    return [new SparseRows(this.sparseCapacity >> 1), new SparseRows(this.sparseCapacity)];
  }

  /** The class of sparse rows for `count` values (at most `sparseCapacity`). */
  private sparseKind(count: number): number {
    return count <= this.sparse[0].capacity ? 0 : 1;
  }

  /** Stores a copy of `vector` and returns its handle. */
  put(vector: Float32Array): number {
    let nonzero = 0;
    for (let i = 0; i < vector.length; i++) if (isStored(vector[i]!)) nonzero++;
    if (nonzero > this.sparseCapacity) {
      const row = this.fullFree.pop() ?? this.fullCount++;
      while (this.full.length <= row >>> CHUNK_SHIFT) this.full.push(new Float32Array(ROWS_PER_CHUNK * this.dimensions));
      this.full[row >>> CHUNK_SHIFT]!.set(vector, (row & ROW_MASK) * this.dimensions);
      return row;
    }
    const kind = this.sparseKind(nonzero);
    const rows = this.sparse[kind];
    const row = rows.newRow();
    const chunk = row >>> CHUNK_SHIFT;
    const values = rows.values[chunk]!;
    const positions = rows.positions[chunk]!;
    let at = (row & ROW_MASK) * rows.capacity;
    // Increasing positions: the products are then added in the full dot product's order.
    for (let i = 0; i < vector.length; i++) {
      if (!isStored(vector[i]!)) continue;
      positions[at] = i;
      values[at++] = vector[i]!;
    }
    rows.lengths[chunk]![row & ROW_MASK] = nonzero;
    return sparseHandle(row, kind);
  }

  /**
   * Stores the vector whose only stored values are `values[j]` at `positions[j]` (j < count, positions
   * increasing), as `put` would store it, without reading its zeros: the journal's replay at 100k
   * entries (issue 15). Undefined when it does not fit a sparse row: the caller then uses `put`.
   */
  putSparse(positions: Uint16Array, values: Float32Array, count: number): number | undefined {
    if (count > this.sparseCapacity) return undefined;
    for (let j = 0; j < count; j++) if (positions[j]! >= this.dimensions || (j > 0 && positions[j]! <= positions[j - 1]!)) return undefined;
    const kind = this.sparseKind(count);
    const rows = this.sparse[kind];
    const row = rows.newRow();
    const chunk = row >>> CHUNK_SHIFT;
    const at = (row & ROW_MASK) * rows.capacity;
    const rowPositions = rows.positions[chunk]!;
    const rowValues = rows.values[chunk]!;
    for (let j = 0; j < count; j++) {
      rowPositions[at + j] = positions[j]!;
      rowValues[at + j] = values[j]!;
    }
    rows.lengths[chunk]![row & ROW_MASK] = count;
    return sparseHandle(row, kind);
  }

  /** Frees the row of `handle` for the next put. */
  release(handle: number): void {
    if (handle >= 0) this.fullFree.push(handle);
    else this.sparse[~handle & 1]!.free.push(~handle >>> 1);
  }

  /**
   * Dot product of `query` and the row of `handle` (embeddings are unit length, so this is the
   * cosine). `nonzero`, the query's non-zero positions, lets a full row skip the others.
   *
   * Bit-identical to the full product `Σ query[i] * row[i]` over i in order (but for the sign of a
   * zero sum): every term skipped here is a zero times a finite number (vectors are checked finite
   * before they are stored), and adding a zero leaves a sum unchanged.
   */
  dot(handle: number, query: Float32Array, nonzero: Uint16Array | undefined): number {
    let sum = 0;
    if (handle >= 0) {
      const rows = this.full[handle >>> CHUNK_SHIFT]!;
      const at = (handle & ROW_MASK) * this.dimensions;
      if (nonzero) {
        for (let j = 0; j < nonzero.length; j++) {
          const i = nonzero[j]!;
          sum += query[i]! * rows[at + i]!;
        }
      } else {
        for (let i = 0; i < this.dimensions; i++) sum += query[i]! * rows[at + i]!;
      }
      return sum;
    }
    const { values, positions, start, end } = this.sparseRow(handle);
    for (let j = start; j < end; j++) sum += query[positions[j]!]! * values[j]!;
    return sum;
  }

  /** Writes the full vector of `handle` into `target` at `offset`. */
  copyTo(handle: number, target: Float32Array, offset: number): void {
    if (handle >= 0) {
      const at = (handle & ROW_MASK) * this.dimensions;
      target.set(this.full[handle >>> CHUNK_SHIFT]!.subarray(at, at + this.dimensions), offset);
      return;
    }
    target.fill(0, offset, offset + this.dimensions);
    const { values, positions, start, end } = this.sparseRow(handle);
    for (let j = start; j < end; j++) target[offset + positions[j]!] = values[j]!;
  }

  /** Where the sparse row of `handle` (< 0) sits: its chunk's arrays and its [start, end) in them. */
  private sparseRow(handle: number): SparseRow {
    const rows = this.sparse[~handle & 1]!;
    const row = ~handle >>> 1;
    const chunk = row >>> CHUNK_SHIFT;
    const cursor = this.cursor;
    cursor.values = rows.values[chunk]!;
    cursor.positions = rows.positions[chunk]!;
    cursor.start = (row & ROW_MASK) * rows.capacity;
    cursor.end = cursor.start + rows.lengths[chunk]![row & ROW_MASK]!;
    return cursor;
  }

  /** The vector of `handle`: a view of a full row (valid until the row is freed), or a new array. */
  vector(handle: number): Float32Array {
    if (handle >= 0) {
      const at = (handle & ROW_MASK) * this.dimensions;
      return this.full[handle >>> CHUNK_SHIFT]!.subarray(at, at + this.dimensions);
    }
    const out = new Float32Array(this.dimensions);
    this.copyTo(handle, out, 0);
    return out;
  }

  /** Bytes of the row chunks allocated. */
  bytes(): number {
    return this.full.length * ROWS_PER_CHUNK * this.dimensions * 4 + this.sparse[0].bytes() + this.sparse[1].bytes();
  }

  clear(): void {
    this.full = [];
    this.fullCount = 0;
    this.fullFree = [];
    this.sparse = this.newSparse();
  }
}
