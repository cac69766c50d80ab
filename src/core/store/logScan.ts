/**
 * Reads the embedded store's log back, record by record. A record that does not check out is
 * either a torn tail (a crash mid-append: the scan ends there and the caller cuts it off) or
 * damage in the middle (a page a power cut or the disk zeroed): the scan skips it and goes on at
 * the next record whose checksum holds, so a bad page costs the records on it, not every record
 * written after it. Nothing is ever taken from a frame that fails its checksum.
 */
import type { FileHandle } from 'node:fs/promises';
import { decodeRecord, FRAME_HEADER_BYTES, FRAME_START_BYTES, frameBytesOf, LOG_MAGIC, plausibleFrameStart, type LogRecord } from './recordLog';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Offsets of a damaged region tested between two turns of the event loop (a few ms of work). */
const SEARCH_SLICE_BYTES = 1024 * 1024;
/**
 * Good records that must follow one found inside a damaged record's claimed frame (unless the
 * file ends first). A torn append's payload passes only if a value in it holds one more whole
 * record than this, back to back; more would cut good records when a second damage follows soon.
 */
const CHAIN_RECORDS = 1;
/** What testing one candidate's checksum costs besides its bytes (promises, a decode), in offsets tested. */
const CANDIDATE_COST = 1024;
/**
 * Checksum work all resyncs of one scan may spend on candidates that fail, beyond the log's own
 * size: garbage full of plausible lengths would otherwise cost a checksum of megabytes at every
 * offset. Past it the scan ends at the damage, as a torn tail would.
 */
const SEARCH_EXTRA_BYTES = 16 * 1024 * 1024;

