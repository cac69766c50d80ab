/**
 * The embedded store's index snapshot: every live key with where its record sits in the log, in LRU
 * order, plus the log's length when it was taken. Opening from it replaces a scan of the whole log
 * with a read of one small file and a replay of the log's tail.
 */
import { isAscii } from 'node:buffer';
import { readSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { KeyIndex, orderedEntries, type OrderedEntries } from './keyIndex';
import { syncDirectory, writeFully, type IndexEntry } from './logFile';
import { decodeRecord, FRAME_HEADER_BYTES, LOG_MAGIC, RecordOp } from './recordLog';
import { PIECE_BYTES, PieceWriter, type Piece } from './pieceWriter';
import { PRIVATE_FILE_MODE } from './privateFiles';
import { readWhole } from './readWhole';
import { takePrefetched } from './snapshotPrefetch';

/** First bytes of a snapshot file; the version is part of it, so a future format is simply not ours. */
export const SNAPSHOT_MAGIC = Buffer.from('ISARIX02', 'latin1');
/** magic, crc32 of the rest, log length, crc32 of the log's first and of its last bytes, entry count. */
export const HEADER_BYTES = 8 + 4 + 8 + 4 + 4 + 4;
// Per entry, in columns after the header: key length in UTF-16 units (u16), offset (f64), frame
// length (u32), createdAt (f64); then every key, concatenated, as one UTF-8 string. Keys are
// substrings of it, decoded a build slice at a time (see `KeyText`): that is what makes a
// 100k-entry open cheap.
/** How much of the log's start and end the snapshot fingerprints: enough to tell a rewritten log from ours. */
const FINGERPRINT_BYTES = 4096;
/** Entries whose records are read back on open to check the snapshot still describes the log. */
export const SAMPLED_ENTRIES = 16;
/** Sampled records larger than this are skipped rather than read whole. */
const MAX_SAMPLED_FRAME_BYTES = 256 * 1024;

/** What a snapshot says about the log it was taken of. */
interface SnapshotHeader {
  /** Length of the log when the snapshot was taken; records after it are replayed on open. */
  logBytes: number;
  /** crc32 of the log's first bytes after the magic (a compaction rewrites them). */
  headCrc: number;
  /** crc32 of the log's bytes just before `logBytes`. */
  tailCrc: number;
}

/** A snapshot to write. `entries` are in LRU order: the first is the least recently used. */
export interface IndexSnapshot extends SnapshotHeader {
  entries: OrderedEntries | ReadonlyArray<readonly [string, IndexEntry]>;
}

/** A decoded snapshot, straight into the map the store uses (insertion order = LRU order). */
export interface DecodedSnapshot extends SnapshotHeader {
  index: Map<string, IndexEntry>;
  /** Sum of the entries' frame sizes. */
  liveBytes: number;
  /** A spread of entries (at most SAMPLED_ENTRIES + 1) to read back from the log. */
  samples: Array<[string, IndexEntry]>;
}

/**
 * The snapshot's concatenated keys, positions in UTF-16 units. When every byte is ASCII a unit is
 * a byte, so they stay bytes until a range is asked for: the first get after a start then needs
 * no decode of all 6.4 MB of keys at 100k entries (~25-45 ms of fresh memory before the first L1a
 * hit), and the map build decodes one slice's keys at a time. Otherwise they are decoded once.
 */
interface KeyText {
  readonly length: number;
  /** Where `key` occurs at or after `from`, or -1. */
  indexOf(key: string, from: number): number;
  /** The text of units [start, end). */
  slice(start: number, end: number): string;
}

/** ASCII bytes: a latin1 decode of them is their UTF-8 decode, byte for byte. */
class AsciiKeyText implements KeyText {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  indexOf(key: string, from: number): number {
    // A key with any non-ASCII character is in no ASCII text; latin1 would also mangle it into a false match.
    return Buffer.byteLength(key, 'utf8') === key.length ? this.bytes.indexOf(key, from, 'latin1') : -1;
  }

  slice(start: number, end: number): string {
    return this.bytes.toString('latin1', start, end);
  }
}

/** Keys with non-ASCII characters: decoded as UTF-8 once, up front. */
class DecodedKeyText implements KeyText {
  constructor(private readonly text: string) {}

  get length(): number {
    return this.text.length;
  }

  indexOf(key: string, from: number): number {
    return this.text.indexOf(key, from);
  }

  slice(start: number, end: number): string {
    return this.text.substring(start, end);
  }
}

function keyText(bytes: Buffer): KeyText {
  return isAscii(bytes) ? new AsciiKeyText(bytes) : new DecodedKeyText(bytes.toString('utf8'));
}

/** The entry whose key starts at `at`, given where each key starts (increasing), or -1: a binary search. */
export function entryStartingAt(keyStarts: Uint32Array, count: number, at: number): number {
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = keyStarts[middle]!;
    if (start === at) return middle;
    if (start < at) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * A checked snapshot still in its columns: keys found by a search of the one keys string, entries
 * read from typed arrays. Building the store's map from it (`addTo`) is most of an open's CPU at
 * 100k entries, so the store builds it in slices and answers gets from here meanwhile.
 */
export class SnapshotColumns implements SnapshotHeader {
  constructor(
    readonly logBytes: number,
    readonly headCrc: number,
    readonly tailCrc: number,
    /** Every key, concatenated, in LRU order. */
    private readonly keys: KeyText,
    /** Where key i starts in `keys` (UTF-16 units); one more element than there are entries. */
    private readonly keyStarts: Uint32Array,
    private readonly offsets: Float64Array,
    private readonly frameBytes: Uint32Array,
    private readonly createdAt: Float64Array,
    /** Sum of the entries' frame sizes. */
    readonly liveBytes: number,
  ) {}

  get count(): number {
    return this.offsets.length;
  }

  keyAt(i: number): string {
    return this.keys.slice(this.keyStarts[i]!, this.keyStarts[i + 1]!);
  }

  entryAt(i: number): IndexEntry {
    return { offset: this.offsets[i]!, frameBytes: this.frameBytes[i]!, createdAt: this.createdAt[i]! };
  }

  /** The position of `key`, or -1: a substring search, kept only where a key starts and ends. */
  find(key: string): number {
    if (key.length === 0) return -1;
    for (let at = this.keys.indexOf(key, 0); at >= 0; at = this.keys.indexOf(key, at + 1)) {
      const i = entryStartingAt(this.keyStarts, this.count, at);
      if (i >= 0 && this.keyStarts[i + 1]! - at === key.length) return i;
    }
    return -1;
  }

  /**
   * An index over this snapshot's columns (taken over, not copied), with no key yet: `addTo` maps
   * the keys. The preview may keep reading the columns meanwhile: an entry the index later
   * rewrites in place is one the log's tail replaced, and the preview answers those from the tail.
   */
  newIndex(): KeyIndex {
    return new KeyIndex(this.offsets, this.frameBytes, this.createdAt);
  }

  /** Maps the keys of entries [from, to) onto their slots of `newIndex()`, in order; false when a key is already there (damage the checksum missed, or a writer bug). */
  addTo(index: KeyIndex, from: number, to: number): boolean {
    // One decode for the slice's keys, each key a substring of it.
    const base = this.keyStarts[from]!;
    const text = this.keys.slice(base, this.keyStarts[to]!);
    for (let i = from; i < to; i++) if (!index.adopt(text.substring(this.keyStarts[i]! - base, this.keyStarts[i + 1]! - base), i)) return false;
    return true;
  }

  /** A spread of entries (at most SAMPLED_ENTRIES + 1) to read back from the log. */
  samples(): Array<[string, IndexEntry]> {
    const every = Math.max(1, Math.floor(this.count / SAMPLED_ENTRIES));
    const out: Array<[string, IndexEntry]> = [];
    for (let i = 0; i < this.count; i++) if (i % every === 0 || i === this.count - 1) out.push([this.keyAt(i), this.entryAt(i)]);
    return out;
  }
}

/** crc32 of the log's bytes [start, end), or -1 when they cannot all be read. */
function fingerprint(log: FileHandle, start: number, end: number): number {
  const bytes = Buffer.alloc(Math.max(0, end - start));
  const read = bytes.length === 0 ? 0 : readSync(log.fd, bytes, 0, bytes.length, start);
  return read === bytes.length ? crc32(bytes) : -1;
}

/** Fingerprints of the first and the last FINGERPRINT_BYTES (or fewer) of the log's first `logBytes`, after the magic. */
export function logFingerprints(log: FileHandle, logBytes: number): { headCrc: number; tailCrc: number } {
  return {
    headCrc: fingerprint(log, LOG_MAGIC.length, Math.min(logBytes, LOG_MAGIC.length + FINGERPRINT_BYTES)),
    tailCrc: fingerprint(log, Math.max(LOG_MAGIC.length, logBytes - FINGERPRINT_BYTES), logBytes),
  };
}

/** Where the checksum goes; it covers every byte after it. */
const CRC_AT = 8;

/** Encodes a snapshot of `entries` (LRU order) describing the first `logBytes` bytes of `log`. */
export function encodeIndexSnapshot(snapshot: IndexSnapshot, pieceBytes = PIECE_BYTES): Buffer {
  const parts: Buffer[] = [];
  const pieces = snapshotPieces(snapshot, pieceBytes);
  let next = pieces.next();
  for (; !next.done; next = pieces.next()) parts.push(Buffer.from(next.value.bytes));
  const out = Buffer.concat(parts);
  out.writeUInt32LE(next.value, CRC_AT);
  return out;
}

/**
 * The snapshot's bytes in pieces of one reused buffer, the checksum left zero; returns the
 * checksum to write at CRC_AT. Each piece must be used before the next is asked for.
 */
function* snapshotPieces(snapshot: IndexSnapshot, pieceBytes: number): Generator<Piece, number> {
  const entries = 'offsets' in snapshot.entries ? snapshot.entries : orderedFromPairs(snapshot.entries);
  const count = entries.count;
  const out = new PieceWriter(CRC_AT + 4, pieceBytes);
  yield* out.values(1, HEADER_BYTES, (bytes, at) => {
    SNAPSHOT_MAGIC.copy(bytes, at);
    bytes.writeUInt32LE(0, at + CRC_AT);
    bytes.writeDoubleLE(snapshot.logBytes, at + 12);
    bytes.writeUInt32LE(snapshot.headCrc >>> 0, at + 20);
    bytes.writeUInt32LE(snapshot.tailCrc >>> 0, at + 24);
    bytes.writeUInt32LE(count, at + 28);
  });
  yield* out.values(count, 2, (bytes, at, i) => bytes.writeUInt16LE(entries.keyUnits(i), at));
  yield* out.values(count, 8, (bytes, at, i) => bytes.writeDoubleLE(entries.offsets[i]!, at));
  yield* out.values(count, 4, (bytes, at, i) => bytes.writeUInt32LE(entries.frameBytes[i]!, at));
  yield* out.values(count, 8, (bytes, at, i) => bytes.writeDoubleLE(entries.createdAt[i]!, at));
  yield* out.utf8(entries.keysText());
  yield* out.end();
  return out.crc >>> 0;
}

function orderedFromPairs(pairs: ReadonlyArray<readonly [string, IndexEntry]>): OrderedEntries {
  return orderedEntries(
    pairs.map(([key]) => key),
    Float64Array.from(pairs, ([, entry]) => entry.offset),
    Uint32Array.from(pairs, ([, entry]) => entry.frameBytes),
    Float64Array.from(pairs, ([, entry]) => entry.createdAt),
  );
}

/** Where each column starts in a snapshot of `count` entries. */
export function columnStarts(count: number): { keyUnits: number; offset: number; frameBytes: number; createdAt: number; keys: number } {
  const keyUnits = HEADER_BYTES;
  const offset = keyUnits + 2 * count;
  const frameBytes = offset + 8 * count;
  const createdAt = frameBytes + 4 * count;
  return { keyUnits, offset, frameBytes, createdAt, keys: createdAt + 8 * count };
}

/** The file is little-endian; a typed array uses the machine's order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Fills `out` from the column at `start`: one copy where the byte order allows, else value by value. */
function readColumn<T extends Uint16Array | Uint32Array | Float64Array>(out: T, bytes: Buffer, start: number, readOne: (at: number) => number): T {
  const width = out.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN) bytes.copy(new Uint8Array(out.buffer), 0, start, start + width * out.length);
  else for (let i = 0; i < out.length; i++) out[i] = readOne(start + width * i);
  return out;
}

/**
 * Reads a snapshot file into columns and checks every entry; undefined when it is not one, is cut
 * short, fails its checksum (unless the caller has `checksumChecked`), or has an entry that is not a whole record inside the part of the log
 * it covers. (A key listed twice is found only by `addTo`.)
 */
export function readSnapshotColumns(bytes: Buffer, checksumChecked = false): SnapshotColumns | undefined {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) return undefined;
  if (!checksumChecked && crc32(bytes.subarray(12)) !== bytes.readUInt32LE(8)) return undefined;
  const logBytes = bytes.readDoubleLE(12);
  if (!Number.isSafeInteger(logBytes) || logBytes < LOG_MAGIC.length) return undefined;
  const count = bytes.readUInt32LE(28);
  const columns = columnStarts(count);
  if (columns.keys > bytes.length) return undefined;
  const keys = keyText(bytes.subarray(columns.keys));
  const keyUnits = readColumn(new Uint16Array(count), bytes, columns.keyUnits, (at) => bytes.readUInt16LE(at));
  const offsets = readColumn(new Float64Array(count), bytes, columns.offset, (at) => bytes.readDoubleLE(at));
  const frameBytes = readColumn(new Uint32Array(count), bytes, columns.frameBytes, (at) => bytes.readUInt32LE(at));
  const createdAt = readColumn(new Float64Array(count), bytes, columns.createdAt, (at) => bytes.readDoubleLE(at));
  const keyStarts = new Uint32Array(count + 1);
  let liveBytes = 0;
  let keyAt = 0;
  for (let i = 0; i < count; i++) {
    const units = keyUnits[i]!;
    if (units === 0 || keyAt + units > keys.length) return undefined;
    keyStarts[i] = keyAt;
    keyAt += units;
    const offset = offsets[i]!;
    const frame = frameBytes[i]!;
    if (offset < LOG_MAGIC.length || frame <= FRAME_HEADER_BYTES || offset + frame > logBytes) return undefined;
    liveBytes += frame;
  }
  if (keyAt !== keys.length) return undefined;
  keyStarts[count] = keyAt;
  return new SnapshotColumns(logBytes, bytes.readUInt32LE(20), bytes.readUInt32LE(24), keys, keyStarts, offsets, frameBytes, createdAt, liveBytes);
}

