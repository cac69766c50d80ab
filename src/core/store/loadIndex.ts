/**
 * Rebuilds the embedded store's in-memory index when it opens: from the index snapshot plus a
 * replay of the log written after it when the snapshot checks out, from a scan of the whole log
 * otherwise. Either way the result is what a full scan would give.
 */
import { unlink, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../logger';
import { loadIndexSnapshot, type SnapshotRejection } from './indexSnapshot';
import { openOrCreateLog, type IndexEntry } from './logFile';
import { LOG_MAGIC, RecordOp, scanLog, type LogRecord } from './recordLog';

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
  index: Map<string, IndexEntry>;
  /** Bytes of the frames the index points at. */
  liveBytes: number;
  /** End of the last good record; a torn or corrupt tail after it must be cut off. */
  goodEnd: number;
  /** Log length the snapshot covered (LOG_MAGIC.length when there was none). */
  snapshotLogBytes: number;
  report: OpenReport;
}

/**
 * Reads the index of the log `file` (`size` bytes) using the snapshot at `snapshotPath` when it
 * still describes this log.
 */
export async function loadIndex(file: FileHandle, size: number, snapshotPath: string): Promise<LoadedIndex> {
  const loaded = await loadIndexSnapshot(snapshotPath, file, size);
  let index = new Map<string, IndexEntry>();
  let liveBytes = 0;
  let start = LOG_MAGIC.length;
  let rejected: SnapshotRejection | undefined;
  if ('snapshot' in loaded) {
    ({ index, liveBytes } = loaded.snapshot);
    start = loaded.snapshot.logBytes;
  } else {
    rejected = loaded.rejected;
  }
  const apply = (record: LogRecord): void => {
    const previous = index.get(record.key);
    if (previous) {
      index.delete(record.key);
      liveBytes -= previous.frameBytes;
    }
    if (record.op === RecordOp.Set) {
      index.set(record.key, { offset: record.offset, frameBytes: record.frameBytes, createdAt: record.createdAt });
      liveBytes += record.frameBytes;
    }
  };
  const { goodEnd } = await scanLog(file, size, apply, start);
  const report: OpenReport = rejected === undefined ? { from: 'snapshot', replayedBytes: goodEnd - start } : { from: 'scan', snapshotRejected: rejected, replayedBytes: goodEnd - start };
  return { index, liveBytes, goodEnd, snapshotLogBytes: start, report };
}

/**
 * Opens (or creates) the log at `path`, removes what a compaction that died before its rename left,
 * reads the index and cuts off a torn tail. `goodEnd` is then the log's size.
 */
export async function openLogWithIndex(path: string, dir: string, snapshotPath: string, logger: Logger): Promise<LoadedIndex & { file: FileHandle }> {
  await unlink(`${path}.compact`).catch(() => undefined);
  const file = await openOrCreateLog(path, dir, logger);
  try {
    const { size } = await file.stat();
    const loaded = await loadIndex(file, size, snapshotPath);
    const { from, snapshotRejected, replayedBytes } = loaded.report;
    const rejectedNote = snapshotRejected && snapshotRejected !== 'missing' ? ` (snapshot not used: ${snapshotRejected})` : '';
    logger.debug(`store ${path}: ${loaded.index.size} entries from the ${from === 'snapshot' ? 'index snapshot' : 'log'}, ${replayedBytes} log bytes read${rejectedNote}`);
    if (loaded.goodEnd < size) {
      logger.warn(`store ${path}: dropped ${size - loaded.goodEnd} bytes of an incomplete or corrupt tail (after a crash?)`);
      await file.truncate(loaded.goodEnd);
      await file.datasync();
    }
    return { ...loaded, file };
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}
