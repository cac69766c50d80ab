// The embedded store against real files in a temp folder: persistence, bounds, compaction, recovery.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { StoreLockedError } from '../../src/core/store/lockFile';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `s${++counter}`);
const limits = { maxEntries: 1000, ttlSeconds: 0 };
const value = (text: string): Buffer => Buffer.from(text, 'utf8');

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-store-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('embedded store', () => {
  it('returns what was set, and undefined for unknown keys', async () => {
    const store = await openEmbeddedStore(freshDir(), limits);
    await store.set('a', value('alpha'));
    assert.deepEqual(await store.get('a'), value('alpha'));
    assert.equal(await store.get('missing'), undefined);
    assert.equal(store.size(), 1);
    await store.close();
  });

  it('keeps every entry across a close and reopen, byte for byte', async () => {
    const dir = freshDir();
    const binary = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);
    let store = await openEmbeddedStore(dir, limits);
    await store.set('bin', binary);
    await store.set('text', value('héllo wörld'));
    await store.set('text', value('replaced'));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await store.get('bin'), binary);
    assert.deepEqual(await store.get('text'), value('replaced'));
    assert.equal(store.size(), 2);
    await store.close();
  });

  it('accepts many concurrent sets (one group commit) and keeps them all', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.set(`k${i}`, value(`v${i}`))));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.equal(store.size(), 200);
    for (let i = 0; i < 200; i++) assert.deepEqual(await store.get(`k${i}`), value(`v${i}`));
    await store.close();
  });

  it('evicts the least recently used entry past maxEntries, also after a reopen', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, { maxEntries: 3, ttlSeconds: 0 });
    await store.set('a', value('1'));
    await store.set('b', value('2'));
    await store.set('c', value('3'));
    assert.ok(await store.get('a')); // a is now the most recently used; b the least
    await store.set('d', value('4'));
    assert.equal(store.size(), 3);
    assert.equal(await store.get('b'), undefined);
    assert.deepEqual(await collect(store.keys()), ['c', 'a', 'd']);
    await store.close();
    store = await openEmbeddedStore(dir, { maxEntries: 3, ttlSeconds: 0 });
    assert.equal(await store.get('b'), undefined, 'an evicted entry must not come back after a restart');
    assert.equal(store.size(), 3);
    await store.close();
  });

  it('reports each key that stops being live (evicted, expired, deleted, dropped by compaction), not an overwrite or a clear', async () => {
    let now = 1_000_000;
    const store = await openEmbeddedStore(freshDir(), { maxEntries: 3, ttlSeconds: 60 }, { now: () => now, compactMinBytes: 1 });
    const removed: string[] = [];
    store.onRemoved?.((key) => removed.push(key));
    await store.set('a', value('1'));
    await store.set('b', value('2'));
    await store.set('a', value('1 again'));
    assert.deepEqual(removed, [], 'an overwrite is no removal');
    await store.set('c', value('3'));
    await store.set('d', value('4'));
    assert.deepEqual(removed, ['b'], 'the least recently used key, evicted by the fourth');
    await store.delete('c');
    await store.delete('never-there');
    assert.deepEqual(removed, ['b', 'c']);
    now += 61_000;
    assert.equal(await store.get('a'), undefined);
    assert.deepEqual(removed, ['b', 'c', 'a'], 'expired when read');
    await store.compact();
    assert.deepEqual(removed, ['b', 'c', 'a', 'd'], 'expired when the compaction left it out');
    await store.set('e', value('5'));
    await store.clear();
    assert.deepEqual(removed, ['b', 'c', 'a', 'd']);
    await store.close();
  });

  it('treats entries older than the TTL as absent (injected clock), before and after a reopen', async () => {
    const dir = freshDir();
    let now = 1_000_000;
    const clock = () => now;
    let store = await openEmbeddedStore(dir, { maxEntries: 10, ttlSeconds: 60 }, { now: clock });
    await store.set('old', value('x'));
    now += 30_000;
    await store.set('young', value('y'));
    now += 29_999;
    assert.deepEqual(await store.get('old'), value('x'));
    now += 1;
    assert.equal(await store.get('old'), undefined);
    assert.deepEqual(await store.get('young'), value('y'));
    assert.deepEqual(await collect(store.keys()), ['young']);
    await store.close();
    now += 30_000;
    store = await openEmbeddedStore(dir, { maxEntries: 10, ttlSeconds: 60 }, { now: clock });
    assert.equal(store.size(), 0);
    assert.equal(await store.get('young'), undefined);
    await store.close();
  });

  it('keys() walks every key live when it began, across writes and a compaction midway', async () => {
    const store = await openEmbeddedStore(freshDir(), limits);
    for (let i = 0; i < 20; i++) await store.set(`k${i}`, value(`v${i}`));
    const walked: string[] = [];
    for await (const key of store.keys()) {
      walked.push(key);
      if (key === 'k4') {
        await store.delete('k10'); // not walked yet: skipped
        await store.set('k12', value('rewritten')); // still live: walked
        await store.set('late', value('after the walk began')); // not in the walk
        await store.compact(); // every record moves
      }
    }
    assert.deepEqual(walked, Array.from({ length: 20 }, (_, i) => `k${i}`).filter((key) => key !== 'k10'));
    await store.close();
  });

  it('deletes durably', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await store.set('a', value('1'));
    await store.set('b', value('2'));
    await store.delete('a');
    assert.equal(await store.get('a'), undefined);
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.equal(await store.get('a'), undefined);
    assert.deepEqual(await store.get('b'), value('2'));
    await store.close();
  });

  it('clear() empties the file on disk, and the store keeps working', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    for (let i = 0; i < 50; i++) await store.set(`k${i}`, Buffer.alloc(1000, i));
    const before = (await stat(store.path)).size;
    assert.ok(before > 50_000);
    await store.clear();
    const after = (await stat(store.path)).size;
    assert.ok(after < 64, `file still ${after} bytes after clear`);
    assert.equal(store.byteSize(), after);
    assert.equal(store.size(), 0);
    await store.set('new', value('n'));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await collect(store.keys()), ['new']);
    await store.close();
  });

  it('compacts when overwrites pile up, keeping the live data and the LRU order', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits, { compactMinBytes: 20_000 });
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 10; i++) await store.set(`k${i}`, Buffer.alloc(500, round * 10 + i));
    }
    // 100 frames of ~590 bytes were written; only 10 are live, so the log must have been rewritten.
    assert.ok(store.byteSize() < 20_000, `log is ${store.byteSize()} bytes, expected compaction`);
    assert.equal((await stat(store.path)).size, store.byteSize());
    await store.get('k0');
    await store.compact();
    assert.deepEqual((await collect(store.keys())).at(-1), 'k0');
    for (let i = 0; i < 10; i++) assert.deepEqual(await store.get(`k${i}`), Buffer.alloc(500, 90 + i));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    for (let i = 0; i < 10; i++) assert.deepEqual(await store.get(`k${i}`), Buffer.alloc(500, 90 + i));
    // No draft of a compaction or a snapshot is left behind.
    assert.deepEqual((await readdir(dir)).sort(), ['store.index', 'store.log', 'store.log.lock']);
    await store.close();
  });

  it('drops a torn tail of garbage bytes and keeps everything before it', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await store.set('a', value('first'));
    await store.set('b', value('second'));
    const goodSize = store.byteSize();
    const path = store.path;
    await store.close();
    await appendFile(path, Buffer.from([0x33, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await store.get('a'), value('first'));
    assert.deepEqual(await store.get('b'), value('second'));
    assert.equal((await stat(path)).size, goodSize, 'the torn tail is cut off');
    await store.set('c', value('third'));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await store.get('c'), value('third'));
    await store.close();
  });

  it('drops a record cut short in the middle (half-written frame)', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await store.set('keep', value('kept'));
    const keepEnd = store.byteSize();
    await store.set('torn', Buffer.alloc(4000, 7));
    const path = store.path;
    await store.close();
    await truncate(path, keepEnd + 2000);
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await store.get('keep'), value('kept'));
    assert.equal(await store.get('torn'), undefined);
    assert.equal(store.byteSize(), keepEnd);
    await store.close();
  });

  it('detects a flipped byte with the checksum rather than returning it', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await store.set('a', value('aaaaaaaaaaaaaaaa'));
    const path = store.path;
    await store.close();
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(path);
    bytes[bytes.length - 3] ^= 0xff;
    await writeFile(path, bytes);
    store = await openEmbeddedStore(dir, limits);
    assert.equal(await store.get('a'), undefined);
    await store.close();
  });

  it('sets aside a file that is not a store log instead of failing or overwriting it silently', async () => {
    const dir = freshDir();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'store.log'), 'not a store');
    const store = await openEmbeddedStore(dir, limits);
    assert.equal(store.size(), 0);
    await store.set('a', value('1'));
    const files = await readdir(dir);
    assert.ok(files.some((f) => f.startsWith('store.log.unreadable-')), files.join(','));
    await store.close();
  });

  it('keeps separate stores apart by name in one folder', async () => {
    const dir = freshDir();
    const one = await openEmbeddedStore(dir, limits, { name: 'exact' });
    const two = await openEmbeddedStore(dir, limits, { name: 'semantic' });
    await one.set('k', value('one'));
    await two.set('k', value('two'));
    assert.deepEqual(await one.get('k'), value('one'));
    assert.deepEqual(await two.get('k'), value('two'));
    await Promise.all([one.close(), two.close()]);
  });

  it('refuses a second open of the same store while the first is open, and allows it after close', async () => {
    const dir = freshDir();
    const first = await openEmbeddedStore(dir, limits);
    await assert.rejects(openEmbeddedStore(dir, limits), StoreLockedError);
    await first.close();
    const second = await openEmbeddedStore(dir, limits);
    await second.close();
  });

  it('rejects bad input with clear errors and leaves the data intact', async () => {
    const store = await openEmbeddedStore(freshDir(), limits);
    await store.set('a', value('1'));
    await assert.rejects(store.set('', value('x')), /non-empty/);
    await assert.rejects(store.set('b', 'text' as unknown as Buffer), /Buffer/);
    assert.deepEqual(await store.get('a'), value('1'));
    await store.close();
    await assert.rejects(store.set('c', value('x')), /closed/);
    await assert.rejects(openEmbeddedStore(freshDir(), { maxEntries: 0, ttlSeconds: 0 }), /maxEntries/);
    await assert.rejects(openEmbeddedStore(freshDir(), limits, { name: '../escape' }), /name/);
  });

  it('reports bytes on disk', async () => {
    const store = await openEmbeddedStore(freshDir(), limits);
    await store.set('a', Buffer.alloc(10_000));
    assert.equal(store.byteSize(), (await stat(store.path)).size);
    assert.ok(store.byteSize() > 10_000);
    await store.close();
  });
});
