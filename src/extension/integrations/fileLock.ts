/**
 * A short-lived lock around a read-modify-write of a small shared file (the restore journal, the
 * uninstall pointer). Two VS Code windows share one global storage folder, so a lock inside one
 * process is not enough: a lock file holds the owner's pid, and a dead owner's lock is taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isProcessRunning } from '../../core/processAlive';

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
    await acquire(lockPath);
    try {
      return await work();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  });
  const settled = run.catch(() => undefined);
  queues.set(lockPath, settled);
  void settled.then(() => {
    if (queues.get(lockPath) === settled) queues.delete(lockPath);
  });
  return run;
}

async function acquire(lockPath: string): Promise<void> {
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  const started = Date.now();
  for (;;) {
    // The pid goes into a private file that is hard-linked into place, so a rival never reads an
    // empty lock and mistakes it for a stale one.
    const draft = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(draft, String(process.pid), { mode: 0o600 });
    try {
      await link(draft, lockPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(draft).catch(() => undefined);
    }
    const content = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (content === undefined) continue; // released meanwhile: try again at once
    const owner = Number.parseInt(content, 10);
    // Our own pid here can only be a leftover of a crashed earlier life: this process queues above.
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !isProcessRunning(owner)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() - started > GIVE_UP_MS) throw new Error(`${lockPath} is held by process ${owner}; try again when it finishes`);
    await delay(RETRY_MS);
  }
}
