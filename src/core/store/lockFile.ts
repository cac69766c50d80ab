/**
 * A lock file next to a store's log so that two writers (two processes, or the same process twice)
 * never append to the same log: each keeps its own offsets, so a second writer would scramble both.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { isProcessRunning } from '../processAlive';
import { PRIVATE_FILE_MODE } from './privateFiles';

/** Paths locked by this process; a second open in the same process is as dangerous as another process. */
const heldInThisProcess = new Set<string>();

export class StoreLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly ownerPid: number,
  ) {
    super(
      `the store at ${lockPath.replace(/\.lock$/, '')} is already open in process ${ownerPid}` +
        (ownerPid === process.pid ? ' (this process: close the first instance before reopening)' : '; stop that process or use another data dir'),
    );
    this.name = 'StoreLockedError';
  }
}

/** A held lock; `release()` removes the file. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock at `lockPath`. A lock left behind by a process that no longer runs (a crash or
 * `kill -9`) is taken over; one held by a live process throws StoreLockedError.
 */
export async function acquireLock(lockPath: string): Promise<HeldLock> {
  if (heldInThisProcess.has(lockPath)) throw new StoreLockedError(lockPath, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    // Write the pid to a private file and hard-link it into place: the lock appears atomically with
    // its content, so a rival never reads a half-written (empty) lock and mistakes it for a stale one.
    const draft = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(draft, String(process.pid), { mode: PRIVATE_FILE_MODE });
    } catch (error) {
      // A full disk creates the file and then fails to write the pid: never leave it behind.
      await unlink(draft).catch(() => undefined);
      throw error;
    }
    try {
      await link(draft, lockPath);
      heldInThisProcess.add(lockPath);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          heldInThisProcess.delete(lockPath);
          await unlink(lockPath).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const ownerPid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(ownerPid) && ownerPid > 0 && ownerPid !== process.pid && isProcessRunning(ownerPid)) {
        throw new StoreLockedError(lockPath, ownerPid);
      }
      // Stale (dead owner, or our own pid left by an earlier life of a reused pid): remove and retry.
      await unlink(lockPath).catch(() => undefined);
    } finally {
      await unlink(draft).catch(() => undefined);
    }
  }
  throw new Error(`could not take the lock ${lockPath}`);
}
