// Issue 15: how the embedded store appends to its log. The writes of one event-loop turn go out in
// one append; a small append is written on the calling thread (fs.writeSync), a large one through
// the thread pool (FileHandle.write), and so is every append after one that was slow. Observed by
// wrapping the real fs.writeSync and FileHandle.prototype.write, which still do the writing.
import assert from 'node:assert/strict';
import type * as FsModule from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, it } from 'node:test';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../../src/core/store/embedded';
import { SYNC_APPEND_MAX_BYTES } from '../../src/core/store/logAppender';

const fs = createRequire(__filename)('node:fs') as typeof FsModule;
let syncWrites = 0;
let pooledWrites = 0;
let restore = (): void => undefined;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-append-'));
  const probe = await open(process.execPath, 'r');
  const handleProto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const realHandleWrite = handleProto.write;
  const realWriteSync = fs.writeSync;
  handleProto.write = function (this: unknown, ...args: unknown[]) {
    pooledWrites++;
    return realHandleWrite.apply(this, args);
  };
  fs.writeSync = function (...args: Parameters<typeof fs.writeSync>) {
    syncWrites++;
    return (realWriteSync as (...a: unknown[]) => number)(...args);
  } as typeof fs.writeSync;
  syncBuiltinESMExports();
  restore = () => {
    handleProto.write = realHandleWrite;
    fs.writeSync = realWriteSync;
    syncBuiltinESMExports();
  };
});
after(async () => {
  restore();
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  syncWrites = 0;
  pooledWrites = 0;
});

let counter = 0;
async function withStore(options: EmbeddedStoreOptions, run: (store: Awaited<ReturnType<typeof openEmbeddedStore>>) => Promise<void>): Promise<void> {
  const store = await openEmbeddedStore(join(root, `s${++counter}`), { maxEntries: 1000, ttlSeconds: 0 }, { name: 'append', syncIntervalMs: 3_600_000, ...options });
  syncWrites = 0;
  pooledWrites = 0;
  try {
    await run(store);
  } finally {
    await store.close();
  }
}

it('appends the writes of one event-loop turn in one write on the calling thread', async () => {
  await withStore({}, async (store) => {
    // Twenty sets, each issued a few microtasks later than the one before (as answers finishing
    // in one turn are): one batch all the same.
    const settled = Array.from({ length: 20 }, async (_, i) => {
      for (let hop = 0; hop < i; hop++) await null;
      return store.set(`turn ${i}`, Buffer.alloc(200, i));
    });
    await Promise.all(settled);
    assert.equal(syncWrites, 1, 'one append for the whole turn');
    assert.equal(pooledWrites, 0, 'none through the thread pool');
    for (let i = 0; i < 20; i++) assert.deepEqual(await store.get(`turn ${i}`), Buffer.alloc(200, i));
    // The next turn's writes are a batch of their own.
    await store.set('next turn', Buffer.alloc(10, 1));
    assert.equal(syncWrites, 2);
  });
});

it('sends an append larger than SYNC_APPEND_MAX_BYTES through the thread pool', async () => {
  await withStore({}, async (store) => {
    const large = Buffer.alloc(SYNC_APPEND_MAX_BYTES + 1, 7);
    await store.set('large', large);
    assert.equal(syncWrites, 0);
    assert.ok(pooledWrites >= 1, 'written by FileHandle.write');
    assert.deepEqual(await store.get('large'), large);
    await store.set('small', Buffer.alloc(100, 3));
    assert.equal(syncWrites, 1, 'a small one after it is written on the calling thread again');
  });
});

it('after one slow append, sends every later one through the thread pool and says so once', async () => {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (line: string) => void warnings.push(line), error() {} };
  // Any append is slower than -1 ms: the first one trips the switch.
  await withStore({ slowAppendMs: -1, logger }, async (store) => {
    await store.set('first', Buffer.alloc(100, 1));
    assert.equal(syncWrites, 1);
    assert.equal(pooledWrites, 0);
    await store.set('second', Buffer.alloc(100, 2));
    await store.set('third', Buffer.alloc(100, 3));
    assert.equal(syncWrites, 1, 'no append on the calling thread after the slow one');
    assert.equal(pooledWrites, 2);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /append of \d+ bytes took [\d.]+ ms on the proxy's thread; appends go through the thread pool from now on/);
    assert.deepEqual(await store.get('first'), Buffer.alloc(100, 1));
    assert.deepEqual(await store.get('third'), Buffer.alloc(100, 3));
  });
});
