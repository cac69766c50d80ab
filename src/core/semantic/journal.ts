/**
 * The vector index on disk as an append-only journal: each add or remove is one small checksummed
 * record appended in a batch, instead of the whole index rewritten and hashed every 2 s (12% of
 * the miss path's CPU at 100k entries, issue 15). A torn or damaged tail is dropped on load; the
 * cache then re-reads the entries it lacks from the store. The journal is rewritten only when
 * removed records make up more than half of it.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../store/privateFiles';
import { removeStaleTemporaries } from '../store/staleTemporaries';

const FILE = 'vectors.journal';
const MAGIC = Buffer.from('ISARVJ03', 'latin1');
const Op = { Add: 1, Remove: 2 } as const;
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

function header(embedder: string, dimensions: number): Buffer {
  const json = Buffer.from(JSON.stringify({ embedder, dimensions }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([MAGIC, length, json]);
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, FRAME_HEADER);
  return out;
}

function addRecord(entry: JournalEntry): Buffer {
  const key = Buffer.from(entry.key);
  const partition = Buffer.from(entry.partition);
  const payload = Buffer.allocUnsafe(1 + 2 + key.length + 2 + partition.length + 8 + entry.vector.byteLength);
  let at = payload.writeUInt8(Op.Add, 0);
  at = payload.writeUInt16LE(key.length, at);
  at += key.copy(payload, at);
  at = payload.writeUInt16LE(partition.length, at);
  at += partition.copy(payload, at);
  at = payload.writeBigUInt64LE(entry.label, at);
  Buffer.from(entry.vector.buffer, entry.vector.byteOffset, entry.vector.byteLength).copy(payload, at);
  return frame(payload);
}

function removeRecord(key: string): Buffer {
  const bytes = Buffer.from(key);
  const payload = Buffer.allocUnsafe(3 + bytes.length);
  payload.writeUInt8(Op.Remove, 0);
  payload.writeUInt16LE(bytes.length, 1);
  bytes.copy(payload, 3);
  return frame(payload);
}

/**
 * Replays the journal's records: the live entries, each vector a view into one array holding
 * only live vectors (one copy each). Stops at the first record that does not check out.
 */
function replay(bytes: Buffer, start: number, dimensions: number): { entries: JournalEntry[]; goodEnd: number; recordBytes: number } {
  const live = new Map<string, { partition: string; label: bigint; at: number }>();
  let position = start;
  let recordBytes = 0;
  const vectorBytes = dimensions * 4;
  while (position + FRAME_HEADER <= bytes.length) {
    const length = bytes.readUInt32LE(position);
    const end = position + FRAME_HEADER + length;
    if (length < 3 || end > bytes.length) break;
    const payload = bytes.subarray(position + FRAME_HEADER, end);
    if (crc32(payload) !== bytes.readUInt32LE(position + 4)) break;
    const op = payload.readUInt8(0);
    const keyLength = payload.readUInt16LE(1);
    if (3 + keyLength > length) break;
    const key = payload.toString('utf8', 3, 3 + keyLength);
    if (op === Op.Remove) {
      live.delete(key);
    } else if (op === Op.Add) {
      let at = 3 + keyLength;
      const partitionLength = payload.readUInt16LE(at);
      at += 2;
      if (at + partitionLength + 8 + vectorBytes !== length) break;
      const partition = payload.toString('utf8', at, at + partitionLength);
      at += partitionLength;
      const label = payload.readBigUInt64LE(at);
      live.delete(key); // re-insert so replay order stays the order of the last add
      live.set(key, { partition, label, at: position + FRAME_HEADER + at + 8 });
      recordBytes = end - position;
    } else {
      break;
    }
    position = end;
  }
  const all = new Float32Array(live.size * dimensions);
  const target = new Uint8Array(all.buffer);
  const entries: JournalEntry[] = [];
  let row = 0;
  for (const [key, entry] of live) {
    target.set(bytes.subarray(entry.at, entry.at + vectorBytes), row * vectorBytes);
    entries.push({ key, partition: entry.partition, label: entry.label, vector: all.subarray(row * dimensions, (row + 1) * dimensions) });
    row++;
  }
  return { entries, goodEnd: position, recordBytes };
}

