// Lock files taken over from a dead owner (src/core/ownerLock.ts): exactly one taker wins, and a
// slow taker never removes the lock a faster one just made.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import { createExclusive, isStale, releaseOwnLock, removeStaleLock } from '../../src/core/ownerLock';
import { processIdentity } from '../../src/core/processAlive';
import { acquireLock, StoreLockedError } from '../../src/core/store/lockFile';
import { withFileLock } from '../../src/extension/integrations/fileLock';

let dir: string;
let deadPid: number;
let liveA: ReturnType<typeof spawn>;
let liveB: ReturnType<typeof spawn>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-lock-'));
  // A pid that surely ran and ended, and two that run for the whole test: owners in one process.
  deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  liveA = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  liveB = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
});
after(async () => {
  liveA.kill();
  liveB.kill();
  await rm(dir, { recursive: true, force: true });
});

/** The acquire loop of the lock files, for an owner whose content (pid) is given. */
async function take(path: string, content: string): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await createExclusive(path, content);
    if (found === undefined) return true;
    if (found === null) continue;
    if (!isStale(found)) return false;
    await removeStaleLock(path, found);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

it('a taker that found the stale lock late does not remove the lock another taker just made', async () => {
  const path = join(dir, 'late.lock');
  const stale = `${deadPid} 0123456789abcdef`;
  await writeFile(path, stale);
  // Both found the stale lock; A takes it over first.
  assert.equal(await take(path, `${liveA.pid} aaaa`), true);
  await removeStaleLock(path, stale); // B, acting on what it read before
  assert.equal(await readFile(path, 'utf8'), `${liveA.pid} aaaa`, "A's lock survived");
  assert.equal(await take(path, `${liveB.pid} bbbb`), false, 'B sees a live owner');
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('late.lock.')), [], 'no claim or draft left behind');
});

it('of two takers racing for one stale lock, exactly one wins, every time', async () => {
  for (let round = 0; round < 40; round++) {
    const path = join(dir, `race-${round}.lock`);
    await writeFile(path, String(deadPid)); // an old version's lock: the pid alone
    const [a, b] = await Promise.all([take(path, `${liveA.pid} a${round}`), take(path, `${liveB.pid} b${round}`)]);
    assert.equal(Number(a) + Number(b), 1, `round ${round}: ${a} ${b}`);
    assert.equal(await readFile(path, 'utf8'), a ? `${liveA.pid} a${round}` : `${liveB.pid} b${round}`);
  }
});

it("a claim left by a taker that died is cleared, and the stale lock is taken", async () => {
  const path = join(dir, 'claimed.lock');
  const stale = `${deadPid} feedfeedfeedfeed`;
  await writeFile(path, stale);
  await writeFile(`${path}.takeover-${deadPid}_feedfeedfeedfeed`, `${deadPid} 1111`);
  assert.equal(await take(path, `${liveA.pid} cccc`), true);
});

it('an empty lock file (a power cut before its bytes reached the disk) is taken over, by the store and the journal', async () => {
  // The lock's name is on disk but not its content: no live owner ever leaves it so (createExclusive
  // links a file already written), so it is a dead owner's, and must not block every later start.
  const storeLock = join(dir, 'empty-store.log.lock');
  await writeFile(storeLock, '');
  const held = await acquireLock(storeLock);
  assert.match(await readFile(storeLock, 'utf8'), new RegExp(`^${process.pid} `));
  await held.release();
  const journalLock = join(dir, 'empty-journal.lock');
  await writeFile(journalLock, '');
  assert.equal(await withFileLock(journalLock, async () => 'ran'), 'ran');
});

it('an empty takeover claim (its taker lost power mid-claim) does not keep the stale lock forever', async () => {
  const path = join(dir, 'empty-claim.lock');
  const stale = `${deadPid} abababababababab`;
  await writeFile(path, stale);
  await writeFile(`${path}.takeover-${deadPid}_abababababababab`, '');
  const held = await acquireLock(path);
  await held.release();
});

it('a lock whose pid now belongs to another process (after a reboot, or ids wrapped) is taken over', { skip: process.platform !== 'linux' && 'process start times are read from /proc' }, async () => {
  // A power cut leaves the lock; after the reboot its pid names some other live process. The
  // owner's boot and start time, kept in the lock, tell that process from the owner.
  const identity = processIdentity(liveA.pid!)!;
  assert.ok(identity, 'this platform reads process start times');
  const path = join(dir, 'reused-pid.log.lock');
  await writeFile(path, `${liveA.pid} 0123456789abcdef 00000000-0000-0000-0000-000000000000/12345`);
  const held = await acquireLock(path);
  await held.release();
  // The same pid with its real identity is the live owner.
  await writeFile(path, `${liveA.pid} 0123456789abcdef ${identity}`);
  await assert.rejects(acquireLock(path), StoreLockedError);
  // What a lock of this process holds identifies it.
  const own = await acquireLock(path.replace('reused', 'own'));
  assert.match(await readFile(path.replace('reused', 'own'), 'utf8'), new RegExp(`^${process.pid} [0-9a-f]{16} ${processIdentity(process.pid)}$`));
  await own.release();
});

it('release removes only its own lock', async () => {
  const path = join(dir, 'release.lock');
  await writeFile(path, `${liveB.pid} theirs`);
  await releaseOwnLock(path, `${liveA.pid} mine`);
  assert.equal(await readFile(path, 'utf8'), `${liveB.pid} theirs`);
});

it("the store lock takes over a dead owner's lock and refuses a live one", async () => {
  const path = join(dir, 'store.log.lock');
  await writeFile(path, String(deadPid));
  const held = await acquireLock(path);
  await held.release();
  await writeFile(path, `${liveA.pid} other`);
  await assert.rejects(acquireLock(path), StoreLockedError);
});

it('four processes starting together on a stale journal lock hold it one at a time', async () => {
  const racer = join(__dirname, 'fixtures', 'lockRacer.ts');
  for (let round = 0; round < 2; round++) {
    const path = join(dir, `journal-${round}.lock`);
    const log = join(dir, `journal-${round}.log`);
    await writeFile(path, String(deadPid));
    const startAt = Date.now() + 2500; // after every child has loaded tsx
    const children = [0, 1, 2, 3].map(() => spawn(process.execPath, ['--import', 'tsx', racer, path, log, String(startAt)], { cwd: resolve(__dirname, '../..'), stdio: 'ignore' }));
    await Promise.all(children.map((child) => once(child, 'exit')));
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 8, lines.join('; '));
    let held = 0;
    for (const line of lines) {
      held += line.startsWith('enter') ? 1 : -1;
      assert.ok(held <= 1, `two holders at once in round ${round}: ${lines.join('; ')}`);
    }
  }
});
