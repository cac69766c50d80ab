/**
 * Reads of index snapshots started before their store opens: `isartor serve` knows the exact
 * store's folder once its config is read, ~50 ms before the engine opens that store, and the
 * 8.6 MB read of a 100k-entry snapshot (~30-40 ms in the thread pool) can overlap the bundle's
 * initialisation instead of standing in front of the first L1a hit.
 *
 * Bytes read early are checked exactly as bytes read at open (checksum, then against the log
 * under the store's lock). A snapshot rewritten in between by another process (which then held
 * the lock) is an older snapshot of the same log: its checks pass and the log's tail after it is
 * replayed, or they fail and the log is scanned, as after a crash.
 */
import { join } from 'node:path';
import { readWhole } from './readWhole';

/** An unclaimed read is dropped after this long (the store it was for did not open: another store, read-only). */
const UNCLAIMED_MS = 30_000;

/** Reads not yet taken, with the timer that drops each: a timer left running would keep its read's bytes alive. */
const pending = new Map<string, { bytes: Promise<Buffer>; dropTimer: NodeJS.Timeout }>();

/** The index snapshot of the embedded store `name` in `dir` (beside its `<name>.log`). */
export const snapshotPathOf = (dir: string, name: string): string => join(dir, `${name}.index`);

/** Starts reading the index snapshot of the store `name` in `dir`, once; its open takes it over (`takePrefetched`). */
export function prefetchSnapshot(dir: string, name: string): void {
  const path = snapshotPathOf(dir, name);
  if (pending.has(path)) return;
  const bytes = readWhole(path);
  bytes.catch(() => undefined); // claimed or not, a failed read must not be an unhandled rejection
  const dropTimer = setTimeout(() => pending.delete(path), UNCLAIMED_MS).unref();
  pending.set(path, { bytes, dropTimer });
}

/** The read `prefetchSnapshot` started for the snapshot at `path`, taken once; undefined when there is none. */
export function takePrefetched(path: string): Promise<Buffer> | undefined {
  const read = pending.get(path);
  if (!read) return undefined;
  pending.delete(path);
  // The timer's closure holds the read: left running, it kept a 100k-entry snapshot's 8.6 MB
  // buffer resident for 30 s after the store had copied what it needs (issue 15).
  clearTimeout(read.dropTimer);
  return read.bytes;
}