/**
 * Decodes a snapshot file into the map the store uses; undefined when `readSnapshotColumns` would
 * refuse it or a key is listed twice.
 */
export function decodeIndexSnapshot(bytes: Buffer): DecodedSnapshot | undefined {
  const columns = readSnapshotColumns(bytes);
  if (!columns) return undefined;
  const index = new Map<string, IndexEntry>();
  for (let i = 0; i < columns.count; i++) {
    index.set(columns.keyAt(i), columns.entryAt(i));
    if (index.size !== i + 1) return undefined;
  }
  const { logBytes, headCrc, tailCrc, liveBytes } = columns;
  return { logBytes, headCrc, tailCrc, index, liveBytes, samples: columns.samples() };
}

/**
 * Writes a snapshot of `entries` (LRU order) for the first `logBytes` bytes of `log` to `path`
 * through a temporary file, fsynced and renamed into place: a crash leaves the old snapshot or
 * the new one, never half of one.
 */
export async function saveIndexSnapshot(path: string, dir: string, log: FileHandle, logBytes: number, entries: OrderedEntries): Promise<void> {
  const pieces = snapshotPieces({ logBytes, ...logFingerprints(log, logBytes), entries }, PIECE_BYTES);
  const draftPath = `${path}.${process.pid}.tmp`;
  const draft = await open(draftPath, 'w', PRIVATE_FILE_MODE);
  try {
    let next = pieces.next();
    for (; !next.done; next = pieces.next()) await writeFully(draft, next.value.bytes, next.value.position);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(next.value);
    await writeFully(draft, crc, CRC_AT);
    await draft.datasync();
  } catch (error) {
    await draft.close().catch(() => undefined);
    await unlink(draftPath).catch(() => undefined);
    throw error;
  }
  await draft.close();
  await rename(draftPath, path);
  await syncDirectory(dir);
}

