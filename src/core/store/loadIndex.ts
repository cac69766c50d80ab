/**
 * Rebuilds the embedded store's in-memory index when it opens: from the index snapshot plus a
 * replay of the log written after it when the snapshot checks out, from a scan of the whole log
 * otherwise. Either way the result is what a full scan would give.
 */
import { unlink, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../logger';
import { loadIndexSnapshot, type SnapshotRejection } from './indexSnapshot';
import { KeyIndex } from './keyIndex';
import { openOrCreateLog, writeFully, type IndexEntry } from './logFile';
import { scanLog } from './logScan';
import { LOG_MAGIC, RecordOp, type LogRecord } from './recordLog';
import { SnapshotScan } from './snapshotScan';

/** How the index was rebuilt, for the log, the benchmark and tests. */
export interface OpenReport {
  /** "snapshot": snapshot plus the log's tail; "scan": the whole log was read. */
  from: 'snapshot' | 'scan';
  /** Why the snapshot was not used (only when `from` is "scan"). */
  snapshotRejected?: SnapshotRejection;
  /** Log bytes read record by record (the tail after the snapshot, or the whole log). */
  replayedBytes: number;
}

export interface LoadedIndex {
  /** Key → location in LRU order (first = least recently used). */
  index: KeyIndex;
  /** Bytes of the frames the index points at. */
  liveBytes: number;
  /** End of the last good record; a torn or corrupt tail after it must be cut off. */
  goodEnd: number;
  /** Damaged bytes skipped between good records (logScan.ts), and in how many places. */
  damage: Damage;
  /** Log length the snapshot covered (LOG_MAGIC.length when there was none). */
  snapshotLogBytes: number;
  report: OpenReport;
}

export interface Damage {
  bytes: number;
  regions: number;
  /** The skipped regions, [from, to) each. */
  skipped: Array<[number, number]>;
}

/**
 * Answers where a key's record is while the index is still being built: an entry, or null when the
 * log holds no live record for the key; 'later' when this preview will not say (ask the next one,
 * or the index). `size` is how many keys the index will start with.
 */
export interface IndexPreview {
  lookup(key: string): IndexEntry | null | 'later';
  size: number;
}

/**
 * Lookups answered by a scan of the snapshot file (~3 ms each at 100k entries) before it is in
 * memory; later gets wait for the in-memory snapshot (a burst at start-up must not queue seconds of scans).
 */
const SCAN_LOOKUPS = 16;

/**
 * Snapshot entries added to the map between two turns of the event loop (a few ms each at
 * start-up). A request that comes during the build needs several turns to its get, each behind
 * one slice: with 8,192 entries per slice the first L1a hit came later (docs/measurements/miss-path.md).
 */
const BUILD_SLICE = 2048;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads the index of the log `file` (`size` bytes) using the snapshot at `snapshotPath` when it
 * still describes this log. With a snapshot, the log's tail is read first and `onPreview` gets a
 * lookup over the snapshot and that tail, valid until this resolves, while the map is built in
 * slices that leave the event loop free between them.
 */
export async function loadIndex(file: FileHandle, size: number, snapshotPath: string, onPreview?: (preview: IndexPreview) => void, resync = false): Promise<LoadedIndex> {
  // The first gets need not wait for the snapshot's bytes in memory: they are looked up in its file.
  const scan = onPreview ? await SnapshotScan.open(snapshotPath, file, size) : undefined;
  // A better preview (the snapshot in memory) or the end of the load makes the scan's own repost moot.
  let scanIsCurrent = true;
  try {
    let early: Awaited<ReturnType<typeof readTail>> | undefined;
    if (scan && onPreview) {
      early = await readTail(file, size, scan.logBytes, resync);
      const preview = previewOf(early.tail, scanLookup(scan), scan.count);
      onPreview(preview);
      // Gets left for later because the checksum had not yet passed ask again once it has (unless
      // the in-memory snapshot came first: it answers them).
      void scan.verified.then((good) => good && scanIsCurrent && onPreview(preview));
    }
    return await loadFromSnapshot(file, size, snapshotPath, early, resync, (preview) => {
      scanIsCurrent = false;
      onPreview?.(preview);
    });
  } finally {
    scanIsCurrent = false;
    scan?.close();
  }
}

/**
 * The scan's share of lookups. A key it finds is an answer at once (the store checks the record
 * it reads); a key it does not find is a miss only once the file's checksum has passed, before
 * that it is left for later (a damaged snapshot may have lost it), and remembered so that asking
 * again costs no second pass. A failed checksum leaves every key to the in-memory load.
 */
function scanLookup(scan: SnapshotScan): (key: string) => IndexEntry | null | 'later' {
  let scansLeft = SCAN_LOOKUPS;
  let checksum: boolean | undefined;
  void scan.verified.then((good) => (checksum = good));
  const notListed = new Set<string>();
  return (key) => {
    if (checksum === false) return 'later';
    if (notListed.has(key)) return checksum ? null : 'later';
    if (scansLeft <= 0) return 'later';
    scansLeft--;
    const entry = scan.find(key);
    if (entry) return entry;
    notListed.add(key);
    return checksum ? null : 'later';
  };
}

/** The records of the log after `from`, last write last (undefined for a delete), and where the good part ends. */
async function readTail(file: FileHandle, size: number, from: number, resync: boolean): Promise<{ from: number; tail: Map<string, IndexEntry | undefined>; goodEnd: number; damage: Damage }> {
  const tail = new Map<string, IndexEntry | undefined>();
  const { goodEnd, skippedBytes, damagedRegions, skipped } = await scanLog(
    file,
    size,
    (record) => {
      tail.delete(record.key);
      tail.set(record.key, record.op === RecordOp.Set ? { offset: record.offset, frameBytes: record.frameBytes, createdAt: record.createdAt } : undefined);
    },
    from,
    resync,
  );
  return { from, tail, goodEnd, damage: { bytes: skippedBytes, regions: damagedRegions, skipped } };
}

/** A preview over the log's tail, then the snapshot's entries. */
function previewOf(tail: Map<string, IndexEntry | undefined>, inSnapshot: (key: string) => IndexEntry | null | 'later', count: number): IndexPreview {
  return {
    lookup: (key) => (tail.has(key) ? (tail.get(key) ?? null) : inSnapshot(key)),
    size: count + tail.size,
  };
}

async function loadFromSnapshot(
  file: FileHandle,
  size: number,
  snapshotPath: string,
  early: Awaited<ReturnType<typeof readTail>> | undefined,
  resync: boolean,
  onPreview?: (preview: IndexPreview) => void,
): Promise<LoadedIndex> {
  const loaded = await loadIndexSnapshot(snapshotPath, file, size);
  if (!('snapshot' in loaded)) return scanWhole(file, size, loaded.rejected, resync);
  const columns = loaded.snapshot;
  // The tail read for the scan serves when it starts where this snapshot ends (the usual case).
  const { tail, goodEnd, damage } = early?.from === columns.logBytes ? early : await readTail(file, size, columns.logBytes, resync);
  onPreview?.(
    previewOf(
      tail,
      (key) => {
        const i = columns.find(key);
        return i < 0 ? null : columns.entryAt(i);
      },
      columns.count,
    ),
  );
  const index = columns.newIndex();
  for (let from = 0; from < columns.count; from += BUILD_SLICE) {
    // A turn before the first slice too: gets waiting for the preview go first.
    await nextTurn();
    // A key listed twice: damage the checksum missed. Trust none of it, as a failed decode would not.
    if (!columns.addTo(index, from, Math.min(columns.count, from + BUILD_SLICE))) return scanWhole(file, size, 'damaged', resync);
  }
  // Replaying the tail's last record per key gives what replaying all of them would.
  let liveBytes = columns.liveBytes;
  for (const [key, entry] of tail) {
    const previous = index.slotOf(key);
    if (previous !== undefined) {
      liveBytes -= index.frameBytesAt(previous);
      index.delete(key);
    }
    if (entry) {
      index.set(key, entry.offset, entry.frameBytes, entry.createdAt);
      liveBytes += entry.frameBytes;
    }
  }
  return { index, liveBytes, goodEnd, damage, snapshotLogBytes: columns.logBytes, report: { from: 'snapshot', replayedBytes: goodEnd - columns.logBytes } };
}

/** The index from a scan of the whole log (no usable snapshot). */
async function scanWhole(file: FileHandle, size: number, rejected: SnapshotRejection, resync: boolean): Promise<LoadedIndex> {
  const index = new KeyIndex();
  let liveBytes = 0;
  const apply = (record: LogRecord): void => {
    const previous = index.slotOf(record.key);
    if (previous !== undefined) {
      liveBytes -= index.frameBytesAt(previous);
      index.delete(record.key);
    }
    if (record.op === RecordOp.Set) {
      index.set(record.key, record.offset, record.frameBytes, record.createdAt);
      liveBytes += record.frameBytes;
    }
  };
  const start = LOG_MAGIC.length;
  const { goodEnd, skippedBytes, damagedRegions, skipped } = await scanLog(file, size, apply, start, resync);
  return { index, liveBytes, goodEnd, damage: { bytes: skippedBytes, regions: damagedRegions, skipped }, snapshotLogBytes: start, report: { from: 'scan', snapshotRejected: rejected, replayedBytes: goodEnd - start } };
}

/** Bytes of zeroes written at a time over a damaged region. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

/** Overwrites each [from, to) of `regions` with zeroes. */
async function zeroRegions(file: FileHandle, regions: ReadonlyArray<readonly [number, number]>): Promise<void> {
  if (regions.length === 0) return;
  const zeroes = Buffer.alloc(Math.min(ZERO_CHUNK_BYTES, regions.reduce((most, [from, to]) => Math.max(most, to - from), 0)));
  for (const [from, to] of regions) {
    for (let at = from; at < to; at += zeroes.length) await writeFully(file, zeroes.subarray(0, Math.min(zeroes.length, to - at)), at);
  }
}

/**
 * Opens (or creates) the log at `path`, removes what a compaction that died before its rename left,
 * reads the index and cuts off a torn tail. `goodEnd` is then the log's size.
 */
/**
 * Opens the log at `path` and builds its index. With `resync`, damage in the middle of the log
 * costs only the records on it (logScan.ts); without, the log is cut at the first damage.
 */
export async function openLogWithIndex(
  path: string,
  dir: string,
  snapshotPath: string,
  logger: Logger,
  onPreview?: (preview: IndexPreview, file: FileHandle) => void,
  resync = false,
): Promise<LoadedIndex & { file: FileHandle }> {
  await unlink(`${path}.compact`).catch(() => undefined);
  const file = await openOrCreateLog(path, dir, logger);
  try {
    const { size } = await file.stat();
    const loaded = await loadIndex(file, size, snapshotPath, onPreview && ((preview) => onPreview(preview, file)), resync);
    const { from, snapshotRejected, replayedBytes } = loaded.report;
    const rejectedNote = snapshotRejected && snapshotRejected !== 'missing' ? ` (snapshot not used: ${snapshotRejected})` : '';
    logger.debug(`store ${path}: ${loaded.index.size} entries from the ${from === 'snapshot' ? 'index snapshot' : 'log'}, ${replayedBytes} log bytes read${rejectedNote}`);
    if (loaded.damage.regions > 0) {
      logger.warn(`store ${path}: skipped ${loaded.damage.bytes} damaged bytes in ${loaded.damage.regions} place(s) of the log; the entries there are lost, the rest kept`);
    }
    if (loaded.goodEnd < size) {
      logger.warn(`store ${path}: dropped ${size - loaded.goodEnd} bytes of an incomplete or corrupt tail (after a crash?)`);
      await file.truncate(loaded.goodEnd);
    }
    // A damaged region left as it is can read differently once records follow it: a length in it
    // that ran past the end of the file covers the records appended after this open, and the next
    // open skipped them. Zeroes read as no record at all, so every open resyncs where this one did.
    await zeroRegions(file, loaded.damage.skipped);
    if (loaded.goodEnd < size || loaded.damage.regions > 0) await file.datasync();
    return { ...loaded, file };
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}
