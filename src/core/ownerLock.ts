/**
 * The file primitive behind Isartor's lock files (a store's log, the extension's restore journal):
 * a lock file names its owner (pid and a token unique to this acquisition), appears atomically with
 * that content, and is taken over when its owner no longer runs.
 *
 * Taking over is the delicate part. Two processes that both find the same stale lock must not both
 * delete it: the slower one would delete the faster one's fresh lock and then create its own, and
 * both would hold the lock. So the right to remove a given stale lock is itself claimed first, with
 * an exclusive create of a file named after the stale lock's token: exactly one process wins it,
 * and it removes the stale lock only if the lock still holds that token.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { isProcessRunning, processIdentity } from './processAlive';

const PRIVATE = 0o600;

/** This process's boot and start time (see processIdentity), read once. */
let ownIdentity: string | undefined | null = null;

/**
 * What a lock file of this acquisition holds: "<pid> <token> <identity>", the identity where the
 * platform has one (older versions wrote "<pid> <token>", or the pid alone).
 */
export function ownerContent(): string {
  if (ownIdentity === null) ownIdentity = processIdentity(process.pid);
  return `${process.pid} ${randomBytes(8).toString('hex')}${ownIdentity ? ` ${ownIdentity}` : ''}`;
}

/** The owner's pid in a lock file's content, or undefined when it names none. */
export function ownerPid(content: string): number | undefined {
  const pid = Number.parseInt(content, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Creates `path` holding `content`, atomically (written to a private draft, hard-linked into place,
 * so no live owner's lock is ever read empty). Returns undefined when created, else the content
 * found there, or null when it vanished meanwhile (try again). An empty file found there is a dead
 * owner's whose bytes a power cut lost: its content '' is stale like any other dead owner's.
 */
export async function createExclusive(path: string, content: string): Promise<string | null | undefined> {
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(draft, content, { mode: PRIVATE });
  } catch (error) {
    // A full disk creates the file and then fails to write: never leave it behind.
    await unlink(draft).catch(() => undefined);
    throw error;
  }
  try {
    await link(draft, path);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return await readFile(path, 'utf8').catch(() => null);
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** Whether a lock with this content may be taken over: its owner is not a live process other than us. */
export function isStale(content: string): boolean {
  const pid = ownerPid(content);
  // Our own pid can only be left by an earlier life of a reused pid: callers queue within a process.
  if (pid === undefined || pid === process.pid || !isProcessRunning(pid)) return true;
  // A live process with the owner's pid may be another one: after a power cut and reboot, pids
  // start over, and a lock naming one would otherwise block every start until removed by hand.
  const recorded = content.trim().split(/\s+/)[2];
  if (recorded === undefined) return false; // an older version's lock: the pid is all it says
  const now = processIdentity(pid);
  return now !== undefined && now !== recorded;
}

/**
 * Removes the stale lock at `path` whose content was `staleContent`, unless someone else is already
 * taking it over or it has changed since: then it leaves everything alone, and the caller reads
 * the lock again. Never removes a lock that is not the stale one.
 */
export async function removeStaleLock(path: string, staleContent: string): Promise<void> {
  const claim = `${path}.takeover-${tokenOf(staleContent)}`;
  const rival = await createExclusive(claim, ownerContent());
  if (rival !== undefined) {
    // Another process claimed this stale lock. If it died while taking over, its claim is stale too
    // and goes (two processes racing over a dead taker's claim is the one case left uncovered).
    if (rival !== null && isStale(rival)) await unlink(claim).catch(() => undefined);
    return;
  }
  try {
    if ((await readFile(path, 'utf8').catch(() => undefined)) === staleContent) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Removes the lock at `path` if it is still this acquisition's. */
export async function releaseOwnLock(path: string, content: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === content) await unlink(path).catch(() => undefined);
}

/** A file-name-safe name for a lock's content (old locks hold only a pid). */
function tokenOf(content: string): string {
  return content.trim().replace(/[^0-9A-Za-z]+/g, '_').slice(0, 64) || 'empty';
}