/** Removes the snapshot (before the log is rewritten or emptied, so a crash cannot pair them wrongly). */
export async function removeIndexSnapshot(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Why a snapshot was not used, for the log and for tests. */
export type SnapshotRejection = 'missing' | 'damaged' | 'log shorter than snapshot' | 'log start differs' | 'log end differs' | 'entry mismatch';

/**
 * Reads the snapshot at `path` and checks that it still describes `log`: at least `logBytes`
 * long, the same bytes at its start and just before `logBytes`, and a spread of entries whose
 * records decode to their keys. Anything else is a rejection and the caller scans the log. (A
 * copied data dir passes: the checks look at content, not at which file holds it.)
 */
export async function loadIndexSnapshot(path: string, log: FileHandle, logSize: number): Promise<{ snapshot: SnapshotColumns } | { rejected: SnapshotRejection }> {
  let bytes: Buffer;
  try {
    // A read `isartor serve` started before the store opened (snapshotPrefetch.ts), if any.
    bytes = await (takePrefetched(path) ?? readWhole(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { rejected: 'missing' };
    throw error;
  }
  if (!(await checksumMatches(bytes))) return { rejected: 'damaged' };
  const snapshot = readSnapshotColumns(bytes, true);
  if (!snapshot) return { rejected: 'damaged' };
  if (snapshot.logBytes > logSize) return { rejected: 'log shorter than snapshot' };
  const { headCrc, tailCrc } = logFingerprints(log, snapshot.logBytes);
  if (headCrc !== snapshot.headCrc) return { rejected: 'log start differs' };
  if (tailCrc !== snapshot.tailCrc) return { rejected: 'log end differs' };
  if (!sampledEntriesMatch(log, snapshot.samples())) return { rejected: 'entry mismatch' };
  return { snapshot };
}

/** Bytes the checksum covers between two turns of the event loop (~1-2 ms each, several times that loaded). */
const CHECKSUM_STEP_BYTES = 1024 * 1024;

/**
 * The snapshot's checksum, computed between turns of the event loop: the first pass over a freshly
 * read 8.6 MB snapshot took ~15 ms (more on a loaded machine) in one block, in front of any
 * request that came meanwhile (issue 15: the first L1a hit).
 */
async function checksumMatches(bytes: Buffer): Promise<boolean> {
  if (bytes.length < HEADER_BYTES) return false;
  let crc = 0;
  for (let from = 12; from < bytes.length; from += CHECKSUM_STEP_BYTES) {
    if (from > 12) await new Promise<void>((resolve) => setImmediate(resolve));
    crc = crc32(bytes.subarray(from, Math.min(bytes.length, from + CHECKSUM_STEP_BYTES)), crc);
  }
  return crc === bytes.readUInt32LE(8);
}

/** Reads the sampled entries' records back from the log and checks each is the entry it claims to be. */
export function sampledEntriesMatch(log: FileHandle, samples: ReadonlyArray<readonly [string, IndexEntry]>): boolean {
  for (const [key, entry] of samples) {
    if (entry.frameBytes > MAX_SAMPLED_FRAME_BYTES) continue;
    const frame = Buffer.allocUnsafe(entry.frameBytes);
    if (readSync(log.fd, frame, 0, frame.length, entry.offset) !== frame.length) return false;
    const record = decodeRecord(frame, entry.offset);
    if (!record || record.key !== key || record.op !== RecordOp.Set || record.frameBytes !== entry.frameBytes || record.createdAt !== entry.createdAt) return false;
  }
  return true;
}
