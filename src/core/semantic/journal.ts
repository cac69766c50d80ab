/**
 * The vector index on disk as an append-only journal: each add or remove is one small checksummed
 * record appended in a batch, instead of the whole index rewritten and hashed every 2 s (12% of
 * the miss path's CPU at 100k entries, issue 15). A torn or damaged tail is dropped on load; the
 * cache then re-reads the entries it lacks from the store. The journal is rewritten only when
 * removed records make up more than half of it.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { NODE_FILES, replaceDurably, type ReplaceFiles } from '../store/durableReplace';
import { makePrivateDir } from '../store/privateFiles';
import { removeStaleTemporaries } from '../store/staleTemporaries';
import { ByteSink } from './byteSink';
import { isStored, VectorRows } from './rows';

const FILE = 'vectors.journal';
/**
 * Version 4 added sparse add records, version 5 pending records (entries stored without a vector,
 * see pending.ts). A journal of version 3 or 4 still opens, and is rewritten as version 5 at its
 * next flush, so an older build never meets a record it cannot read (it finds no journal it knows
 * and rebuilds from the store).
 */
const MAGIC = Buffer.from('ISARVJ05', 'latin1');
/** Older versions that still open, and whether add records may be sparse in them. */
const LEGACY = [
  { magic: Buffer.from('ISARVJ04', 'latin1'), sparse: true },
  { magic: Buffer.from('ISARVJ03', 'latin1'), sparse: false },
] as const;
/**
 * AddSparse holds a vector as a count (u16), its non-zero positions (u16 each, increasing) and
 * their values (f32 each): a lexical vector's 8–30 values take ~100 B instead of 512 B, so the
 * journal at 100k entries is about a third of its size and replays that much faster (issue 15).
 */
const Op = { Add: 1, Remove: 2, AddSparse: 3, Pending: 4 } as const;
/** payload length (u32) + crc32 of the payload (u32). */
const FRAME_HEADER = 8;
/** The journal is rewritten once it is this many times the live records, and at least this big. */
const COMPACT_RATIO = 2;
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;

/** One live vector as the journal replays it. */
export interface JournalEntry {
  key: string;
  partition: string;
  label: bigint;
  vector: Float32Array;
}

