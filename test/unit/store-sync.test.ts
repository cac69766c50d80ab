// Issue 15: the embedded store syncs its log to disk at most once per `syncIntervalMs`, shared by
// every write until then, instead of once per batch; and never leaves an index snapshot on disk that
// describes log bytes not yet synced. Observed through the real FileHandle's datasync, wrapped to
// note which file each call synced (from /proc/self/fd, hence Linux only).
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';

const linuxOnly = process.platform !== 'linux' && 'names synced files through /proc/self/fd';

/** Paths of the files datasync was called on, in call order. */
const synced: string[] = [];
let restore = (): void => undefined;

before(async () => {
  const probe = await open(process.execPath, 'r');
  const prototype = Object.getPrototypeOf(probe) as { datasync: (this: { fd: number }) => Promise<void> };
  await probe.close();
  const real = prototype.datasync;
  prototype.datasync = function (this: { fd: number }) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return real.call(this);
  };
  restore = () => void (prototype.datasync = real);
});
after(() => restore());

async function withStore(options: { syncIntervalMs: number; snapshotEveryBytes?: number }, run: (store: Awaited<ReturnType<typeof openEmbeddedStore>>, logPath: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'isartor-sync-'));
  try {
    const store = await openEmbeddedStore(dir, { maxEntries: 1000, ttlSeconds: 0 }, { name: 'sync', ...options });
    const logPath = join(dir, (await readdir(dir)).find((name) => name.endsWith('.log'))!);
    try {
      await run(store, logPath);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const syncsOf = (path: string): number => synced.filter((file) => file === path).length;

it('syncs a burst of writes once, after the interval, not once per batch', { skip: linuxOnly }, async () => {
  await withStore({ syncIntervalMs: 500 }, async (store, log) => {
    const before = syncsOf(log); // creating the log syncs it
    // 21 batches or more: 20 writes one after another, then 20 at once.
    for (let i = 0; i < 20; i++) await store.set(`one-by-one ${i}`, Buffer.alloc(300, i));
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`together ${i}`, Buffer.alloc(300, i))));
    // At most one: the interval may end during the burst on a slow machine.
    assert.ok(syncsOf(log) - before <= 1, `no write waited for a sync of its own (${syncsOf(log) - before} syncs)`);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const synced = syncsOf(log) - before;
    assert.ok(synced >= 1 && synced <= 2, `one sync (two if the interval ended mid-burst) covered all 40 writes: ${synced}`);
    assert.deepEqual(await store.get('one-by-one 7'), Buffer.alloc(300, 7));
  });
});

it('syncs the log before writing an index snapshot that covers it', { skip: linuxOnly }, async () => {
  // An hour: only the snapshot (or close) can sync the log in this test.
  await withStore({ syncIntervalMs: 3_600_000, snapshotEveryBytes: 4096 }, async (store, log) => {
    const start = synced.length;
    for (let i = 0; i < 30; i++) await store.set(`k${i}`, Buffer.alloc(300, i));
    await store.set('last', Buffer.alloc(10)); // queued behind the batch that wrote the snapshot
    const calls = synced.slice(start);
    const firstSnapshotSync = calls.findIndex((file) => file !== log);
    assert.ok(firstSnapshotSync >= 0, 'a snapshot was written (and synced)');
    assert.ok(calls.slice(0, firstSnapshotSync).includes(log), `the log was synced before the snapshot: ${calls.join(', ')}`);
  });
});

it('syncs what is left when it closes', { skip: linuxOnly }, async () => {
  let logPath = '';
  let before = 0;
  await withStore({ syncIntervalMs: 3_600_000 }, async (store, log) => {
    logPath = log;
    before = syncsOf(log);
    await store.set('only', Buffer.alloc(100, 1));
    assert.equal(syncsOf(log) - before, 0);
  });
  assert.ok(syncsOf(logPath) - before >= 1, 'close synced the log');
});