/** Result of scanning a log. */
export interface ScanResult {
  /** File offset just past the last good record; anything after it is a torn or corrupt tail. */
  goodEnd: number;
  fileSize: number;
  /** Bytes skipped between good records (damage in the middle of the log), and in how many places. */
  skippedBytes: number;
  damagedRegions: number;
  /** The skipped regions, [from, to) each. */
  skipped: Array<[number, number]>;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How often the scan looks at the clock (records), and how long it runs before a turn of the event loop (ms). */
const YIELD_CHECK_RECORDS = 1024;
const SCAN_SLICE_MS = 8;

/**
 * Reads the log from `from` (a record boundary; by default just after the magic) in large chunks,
 * calling `onRecord` for every record that checks out, in file order. Linear in the log's size:
 * a damaged region is searched once, offset by offset, with a bounded amount of checksum work.
 * Without `resync` the scan ends at the first record that does not check out, damage or torn
 * tail alike: a log whose values may hold whole records of their own (binary values, raw text)
 * could hand the search a record hidden in a value whose header the damage took.
 */
export async function scanLog(file: FileHandle, fileSize: number, onRecord: (record: LogRecord) => void, from = LOG_MAGIC.length, resync = true): Promise<ScanResult> {
  const window = new LogWindow(file, fileSize);
  const search = new ResyncSearch(window, fileSize);
  let position = from; // file offset of the next record
  let skippedBytes = 0;
  let damagedRegions = 0;
  const skipped: Array<[number, number]> = [];
  let sliceStart = performance.now();
  let decoded = 0;
  while (position < fileSize) {
    // A window of tiny records is a lot of decoding: a turn of the event loop every few ms of it.
    if (++decoded % YIELD_CHECK_RECORDS === 0 && performance.now() - sliceStart > SCAN_SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
    // Most records are already in memory: decode them without a promise each.
    let record = window.recordIn(position);
    if (record === undefined) record = await recordAt(window, position);
    if (!record) {
      if (!resync) break;
      record = await search.nextRecordAfter(position);
      if (!record) break;
      skippedBytes += record.offset - position;
      damagedRegions++;
      skipped.push([position, record.offset]);
    }
    onRecord(record);
    position = record.offset + record.frameBytes;
  }
  return { goodEnd: position, fileSize, skippedBytes, damagedRegions, skipped };
}

/** The record at `position` when it checks out (null when it does not), reading what it needs. */
async function recordAt(window: LogWindow, position: number): Promise<LogRecord | null> {
  const headerAt = await window.load(position, FRAME_HEADER_BYTES);
  if (headerAt < 0) return null;
  const frameBytes = frameBytesOf(window.bytes, headerAt);
  if (frameBytes === undefined) return null;
  const at = await window.load(position, frameBytes);
  return (at >= 0 && decodeRecord(window.bytes.subarray(at, at + frameBytes), position)) || null;
}

/** Finds the next good record after a damaged one. */
class ResyncSearch {
  /** Checksum bytes left for candidates (see SEARCH_EXTRA_BYTES). */
  private budget: number;
  /** Offsets (or their equivalent in checksum work) this turn of the event loop may still test. */
  private sliceLeft = SEARCH_SLICE_BYTES;
  /** No record starts at or after this offset: a search found none there (keeps searches linear). */
  private barrenFrom = Number.POSITIVE_INFINITY;

  constructor(
    private readonly window: LogWindow,
    private readonly fileSize: number,
  ) {
    this.budget = fileSize + SEARCH_EXTRA_BYTES;
  }

  /**
   * The first record after the bad one at `damagedAt` whose checksum holds; undefined when the log
   * ends first (a torn tail). When the bad record's header survived, its payload is no place to
   * look first (a stored value may hold bytes that look like a record): the search starts after
   * it. Only when nothing checks out there, or the frame runs past the end of the file, is the
   * header itself the damage (a flipped length byte), and the bytes it claimed are searched too:
   * what the scan ends at is cut off, so it must not be a good record.
   */
  async nextRecordAfter(damagedAt: number): Promise<LogRecord | undefined> {
    const claimedEnd = await this.claimedEnd(damagedAt);
    if (claimedEnd === undefined) return this.searchFrom(damagedAt + 1, this.fileSize);
    if (claimedEnd <= this.fileSize) {
      const after = await this.searchFrom(claimedEnd, this.fileSize);
      if (after || this.budget < 0) return after;
      this.barrenFrom = Math.min(this.barrenFrom, claimedEnd);
    }
    // Inside what the header claimed, a record counts only when good records follow it: up to the
    // end of the file, or CHAIN_RECORDS of them. A torn append's payload (a crash, not damage)
    // ends in its torn bytes, so a record-like value in it is cut off with it, as before.
    const inside = await this.searchFrom(damagedAt + 1, Math.min(claimedEnd, this.fileSize));
    return inside && (await this.chainFollows(inside)) ? inside : undefined;
  }

  /** Whether good records follow `record` one after another, up to the end of the file or CHAIN_RECORDS of them. */
  private async chainFollows(record: LogRecord): Promise<boolean> {
    let position = record.offset + record.frameBytes;
    for (let followers = 0; position < this.fileSize && followers < CHAIN_RECORDS; followers++) {
      let next = this.window.recordIn(position);
      if (next === undefined) next = await recordAt(this.window, position);
      if (!next) return false;
      position = next.offset + next.frameBytes;
      this.sliceLeft -= CANDIDATE_COST + next.frameBytes;
      if (this.sliceLeft <= 0) {
        await nextTurn();
        this.sliceLeft = SEARCH_SLICE_BYTES;
      }
    }
    return true;
  }

  /** Where the bad record at `damagedAt` ends by its header when that header is plausible; undefined when it is not (or the file ends first). */
  private async claimedEnd(damagedAt: number): Promise<number | undefined> {
    const at = await this.window.load(damagedAt, FRAME_START_BYTES);
    if (at < 0 || !plausibleFrameStart(this.window.bytes, at, Number.POSITIVE_INFINITY)) return undefined;
    return damagedAt + frameBytesOf(this.window.bytes, at)!;
  }

  /** The first record starting in [start, limit) whose checksum holds. */
  private async searchFrom(start: number, end: number): Promise<LogRecord | undefined> {
    const limit = Math.min(end, this.barrenFrom);
    let position = start;
    while (position < limit && position + FRAME_START_BYTES <= this.fileSize) {
      if (this.sliceLeft <= 0) {
        await nextTurn();
        this.sliceLeft = SEARCH_SLICE_BYTES;
      }
      let at = this.window.indexOf(position, FRAME_START_BYTES);
      if (at < 0) at = await this.window.load(position, FRAME_START_BYTES);
      if (at < 0) return undefined;
      // Test the offsets already in memory, up to what is left of this turn's slice, with cheap checks of the first bytes.
      const bytes = this.window.bytes;
      const last = at + Math.min(this.window.bytesFrom(at) - FRAME_START_BYTES, this.sliceLeft - 1, limit - 1 - position);
      let i = at;
      while (i <= last && !plausibleFrameStart(bytes, i, this.fileSize - (position + i - at))) i++;
      this.sliceLeft -= i - at + 1;
      position += i - at;
      if (i > last) continue;
      const record = await this.verify(position);
      if (record) return record;
      if (this.budget < 0) return undefined;
      position++;
    }
    return undefined;
  }

  /** The record at `position` (a plausible start) if its checksum holds, charged to the budget. */
  private async verify(position: number): Promise<LogRecord | undefined> {
    const headerAt = this.window.indexOf(position, FRAME_HEADER_BYTES);
    const frameBytes = frameBytesOf(this.window.bytes, headerAt);
    if (frameBytes === undefined) return undefined;
    this.budget -= frameBytes;
    // Candidates share the turn's slice with the offsets tested: dense record-like bytes (a value
    // made of them) gave ~300 ms between two turns when each candidate started a fresh slice.
    this.sliceLeft -= CANDIDATE_COST + frameBytes;
    if (this.budget < 0) return undefined;
    const at = await this.window.load(position, frameBytes);
    return at < 0 ? undefined : decodeRecord(this.window.bytes.subarray(at, at + frameBytes), position);
  }
}

/** The part of the log in memory: moved forward, and grown for a large record, as the scan needs. */
class LogWindow {
  private buffer = Buffer.alloc(0);
  /** File offset of buffer[0]. */
  private start = 0;
  /** Bytes of the buffer read from the file. */
  private length = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly fileSize: number,
  ) {}

  get bytes(): Buffer {
    return this.buffer;
  }

  /** Bytes in memory from buffer index `at` on. */
  bytesFrom(at: number): number {
    return this.length - at;
  }

  /** The record at `position` when its frame is in memory (null when it does not check out); undefined when bytes must be read first. */
  recordIn(position: number): LogRecord | null | undefined {
    const headerAt = this.indexOf(position, FRAME_HEADER_BYTES);
    if (headerAt < 0) return undefined;
    const frameBytes = frameBytesOf(this.buffer, headerAt);
    if (frameBytes === undefined) return null;
    if (this.indexOf(position, frameBytes) < 0) return undefined;
    return decodeRecord(this.buffer.subarray(headerAt, headerAt + frameBytes), position) ?? null;
  }

  /** Buffer index of file offset `position` when `bytes` bytes from there are in memory, else -1. */
  indexOf(position: number, bytes: number): number {
    const at = position - this.start;
    return at >= 0 && at + bytes <= this.length ? at : -1;
  }

  /** Reads as needed so that `bytes` bytes from `position` are in memory; their buffer index, or -1 when the file ends (or shrank) first. */
  async load(position: number, bytes: number): Promise<number> {
    const at = this.indexOf(position, bytes);
    if (at >= 0) return at;
    if (position + bytes > this.fileSize) return -1;
    // Keep what is already read from `position` on, at the front of the (possibly grown) buffer.
    const keepFrom = position - this.start;
    const kept = keepFrom >= 0 && keepFrom < this.length ? this.length - keepFrom : 0;
    const size = Math.min(Math.max(bytes, CHUNK_BYTES), this.fileSize - position);
    const next = size > this.buffer.length ? Buffer.allocUnsafe(size) : this.buffer;
    if (kept > 0) this.buffer.copy(next, 0, keepFrom, keepFrom + kept);
    this.buffer = next;
    this.start = position;
    const toRead = Math.min(next.length, this.fileSize - position) - kept;
    const { bytesRead } = await this.file.read(next, kept, toRead, position + kept);
    this.length = kept + bytesRead;
    return this.length >= bytes ? 0 : -1;
  }
}