function header(embedder: string, dimensions: number, magic = MAGIC): Buffer {
  const json = Buffer.from(JSON.stringify({ embedder, dimensions }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([magic, length, json]);
}

/**
 * Appends one record to `out`: payload length, crc32, then the payload `fill` writes at the offset
 * it is given (exactly `payloadLength` bytes). Returns the record's length.
 */
function appendRecord(out: ByteSink, payloadLength: number, fill: (bytes: Buffer, at: number) => void): number {
  const start = out.reserve(FRAME_HEADER + payloadLength);
  const { bytes } = out;
  const payload = start + FRAME_HEADER;
  fill(bytes, payload);
  bytes.writeUInt32LE(payloadLength, start);
  bytes.writeUInt32LE(crc32(bytes.subarray(payload, payload + payloadLength)), start + 4);
  out.length = payload + payloadLength;
  return FRAME_HEADER + payloadLength;
}

/** Bytes of a sparse vector of `count` values. */
const sparseBytes = (count: number): number => 2 + count * 6;

/** Appends an add record to `out` and returns its length; `allowSparse` is false while the file is a version 3 journal. */
function appendAddRecord(out: ByteSink, entry: JournalEntry, allowSparse = true): number {
  const { key, partition, vector } = entry;
  let count = 0;
  for (let i = 0; i < vector.length; i++) if (isStored(vector[i]!)) count++;
  const sparse = allowSparse && sparseBytes(count) < vector.byteLength && vector.length <= 0xffff;
  const keyBytes = Buffer.byteLength(key);
  const partitionBytes = Buffer.byteLength(partition);
  const payloadLength = 1 + 2 + keyBytes + 2 + partitionBytes + 8 + (sparse ? sparseBytes(count) : vector.byteLength);
  return appendRecord(out, payloadLength, (bytes, start) => {
    let at = bytes.writeUInt8(sparse ? Op.AddSparse : Op.Add, start);
    at = bytes.writeUInt16LE(keyBytes, at);
    at += bytes.write(key, at, 'utf8');
    at = bytes.writeUInt16LE(partitionBytes, at);
    at += bytes.write(partition, at, 'utf8');
    at = bytes.writeBigUInt64LE(entry.label, at);
    if (!sparse) {
      Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(bytes, at);
      return;
    }
    at = bytes.writeUInt16LE(count, at);
    let value = at + count * 2;
    for (let i = 0; i < vector.length; i++) {
      if (!isStored(vector[i]!)) continue;
      at = bytes.writeUInt16LE(i, at);
      value = bytes.writeFloatLE(vector[i]!, value);
    }
  });
}

/** A record of one key alone: a remove, or an entry stored without a vector (pending). */
function appendKeyRecord(out: ByteSink, op: typeof Op.Remove | typeof Op.Pending, key: string): void {
  const keyBytes = Buffer.byteLength(key);
  appendRecord(out, 3 + keyBytes, (bytes, start) => {
    bytes.writeUInt8(op, start);
    bytes.writeUInt16LE(keyBytes, start + 1);
    bytes.write(key, start + 3, 'utf8');
  });
}

/** The live entries of a replayed journal, in the order of their last add. */
export interface ReplayedEntries extends Iterable<JournalEntry> {
  readonly length: number;
}

/**
 * Takes the journal's records in file order as replay decodes them. `vector` is one scratch
 * array the next record overwrites: a sink copies what it keeps (the index does).
 */
export interface ReplaySink {
  add(key: string, partition: string, label: bigint, vector: Float32Array): void;
  /**
   * A sparse record as it is stored (`values[j]` at `positions[j]`, j < count, every other value
   * +0), in scratch arrays like `add`'s vector; without it such records come to `add`.
   */
  addSparse?(key: string, partition: string, label: bigint, positions: Uint16Array, values: Float32Array, count: number): void;
  remove(key: string): void;
  /** An entry stored without a vector (pending.ts); a later add or remove of the key supersedes it. */
  pending?(key: string): void;
}

/** A record's key as stored: bytes [start, end) of `bytes`, valid only during the call. */
export interface KeyBytes {
  bytes: Buffer;
  start: number;
  end: number;
}

/**
 * A sink that takes keys as bytes and labels as numbers: no string or BigInt per record, for a
 * replay that need not hash 100k keys before the first answer (staged.ts). `label` is exact up to
 * 2^53 (the index gives a fresh label to anything larger, as it does to such a bigint).
 */
export interface ByteKeyedSink {
  readonly byteKeys: true;
  add(key: KeyBytes, partition: string, label: number, vector: Float32Array): void;
  addSparse(key: KeyBytes, partition: string, label: number, positions: Uint16Array, values: Float32Array, count: number): void;
  remove(key: KeyBytes): void;
  pending?(key: KeyBytes): void;
}

/** `sink` as a ByteKeyedSink: each key decoded to a string (UTF-8) and each label a bigint again. */
function decodingKeys(sink: ReplaySink): ByteKeyedSink {
  const text = (key: KeyBytes): string => key.bytes.toString('utf8', key.start, key.end);
  const addSparse = sink.addSparse?.bind(sink);
  let full = new Float32Array(0);
  return {
    byteKeys: true,
    add: (key, partition, label, values) => sink.add(text(key), partition, BigInt(label), values),
    addSparse: (key, partition, label, positions, values, count) => {
      if (addSparse) return addSparse(text(key), partition, BigInt(label), positions, values, count);
      if (full.length !== positions.length) full = new Float32Array(positions.length);
      full.fill(0);
      for (let j = 0; j < count; j++) full[positions[j]!] = values[j]!;
      sink.add(text(key), partition, BigInt(label), full);
    },
    remove: (key) => sink.remove(text(key)),
    pending: (key) => sink.pending?.(text(key)),
  };
}

/** The label of a record: a u64 as a number (exact below 2^53) without a BigInt. */
const readLabel = (bytes: Buffer, at: number): number => bytes.readUInt32LE(at) + bytes.readUInt32LE(at + 4) * 0x1_0000_0000;

const WINDOW_BYTES = 1024 * 1024;
/** Records replayed between checks of `yieldWhile` (~10 ms at 100k entries). */
const YIELD_EVERY = 2048;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sequential positional reads of `fd` through one reused buffer. */
class FileWindow {
  buffer = Buffer.allocUnsafe(WINDOW_BYTES);
  private start = 0;
  private end = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /**
   * Makes the `length` bytes at `position` readable in `buffer` and returns where they start in
   * it (valid until the next call), or -1 past the end of the file. No object per call.
   */
  at(position: number, length: number): number {
    if (position + length > this.size) return -1;
    if (position < this.start || position + length > this.end) {
      if (length > this.buffer.length) this.buffer = Buffer.allocUnsafe(length);
      const wanted = Math.min(this.buffer.length, this.size - position);
      let filled = 0;
      while (filled < wanted) {
        const read = readSync(this.fd, this.buffer, filled, wanted - filled, position + filled);
        if (read === 0) break;
        filled += read;
      }
      this.start = position;
      this.end = position + filled;
      if (position + length > this.end) return -1;
    }
    return position - this.start;
  }

  /** The `length` bytes at `position` (a view valid until the next call), or undefined past the end of the file. */
  bytes(position: number, length: number): Buffer | undefined {
    const at = this.at(position, length);
    return at < 0 ? undefined : this.buffer.subarray(at, at + length);
  }
}

/**
 * Replays the journal's records into `sink`, in one pass through a small window of the file (a
 * 70 MB buffer once outlived the replay, issue 15), with no object per record but its key: at
 * 100k entries, a first pass into a map of records and a second one reading their vectors took
 * ~0.6 s before the first L1b answer. Stops at the first record that does not check out, having
 * given the sink every record before it.
 */
async function replay(fd: number, size: number, start: number, dimensions: number, sink: ByteKeyedSink, yieldWhile: () => boolean): Promise<{ goodEnd: number; recordBytes: number }> {
  const window = new FileWindow(fd, size);
  const vector = new Float32Array(dimensions);
  const vectorBytes = new Uint8Array(vector.buffer);
  const sparsePositions = new Uint16Array(dimensions);
  const sparseValues = new Float32Array(dimensions);
  const key: KeyBytes = { bytes: window.buffer, start: 0, end: 0 };
  const fullBytes = dimensions * 4;
  // Every entry of a partition names it: decode its bytes once, while they repeat.
  let partitionBytes = Buffer.alloc(0);
  let partition = '';
  let position = start;
  let recordBytes = 0;
  for (let records = 1; ; records++) {
    if (records % YIELD_EVERY === 0 && yieldWhile()) await nextTurn();
    let at = window.at(position, FRAME_HEADER);
    if (at < 0) break;
    const buffer = window.buffer;
    const length = buffer.readUInt32LE(at);
    const checksum = buffer.readUInt32LE(at + 4);
    const end = position + FRAME_HEADER + length;
    if (length < 3 || end > size) break;
    at = window.at(position + FRAME_HEADER, length);
    if (at < 0) break;
    const payload = window.buffer; // the same buffer, or a larger one for a long record
    if (crc32(payload.subarray(at, at + length)) !== checksum) break;
    const op = payload[at]!;
    const keyLength = payload.readUInt16LE(at + 1);
    if (3 + keyLength > length) break;
    key.bytes = payload;
    key.start = at + 3;
    key.end = at + 3 + keyLength;
    if (op === Op.Remove) {
      sink.remove(key);
    } else if (op === Op.Pending) {
      sink.pending?.(key);
    } else if (op === Op.Add || op === Op.AddSparse) {
      let field = at + 3 + keyLength;
      const payloadEnd = at + length;
      if (field + 2 > payloadEnd) break;
      const partitionLength = payload.readUInt16LE(field);
      field += 2;
      if (field + partitionLength + 8 + 2 > payloadEnd) break;
      const count = op === Op.AddSparse ? payload.readUInt16LE(field + partitionLength + 8) : -1;
      if (field + partitionLength + 8 + (count < 0 ? fullBytes : sparseBytes(count)) !== payloadEnd || count > dimensions) break;
      if (partitionBytes.length !== partitionLength || partitionBytes.compare(payload, field, field + partitionLength) !== 0) {
        partitionBytes = Buffer.from(payload.subarray(field, field + partitionLength));
        partition = partitionBytes.toString('utf8');
      }
      field += partitionLength;
      const label = readLabel(payload, field);
      field += 8;
      if (count < 0) {
        payload.copy(vectorBytes, 0, field, field + fullBytes);
        sink.add(key, partition, label, vector);
      } else {
        const values = field + 2 + count * 2;
        for (let j = 0; j < count; j++) {
          sparsePositions[j] = payload.readUInt16LE(field + 2 + j * 2);
          sparseValues[j] = payload.readFloatLE(values + j * 4);
        }
        sink.addSparse(key, partition, label, sparsePositions, sparseValues, count);
      }
      recordBytes = end - position;
    } else {
      break;
    }
    position = end;
  }
  return { goodEnd: position, recordBytes };
}

/** A sink that keeps the live entries (with their own copies of the vectors) and pending keys, for `VectorJournal.open`. */
function collect(): ReplaySink & { entries: ReplayedEntries; pendingKeys: Set<string> } {
  const live = new Map<string, JournalEntry>();
  const pendingKeys = new Set<string>();
  return {
    add: (key, partition, label, vector) => {
      pendingKeys.delete(key);
      live.delete(key); // re-insert so the order stays the order of the last add
      live.set(key, { key, partition, label, vector: vector.slice() });
    },
    remove: (key) => {
      pendingKeys.delete(key);
      live.delete(key);
    },
    pending: (key) => {
      live.delete(key);
      pendingKeys.add(key);
    },
    pendingKeys,
    entries: {
      get length() {
        return live.size;
      },
      [Symbol.iterator]: () => live.values(),
    },
  };
}

/**
 * The journal of one index folder.
 *
 * @example
 * const { journal, entries } = await VectorJournal.open(dir, embedder.id, 256);
 * journal.recordAdd({ key, partition, label, vector }); await journal.flush();
 */
export class VectorJournal {
  /** Records made since the last flush. */
  private unflushed = new ByteSink();
  /** The buffer of the last flush, reused by the next once its write is done. */
  private spare: ByteSink | undefined;
  private file: FileHandle | undefined;
  /** Bytes in the file (after the last flush). */
  private fileBytes = 0;
  /** Bytes of one add record, the last one seen: the compaction estimate of a live record. */
  private recordBytes = 0;
  /** The file is of an older version: rewrite it before appending to it. */
  private legacy = false;
  /** Add records may be sparse (false in a version 3 file). */
  private sparse = true;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly embedder: string,
    private readonly dimensions: number,
    /** The calls a rewrite makes (temporary, fsync, rename, folder fsync); a test records them. */
    private readonly files: ReplaceFiles = NODE_FILES,
  ) {}

  /**
   * Opens the journal of `dir`. `entries` is undefined when there is none usable (missing, made by
   * another embedder, damaged header): the caller rebuilds and then calls `rewrite`. Holds every
   * live vector at once: the cache replays into its index with `openInto` instead.
   */
  static async open(dir: string, embedder: string, dimensions: number, files: ReplaceFiles = NODE_FILES): Promise<{ journal: VectorJournal; entries: ReplayedEntries | undefined; pendingKeys: ReadonlySet<string> }> {
    const sink = collect();
    const { journal, replayed } = await VectorJournal.openInto(dir, embedder, dimensions, sink, undefined, files);
    return { journal, entries: replayed ? sink.entries : undefined, pendingKeys: sink.pendingKeys };
  }

  /**
   * Opens the journal of `dir`, giving its records to `sink` in file order. `replayed` is false
   * when there is none usable (see `open`); the sink then got nothing. While `yieldWhile()` is
   * true (asked every 2,048 records) the replay lets a turn of the event loop run before going on.
   */
  static async openInto(dir: string, embedder: string, dimensions: number, sink: ReplaySink, yieldWhile?: () => boolean, files?: ReplaceFiles): Promise<{ journal: VectorJournal; replayed: boolean }>;
  static async openInto(dir: string, embedder: string, dimensions: number, sink: ByteKeyedSink, yieldWhile?: () => boolean, files?: ReplaceFiles): Promise<{ journal: VectorJournal; replayed: boolean }>;
  static async openInto(dir: string, embedder: string, dimensions: number, sink: ReplaySink | ByteKeyedSink, yieldWhile: () => boolean = () => false, files: ReplaceFiles = NODE_FILES): Promise<{ journal: VectorJournal; replayed: boolean }> {
    const journal = new VectorJournal(dir, embedder, dimensions, files);
    await removeStaleTemporaries(dir); // a kill -9 mid-rewrite or mid-save leaves <file>.<pid>.tmp
    let file: FileHandle;
    try {
      file = await open(join(dir, FILE), 'r+');
    } catch {
      return { journal, replayed: false };
    }
    try {
      const { size } = await file.stat();
      const expected = header(embedder, dimensions);
      const window = new FileWindow(file.fd, size);
      const found = window.bytes(0, expected.length);
      const legacy = found && LEGACY.find(({ magic }) => found.equals(header(embedder, dimensions, magic)));
      journal.legacy = legacy !== undefined;
      journal.sparse = legacy?.sparse ?? true;
      if (!found || !(found.equals(expected) || journal.legacy)) {
        await file.close();
        return { journal, replayed: false };
      }
      const { goodEnd, recordBytes } = await replay(file.fd, size, expected.length, dimensions, 'byteKeys' in sink ? sink : decodingKeys(sink), yieldWhile);
      // The compaction estimate needs a record's size: left at 0, the first flush after every start
      // took the journal for all dead records and rewrote it whole (66 MB at 100k entries).
      journal.recordBytes = recordBytes;
      journal.file = file;
      // Cut a torn or damaged tail, so appends follow the last good record.
      if (goodEnd < size) await file.truncate(goodEnd);
      journal.fileBytes = goodEnd;
      return { journal, replayed: true };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  recordAdd(entry: JournalEntry): void {
    this.recordBytes = appendAddRecord(this.unflushed, entry, this.sparse);
  }

  recordRemove(key: string): void {
    appendKeyRecord(this.unflushed, Op.Remove, key);
  }

  /** Records that the entry `key` is in the store without a vector (pending.ts). */
  recordPending(key: string): void {
    appendKeyRecord(this.unflushed, Op.Pending, key);
  }

  /** Appends the records made since the last flush, in one write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const records = this.unflushed;
      if (records.length === 0 || !this.file) return;
      // Records made while this write is under way go to the other buffer.
      this.unflushed = this.spare ?? new ByteSink();
      this.spare = undefined;
      await this.file.write(records.bytes, 0, records.length, this.fileBytes);
      this.fileBytes += records.length;
      records.reset();
      this.spare = records;
    });
    return this.writing;
  }

  /** Whether removed and replaced records have grown the file past twice the live ones. */
  wantsRewrite(liveEntries: number): boolean {
    if (this.legacy && this.file) return true;
    return this.fileBytes > COMPACT_MIN_BYTES && this.fileBytes > COMPACT_RATIO * liveEntries * this.recordBytes;
  }

  /**
   * Replaces the journal with exactly `entries` as they are now, and the keys of the entries stored
   * without a vector (after a rebuild, a clear, or when it grew too big); records made after this
   * call are appended behind them.
   */
  rewrite(current: Iterable<JournalEntry>, pendingKeys: Iterable<string> = []): Promise<void> {
    // Copy the vectors now, one at a time as they come: the index hands out views of rows it
    // reuses once an entry is removed (and may build each vector from a sparse row), and the
    // records are written after awaits, when such a row may hold another entry's vector.
    // The copies are sparse rows where they can be (16 MB rather than 51 MB at 100k lexical entries).
    const copies = new VectorRows(this.dimensions);
    const entries: Array<{ key: string; partition: string; label: bigint; row: number }> = [];
    for (const { key, partition, label, vector } of current) entries.push({ key, partition, label, row: copies.put(vector) });
    const pendings = [...pendingKeys];
    this.unflushed.reset();
    this.writing = this.writing.then(async () => {
      await makePrivateDir(this.dir);
      const path = join(this.dir, FILE);
      const size = await replaceDurably(
        path,
        async (draft) => {
          let written = 0;
          const chunk = new ByteSink();
          chunk.append(header(this.embedder, this.dimensions));
          const write = async (): Promise<void> => {
            await draft.write(chunk.bytes, 0, chunk.length, written);
            written += chunk.length;
            chunk.reset();
          };
          for (const { key, partition, label, row } of entries) {
            this.recordBytes = appendAddRecord(chunk, { key, partition, label, vector: copies.vector(row) });
            if (chunk.length >= 1024 * 1024) await write();
          }
          for (const key of pendings) {
            appendKeyRecord(chunk, Op.Pending, key);
            if (chunk.length >= 1024 * 1024) await write();
          }
          await write();
          return written;
        },
        {
          files: this.files,
          beforeRename: async () => {
            await this.file?.close();
            this.file = undefined;
          },
        },
      );
      this.file = await open(path, 'r+');
      this.fileBytes = size;
      this.legacy = false;
      this.sparse = true;
    });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }
}
