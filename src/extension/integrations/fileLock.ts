/**
 * A short-lived lock around a read-modify-write of a small shared file (the restore journal, the
 * uninstall pointer). Two VS Code windows share one global storage folder, so a lock inside one
 * process is not enough: a lock file holds the owner's pid, and a dead owner's lock is taken over.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createExclusive, isStale, ownerContent, ownerPid, releaseOwnLock, removeStaleLock } from '../../core/ownerLock';

const RETRY_MS = 20;
const GIVE_UP_MS = 10_000;

/** Callers in this process queue here first, so the lock file only ever arbitrates between processes. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding `lockPath`. Waits (briefly) for another live process holding it.
 *
 * @example await withFileLock(join(journalDir, 'journal.lock'), () => rewriteJournal())
 */
export function withFileLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const content = await acquire(lockPath);
    try {
      return await work();
    } finally {
      await releaseOwnLock(lockPath, content);
    }
  });
  const settled = run.catch(() => undefined);
  queues.set(lockPath, settled);
  void settled.then(() => {
    if (queues.get(lockPath) === settled) queues.delete(lockPath);
  });
  return run;
}

/** Takes the lock; resolves with the content it wrote (to release only our own lock). */
async function acquire(lockPath: string): Promise<string> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  const content = ownerContent();
  const started = Date.now();
  for (;;) {
    const found = await createExclusive(lockPath, content);
    if (found === undefined) return content;
    if (found === null) continue; // released meanwhile: try again at once
    // A dead owner's lock: taken over by exactly one of the processes that found it.
    if (isStale(found)) await removeStaleLock(lockPath, found);
    if (Date.now() - started > GIVE_UP_MS) throw new Error(`${lockPath} is held by process ${ownerPid(found) ?? '(unknown)'}; try again when it finishes`);
    await delay(RETRY_MS);
  }
}
