/**
 * Finds keys in an index snapshot file without holding it in memory, for the gets that come before
 * the store has read it (issue 15: the first L1a hit). On this VM a fresh 8.6 MB buffer (a 100k-entry
 * snapshot) costs ~25-40 ms of page faults to read and ~15 ms more to checksum; the same bytes
 * through one reused 128 KiB buffer take ~4 ms. The store's own load still reads the file whole.
 *
 * Opening checks what is cheap to check: magic, structure, the key lengths (their sum equals the key
 * bytes only when every key is ASCII: a byte is then a UTF-16 unit, as the key column counts them),
 * the log's fingerprints and the sampled records. The checksum over the whole file (~20 ms at 100k
 * entries in a fresh process) runs after, in steps: `verified`. Until it has passed, a key found is
 * still an answer (the store reads its record from the log and takes it only when it decodes,
 * passes its own crc32 and carries that key: a damaged snapshot can make it a miss, never another
 * key's answer), but a key not found is not yet a miss: a damaged snapshot could have lost it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { columnStarts, entryStartingAt, HEADER_BYTES, logFingerprints, SAMPLED_ENTRIES, sampledEntriesMatch, SNAPSHOT_MAGIC } from './indexSnapshot';
import type { IndexEntry } from './logFile';
import { FRAME_HEADER_BYTES, LOG_MAGIC } from './recordLog';

/** One read's size: small enough to stay in the CPU's cache, and under the 128 KiB the memory work keeps reads to. */
const CHUNK_BYTES = 128 * 1024;
/** Reads of the checking pass between two turns of the event loop (2 MiB, ~1-2 ms quiet): the pass is ~5 ms at 100k entries, several times that on a loaded machine. */
const CHUNKS_PER_TURN = 16;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SnapshotScan {
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private checksum: Promise<boolean> = Promise.resolve(false);
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly logBytes: number,
    /** Where each column starts in the file. */
    private readonly at: ReturnType<typeof columnStarts>,
    /** Where key i starts among the keys (bytes = units, all ASCII); one more element than there are entries. */
    private readonly keyStarts: Uint32Array,
    private readonly fileBytes: number,
    private readonly expectedCrc: number,
  ) {}

  /** Settles with whether the whole file's checksum matched: started by `open`, run in steps after it. */
  get verified(): Promise<boolean> {
    return this.checksum;
  }

  get count(): number {
    return this.keyStarts.length - 1;
  }

  /**
   * Opens the snapshot at `path` for the log `log` of `logSize` bytes after its cheap checks, and
   * starts its checksum; undefined when it is missing, fails a check, or has a non-ASCII key.
   */
  static async open(path: string, log: FileHandle, logSize: number): Promise<SnapshotScan | undefined> {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const scan = SnapshotScan.check(fd, log, logSize);
      if (scan) fd = undefined; // kept open by the scan until close()
      return scan;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private static check(fd: number, log: FileHandle, logSize: number): SnapshotScan | undefined {
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, header, 0, HEADER_BYTES, 0) !== HEADER_BYTES || !header.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) return undefined;
    const logBytes = header.readDoubleLE(12);
    if (!Number.isSafeInteger(logBytes) || logBytes < LOG_MAGIC.length || logBytes > logSize) return undefined;
    const count = header.readUInt32LE(28);
    const at = columnStarts(count);
    if (at.keys > size) return undefined;
    // The file is little-endian, and so is every machine Node runs on that this reads as bytes.
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return undefined;
    const keyUnits = new Uint16Array(count);
    if (count > 0 && readSync(fd, new Uint8Array(keyUnits.buffer), 0, 2 * count, at.keyUnits) !== 2 * count) return undefined;
    const keyStarts = new Uint32Array(count + 1);
    let keyAt = 0;
    for (let i = 0; i < count; i++) {
      if (keyUnits[i] === 0) return undefined;
      keyStarts[i] = keyAt;
      keyAt += keyUnits[i]!;
    }
    // UTF-8 takes more bytes than UTF-16 units for any character outside ASCII, so only all-ASCII keys add up.
    if (keyAt !== size - at.keys) return undefined;
    keyStarts[count] = keyAt;
    const fingerprints = logFingerprints(log, logBytes);
    if (fingerprints.headCrc !== header.readUInt32LE(20) || fingerprints.tailCrc !== header.readUInt32LE(24)) return undefined;
    const scan = new SnapshotScan(fd, logBytes, at, keyStarts, size, header.readUInt32LE(8));
    // The same spread of records as SnapshotColumns.samples(), read back from the log.
    const every = Math.max(1, Math.floor(count / SAMPLED_ENTRIES));
    const samples: Array<[string, IndexEntry]> = [];
    for (let i = 0; i < count; i++) {
      if (i % every !== 0 && i !== count - 1) continue;
      const entry = scan.entryAt(i);
      if (!entry) return undefined;
      samples.push([scan.keyAt(i), entry]);
    }
    if (!sampledEntriesMatch(log, samples)) return undefined;
    // Started only now: a scan refused above never reads again (open() closes its descriptor).
    scan.checksum = scan.checksumMatches(crc32(header.subarray(12)));
    return scan;
  }

  /**
   * The checksum of everything after it, a turn every CHUNKS_PER_TURN reads (the first one before
   * any: `open` returns first); false once closed. Shares the read buffer with `find`, which runs
   * between two of these turns, never during one.
   */
  private async checksumMatches(headerCrc: number): Promise<boolean> {
    let crc = headerCrc;
    for (let from = HEADER_BYTES, chunks = 0; from < this.fileBytes; from += CHUNK_BYTES, chunks++) {
      if (chunks % CHUNKS_PER_TURN === 0) await nextTurn();
      // After close() the descriptor's number may already name another file.
      if (this.closed) return false;
      const length = Math.min(CHUNK_BYTES, this.fileBytes - from);
      try {
        if (readSync(this.fd, this.chunk, 0, length, from) !== length) return false;
      } catch {
        return false;
      }
      crc = crc32(this.chunk.subarray(0, length), crc);
    }
    return crc === this.expectedCrc;
  }

  /** Where `key`'s record is, by the snapshot; null when it lists no such key. One pass over the keys (~3 ms at 100k). */
  find(key: string): IndexEntry | null {
    // A key with a non-ASCII character is in no ASCII text (and latin1 would mangle it into a false match).
    if (key.length === 0 || Buffer.byteLength(key, 'utf8') !== key.length || key.length > CHUNK_BYTES) return null;
    const total = this.keyStarts[this.count]!;
    // Consecutive windows overlap by a key's length less one, so a key across two reads is still seen.
    for (let from = 0; from < total; from += CHUNK_BYTES - key.length + 1) {
      const length = Math.min(CHUNK_BYTES, total - from);
      if (readSync(this.fd, this.chunk, 0, length, this.at.keys + from) !== length) return null;
      const window = this.chunk.subarray(0, length);
      for (let found = window.indexOf(key, 0, 'latin1'); found >= 0; found = window.indexOf(key, found + 1, 'latin1')) {
        const i = entryStartingAt(this.keyStarts, this.count, from + found);
        if (i >= 0 && this.keyStarts[i + 1]! - this.keyStarts[i]! === key.length) return this.entryAt(i);
      }
      if (from + length >= total) break;
    }
    return null;
  }

  close(): void {
    this.closed = true;
    closeSync(this.fd);
  }

  private keyAt(i: number): string {
    const start = this.keyStarts[i]!;
    const bytes = Buffer.allocUnsafe(this.keyStarts[i + 1]! - start);
    readSync(this.fd, bytes, 0, bytes.length, this.at.keys + start);
    return bytes.toString('latin1');
  }

  /** Entry i from its three columns; null when it is not a whole record inside the log the snapshot covers. */
  private entryAt(i: number): IndexEntry | null {
    const bytes = Buffer.allocUnsafe(8);
    const read = (position: number, length: number): boolean => readSync(this.fd, bytes, 0, length, position) === length;
    if (!read(this.at.offset + 8 * i, 8)) return null;
    const offset = bytes.readDoubleLE(0);
    if (!read(this.at.frameBytes + 4 * i, 4)) return null;
    const frameBytes = bytes.readUInt32LE(0);
    if (!read(this.at.createdAt + 8 * i, 8)) return null;
    const createdAt = bytes.readDoubleLE(0);
    if (offset < LOG_MAGIC.length || frameBytes <= FRAME_HEADER_BYTES || offset + frameBytes > this.logBytes) return null;
    return { offset, frameBytes, createdAt };
  }
}
