/**
 * How the embedded store appends a batch to its log. A small append is written on the calling
 * thread: the page cache takes it in microseconds, while the thread pool's round trip (hand-off,
 * wake-up, completion) cost a miss ~25 µs of CPU and two thread wake-ups (issue 15). A large
 * append, and every append once one has been slow (a network or failing disk), goes through the
 * thread pool as before, so a disk that blocks holds the proxy's thread once, not at every miss.
 * The data sync stays on the thread pool, on its own timer (LOG_SYNC_INTERVAL_MS).
 */
import type { FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger';
import { writeFully, writeFullySync } from './logFile';

/** Appends up to this size are written on the calling thread (a copy into the page cache: tens of µs). */
export const SYNC_APPEND_MAX_BYTES = 256 * 1024;

/**
 * An append on the calling thread that takes longer than this sends all later ones to the thread
 * pool. A local ext4 disk growing a log by ~700 MB at 6,000 misses/s took at most 3.5 ms on the
 * proxy's thread (one of 5,085 appends over 1 ms) and 5.2 ms once in the L1b worker, when the
 * journal was committing; a disk slower than this is blocking, not busy.
 */
export const SLOW_APPEND_MS = 20;

export class LogAppender {
  private viaThreadPool = false;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly slowAppendMs = SLOW_APPEND_MS,
  ) {}

  /** Writes all of `bytes` at `position`; throws (or rejects) as the write failed. */
  async append(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
    if (this.viaThreadPool || bytes.length > SYNC_APPEND_MAX_BYTES) return writeFully(file, bytes, position);
    const started = performance.now();
    writeFullySync(file, bytes, position);
    const tookMs = performance.now() - started;
    if (tookMs > this.slowAppendMs) {
      this.viaThreadPool = true;
      this.logger.warn(`store ${this.path}: an append of ${bytes.length} bytes took ${tookMs.toFixed(1)} ms on the proxy's thread; appends go through the thread pool from now on`);
    }
  }
}
