/**
 * A lock file next to a store's log so that two writers (two processes, or the same process twice)
 * never append to the same log: each keeps its own offsets, so a second writer would scramble both.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createExclusive, isStale, ownerContent, ownerPid, releaseOwnLock, removeStaleLock } from '../ownerLock';

/** Tries while a stale lock is being taken over (by us or a rival), ~0.2 s in all. */
const TAKEOVER_ATTEMPTS = 20;

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
  const content = ownerContent();
  for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
    const found = await createExclusive(lockPath, content);
    if (found === undefined) {
      heldInThisProcess.add(lockPath);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          heldInThisProcess.delete(lockPath);
          await releaseOwnLock(lockPath, content);
        },
      };
    }
    if (found === null) continue; // released meanwhile
    if (!isStale(found)) throw new StoreLockedError(lockPath, ownerPid(found)!);
    // A dead owner's lock (a crash or `kill -9`): taken over, once, by one process.
    await removeStaleLock(lockPath, found);
    // Another process may be taking the same stale lock over: give it a moment to finish.
    if (attempt > 0) await delay(10);
  }
  throw new Error(`could not take the lock ${lockPath}`);
}
