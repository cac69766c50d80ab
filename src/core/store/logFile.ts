/**
 * File-level steps of the embedded store's log: opening or creating it, writing a compacted copy,
 * and the durable-write helpers both need.
 */
import { readSync, writeSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../logger';
import type { OrderedEntries } from './keyIndex';
import { decodeRecord, LOG_MAGIC, RecordOp } from './recordLog';
import { PRIVATE_FILE_MODE } from './privateFiles';

/**
 * Longest a store write stays only in the OS's page cache. A write survives the process dying
 * as soon as it returns; this bounds what a power cut can take (answers that then go upstream
 * again). Syncing every batch instead cost ~9% of the proxy's CPU per miss (issue 15).
 */
export const LOG_SYNC_INTERVAL_MS = 1000;

/** Opens the existing log at `path` for read and write. */
export function openLog(path: string): Promise<FileHandle> {
  return open(path, 'r+');
}

/** Where one live value's record sits in the log. */
export interface IndexEntry {
  offset: number;
  frameBytes: number;
  createdAt: number;
}

/**
 * The value stored for `key` by the record of `frameBytes` bytes at `offset`, or undefined when
 * that record does not check out (torn, damaged, or another key's).
 */
export function readValue(file: FileHandle, key: string, offset: number, frameBytes: number): Buffer | undefined {
  const frame = Buffer.allocUnsafe(frameBytes);
  // Sync positional read: a hit must cost microseconds, and the page cache usually has the bytes.
  const bytesRead = readSync(file.fd, frame, 0, frameBytes, offset);
  const record = bytesRead === frameBytes ? decodeRecord(frame, offset) : undefined;
  if (!record || record.key !== key || record.op !== RecordOp.Set) return undefined;
  const valueStart = record.valueOffset - offset;
  return frame.subarray(valueStart, valueStart + record.valueLength);
}

/** Opens the log at `path` for read and write, creating it, or setting aside a file that is not a store log. */
export async function openOrCreateLog(path: string, dir: string, logger: Logger): Promise<FileHandle> {
  const existing = await openLog(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) {
    const head = Buffer.alloc(LOG_MAGIC.length);
    const { bytesRead } = await existing.read(head, 0, head.length, 0);
    if (bytesRead === LOG_MAGIC.length && head.equals(LOG_MAGIC)) return existing;
    const { size } = await existing.stat();
    await existing.close();
    if (size > 0) {
      // Never overwrite what we cannot read: it may be someone's file, or worth a look.
      const aside = `${path}.unreadable-${Date.now()}`;
      await rename(path, aside);
      logger.warn(`store ${path}: not an Isartor store log; moved it to ${aside} and started empty`);
    }
  }
  const created = await open(path, 'w+', PRIVATE_FILE_MODE);
  await writeFully(created, LOG_MAGIC, 0);
  await created.datasync();
  await syncDirectory(dir);
  return created;
}

/**
 * Copies the frames of `entries` (in their order, skipping entry i when `skip(i)` and any that no
 * longer check out) from `source` into a new, fsynced log at `draftPath`. Returns where each entry
 * landed (-1: not copied) and the new log's size. On failure the draft is removed.
 */
export async function writeCompactedLog(
  source: FileHandle,
  entries: OrderedEntries,
  draftPath: string,
  skip: (i: number) => boolean,
): Promise<{ movedTo: Float64Array; size: number }> {
  const draft = await open(draftPath, 'w', PRIVATE_FILE_MODE);
  const movedTo = new Float64Array(entries.count).fill(-1);
  let position = 0;
  try {
    const chunks: Buffer[] = [LOG_MAGIC];
    let chunkBytes = LOG_MAGIC.length;
    for (let i = 0; i < entries.count; i++) {
      if (skip(i)) continue;
      const offset = entries.offsets[i]!;
      const frameBytes = entries.frameBytes[i]!;
      const frame = Buffer.allocUnsafe(frameBytes);
      const read = readSync(source.fd, frame, 0, frameBytes, offset);
      if (read !== frameBytes || decodeRecord(frame, offset)?.key !== entries.keyAt(i)) continue;
      movedTo[i] = position + chunkBytes;
      chunks.push(frame);
      chunkBytes += frame.length;
      if (chunkBytes >= 4 * 1024 * 1024) {
        await writeFully(draft, Buffer.concat(chunks), position);
        position += chunkBytes;
        chunks.length = 0;
        chunkBytes = 0;
      }
    }
    await writeFully(draft, Buffer.concat(chunks), position);
    position += chunkBytes;
    await draft.datasync();
    await draft.close();
  } catch (error) {
    await draft.close().catch(() => undefined);
    await unlink(draftPath).catch(() => undefined);
    throw error;
  }
  return { movedTo, size: position };
}

/** Writes all of `bytes` at `position` (a positional write may write less than asked). */
export async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/** writeFully on the calling thread: for a small append, which the page cache takes in microseconds. */
export function writeFullySync(file: FileHandle, bytes: Buffer, position: number): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(file.fd, bytes, written, bytes.length - written, position + written);
}

/** Makes a create or rename durable. Windows cannot open a directory; there the rename is enough. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