/**
 * The journal of one index folder.
 *
 * @example
 * const { journal, entries } = await VectorJournal.open(dir, embedder.id, 256);
 * journal.recordAdd({ key, partition, label, vector }); await journal.flush();
 */
export class VectorJournal {
  private pending: Buffer[] = [];
  private file: FileHandle | undefined;
  /** Bytes in the file (after the last flush). */
  private fileBytes = 0;
  /** Bytes of one add record, the last one seen: the compaction estimate of a live record. */
  private recordBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly embedder: string,
    private readonly dimensions: number,
  ) {}

  /**
   * Opens the journal of `dir`. `entries` is undefined when there is none usable (missing, made by
   * another embedder, damaged header): the caller rebuilds and then calls `rewrite`.
   */
  static async open(dir: string, embedder: string, dimensions: number): Promise<{ journal: VectorJournal; entries: JournalEntry[] | undefined }> {
    const journal = new VectorJournal(dir, embedder, dimensions);
    await removeStaleTemporaries(dir); // a kill -9 mid-rewrite or mid-save leaves <file>.<pid>.tmp
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, FILE));
    } catch {
      return { journal, entries: undefined };
    }
    const expected = header(embedder, dimensions);
    if (bytes.length < expected.length || !bytes.subarray(0, expected.length).equals(expected)) return { journal, entries: undefined };
    const { entries, goodEnd, recordBytes } = replay(bytes, expected.length, dimensions);
    // The compaction estimate needs a record's size: left at 0, the first flush after every start
    // took the journal for all dead records and rewrote it whole (66 MB at 100k entries).
    journal.recordBytes = recordBytes;
    journal.file = await open(join(dir, FILE), 'r+');
    // Cut a torn or damaged tail, so appends follow the last good record.
    if (goodEnd < bytes.length) await journal.file.truncate(goodEnd);
    journal.fileBytes = goodEnd;
    return { journal, entries };
  }

  recordAdd(entry: JournalEntry): void {
    const record = addRecord(entry);
    this.recordBytes = record.length;
    this.pending.push(record);
  }

  recordRemove(key: string): void {
    this.pending.push(removeRecord(key));
  }

  /** Appends the records made since the last flush, in one write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0 || !this.file) return;
      const bytes = Buffer.concat(this.pending);
      this.pending = [];
      await this.file.write(bytes, 0, bytes.length, this.fileBytes);
      this.fileBytes += bytes.length;
    });
    return this.writing;
  }

  /** Whether removed and replaced records have grown the file past twice the live ones. */
  wantsRewrite(liveEntries: number): boolean {
    return this.fileBytes > COMPACT_MIN_BYTES && this.fileBytes > COMPACT_RATIO * liveEntries * this.recordBytes;
  }

  /**
   * Replaces the journal with exactly `entries` as they are now (after a rebuild, a clear, or when
   * it grew too big); records made after this call are appended behind them.
   */
  rewrite(current: Iterable<JournalEntry>): Promise<void> {
    const entries = [...current];
    this.pending = [];
    this.writing = this.writing.then(async () => {
      await makePrivateDir(this.dir);
      const path = join(this.dir, FILE);
      const temporary = `${path}.${process.pid}.tmp`;
      const draft = await open(temporary, 'w', PRIVATE_FILE_MODE);
      let size = 0;
      try {
        let chunk: Buffer[] = [header(this.embedder, this.dimensions)];
        let chunkBytes = chunk[0]!.length;
        const write = async (): Promise<void> => {
          const bytes = Buffer.concat(chunk);
          await draft.write(bytes, 0, bytes.length, size);
          size += bytes.length;
          chunk = [];
          chunkBytes = 0;
        };
        for (const entry of entries) {
          const record = addRecord(entry);
          this.recordBytes = record.length;
          chunk.push(record);
          chunkBytes += record.length;
          if (chunkBytes >= 1024 * 1024) await write();
        }
        await write();
      } finally {
        await draft.close();
      }
      await this.file?.close();
      this.file = undefined;
      await rename(temporary, path);
      this.file = await open(path, 'r+');
      this.fileBytes = size;
    });
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }
}
