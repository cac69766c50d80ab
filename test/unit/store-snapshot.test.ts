// The embedded store's index snapshot against real files: used when it matches the log, ignored
// (with a full scan and nothing lost) when it is stale or damaged, and the log's tail replayed.
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/core/store/embedded';
import { decodeIndexSnapshot, encodeIndexSnapshot } from '../../src/core/store/indexSnapshot';

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

/**
 * The files of a store as they are on disk right now, copied to a new folder: what a `kill -9`
 * at this moment would leave behind (every resolved write is on disk; nothing more is flushed).
 */
async function crashImage(store: EmbeddedStore, dir: string): Promise<string> {
  const image = freshDir();
  await mkdir(image, { recursive: true });
  for (const name of await readdir(dir)) if (name === 'store.log' || name === 'store.index') await copyFile(join(dir, name), join(image, name));
  assert.ok(store.path.startsWith(dir));
  return image;
}

/** Writes `count` entries k0..k{count-1} of ~200 bytes each. */
async function fill(store: EmbeddedStore, count: number, prefix = 'k'): Promise<void> {
  for (let i = 0; i < count; i++) await store.set(`${prefix}${i}`, Buffer.alloc(200, i));
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-store-snapshot-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('embedded store index snapshot', () => {
  it('opens from the snapshot after a clean close, reading none of the log', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await fill(store, 50);
    await store.delete('k7');
    await store.close();
    assert.ok((await readdir(dir)).includes('store.index'));
    store = await openEmbeddedStore(dir, limits);
    assert.deepEqual(store.opened, { from: 'snapshot', replayedBytes: 0 });
    assert.equal(store.size(), 49);
    assert.equal(await store.get('k7'), undefined);
    for (let i = 0; i < 50; i++) if (i !== 7) assert.deepEqual(await store.get(`k${i}`), Buffer.alloc(200, i));
    await store.close();
  });

  it('scans the log when there is no snapshot, and writes one for the next start', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await fill(store, 20);
    await store.close();
    await rm(join(dir, 'store.index'));
    store = await openEmbeddedStore(dir, limits);
    assert.equal(store.opened.from, 'scan');
    assert.equal(store.opened.snapshotRejected, 'missing');
    assert.equal(store.size(), 20);
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.equal(store.opened.from, 'snapshot');
    await store.close();
  });

  it('keeps the LRU order across a restart: the entry read last is evicted last', async () => {
    const dir = freshDir();
    const bounded = { maxEntries: 3, ttlSeconds: 0 };
    let store = await openEmbeddedStore(dir, bounded);
    await store.set('a', value('1'));
    await store.set('b', value('2'));
    await store.set('c', value('3'));
    assert.ok(await store.get('a')); // use order now b, c, a
    await store.close();
    store = await openEmbeddedStore(dir, bounded);
    assert.deepEqual(await collect(store.keys()), ['b', 'c', 'a']);
    await store.set('d', value('4'));
    assert.equal(await store.get('b'), undefined, 'b was the least recently used before the restart');
    assert.deepEqual(await store.get('a'), value('1'), 'a was read just before the restart and must survive');
    await store.close();
  });

  it('replays the log written after the snapshot when the process died without closing', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await fill(store, 10);
    await store.close(); // snapshot covers k0..k9
    store = await openEmbeddedStore(dir, limits);
    const covered = store.byteSize();
    await store.set('k1', value('overwritten after the snapshot'));
    await store.delete('k2');
    await store.set('new', value('written after the snapshot'));
    const image = await crashImage(store, dir);
    const acknowledgedEnd = store.byteSize();
    await store.close();
    // A write cut short by the crash: a frame header promising more bytes than follow.
    await appendFile(join(image, 'store.log'), Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6]));

    const recovered = await openEmbeddedStore(image, limits);
    assert.equal(recovered.opened.from, 'snapshot');
    assert.equal(recovered.opened.replayedBytes, acknowledgedEnd - covered);
    assert.deepEqual(await recovered.get('k1'), value('overwritten after the snapshot'));
    assert.equal(await recovered.get('k2'), undefined);
    assert.deepEqual(await recovered.get('new'), value('written after the snapshot'));
    assert.deepEqual(await recovered.get('k9'), Buffer.alloc(200, 9));
    assert.equal(recovered.size(), 10);
    assert.equal(recovered.byteSize(), acknowledgedEnd, 'the torn frame is cut off');
    await recovered.close();
  });

  it('writes a snapshot by itself once enough log is not covered by one', async () => {
    const dir = freshDir();
    const store = await openEmbeddedStore(dir, limits, { snapshotEveryBytes: 4096 });
    await fill(store, 100); // ~23 KB of log
    const image = await crashImage(store, dir);
    const recovered = await openEmbeddedStore(image, limits);
    assert.equal(recovered.opened.from, 'snapshot');
    // At most the threshold plus the frame that crossed it (a snapshot may be on its way to the disk).
    assert.ok(recovered.opened.replayedBytes < 4096 + 300, `replayed ${recovered.opened.replayedBytes} bytes`);
    assert.equal(recovered.size(), 100);
    for (let i = 0; i < 100; i++) assert.deepEqual(await recovered.get(`k${i}`), Buffer.alloc(200, i));
    await Promise.all([recovered.close(), store.close()]);
  });

  it('writes a snapshot after compaction, and never pairs the old one with the new log', async () => {
    const dir = freshDir();
    const store = await openEmbeddedStore(dir, limits);
    await fill(store, 30);
    await store.close();
    const oldSnapshot = await readFile(join(dir, 'store.index'));
    const reopened = await openEmbeddedStore(dir, limits);
    for (let i = 0; i < 30; i += 2) await reopened.delete(`k${i}`);
    await reopened.compact();
    const image = await crashImage(reopened, dir);
    await reopened.close();

    const afterCompaction = await openEmbeddedStore(image, limits);
    assert.deepEqual(afterCompaction.opened, { from: 'snapshot', replayedBytes: 0 });
    assert.equal(afterCompaction.size(), 15);
    await afterCompaction.close();

    // The old snapshot next to the compacted log (as if removing it had not reached the disk).
    await writeFile(join(image, 'store.index'), oldSnapshot);
    const stale = await openEmbeddedStore(image, limits);
    assert.equal(stale.opened.from, 'scan');
    assert.ok(stale.opened.snapshotRejected !== undefined && stale.opened.snapshotRejected !== 'missing', String(stale.opened.snapshotRejected));
    assert.equal(stale.size(), 15);
    for (let i = 1; i < 30; i += 2) assert.deepEqual(await stale.get(`k${i}`), Buffer.alloc(200, i));
    await stale.close();
  });

  it('ignores a stale snapshot of a log that was cleared and written again', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await fill(store, 10);
    await store.close();
    const oldSnapshot = await readFile(join(dir, 'store.index'));
    store = await openEmbeddedStore(dir, limits);
    await store.clear();
    await fill(store, 12, 'other'); // same file, longer than before: only its content differs
    const image = await crashImage(store, dir);
    await store.close();
    await writeFile(join(image, 'store.index'), oldSnapshot);
    const reopened = await openEmbeddedStore(image, limits);
    assert.equal(reopened.opened.from, 'scan');
    assert.equal(reopened.opened.snapshotRejected, 'log start differs');
    assert.deepEqual((await collect(reopened.keys())).sort(), Array.from({ length: 12 }, (_, i) => `other${i}`).sort());
    assert.equal(await reopened.get('k3'), undefined);
    await reopened.close();
  });

  it('ignores a snapshot when the end of the log it covers has changed', async () => {
    const dir = freshDir();
    const store = await openEmbeddedStore(dir, limits);
    await fill(store, 40); // ~9 KB: the start of the log is untouched by what follows
    await store.close();
    const log = await readFile(join(dir, 'store.log'));
    log[log.length - 3]! ^= 0x10; // inside k39's value
    await writeFile(join(dir, 'store.log'), log);
    const reopened = await openEmbeddedStore(dir, limits);
    assert.equal(reopened.opened.snapshotRejected, 'log end differs');
    // The scan keeps every record before the damaged one and never serves the damaged bytes.
    assert.equal(await reopened.get('k39'), undefined);
    for (let i = 0; i < 39; i++) assert.deepEqual(await reopened.get(`k${i}`), Buffer.alloc(200, i));
    await reopened.close();
  });

  it('ignores a snapshot that describes more log than there is', async () => {
    const dir = freshDir();
    let store = await openEmbeddedStore(dir, limits);
    await fill(store, 10);
    await store.close();
    const snapshot = await readFile(join(dir, 'store.index'));
    store = await openEmbeddedStore(dir, limits);
    await store.clear();
    await store.set('only', value('one'));
    const image = await crashImage(store, dir);
    await store.close();
    await writeFile(join(image, 'store.index'), snapshot);
    const reopened = await openEmbeddedStore(image, limits);
    assert.equal(reopened.opened.snapshotRejected, 'log shorter than snapshot');
    assert.deepEqual(await collect(reopened.keys()), ['only']);
    await reopened.close();
  });

  it('ignores a damaged snapshot (flipped byte, cut short, not a snapshot) and loses nothing', async () => {
    const dir = freshDir();
    const store = await openEmbeddedStore(dir, limits);
    await fill(store, 25);
    await store.close();
    const good = await readFile(join(dir, 'store.index'));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 5]! ^= 0x01;
    for (const damaged of [flipped, good.subarray(0, good.length - 7), Buffer.from('not a snapshot at all, just text')]) {
      await writeFile(join(dir, 'store.index'), damaged);
      const reopened = await openEmbeddedStore(dir, limits);
      assert.equal(reopened.opened.from, 'scan');
      assert.equal(reopened.opened.snapshotRejected, 'damaged');
      assert.equal(reopened.size(), 25);
      for (let i = 0; i < 25; i++) assert.deepEqual(await reopened.get(`k${i}`), Buffer.alloc(200, i));
      await reopened.close();
    }
  });

  it('ignores a well-formed snapshot whose entries point at the wrong records', async () => {
    const dir = freshDir();
    const store = await openEmbeddedStore(dir, limits);
    await fill(store, 5);
    await store.close();
    const decoded = decodeIndexSnapshot(await readFile(join(dir, 'store.index')));
    assert.ok(decoded);
    const entries = [...decoded.index];
    // Swap where k0 and k1 live: checksum, length and log end all still agree.
    const [k0, k1] = [entries[0]![1], entries[1]![1]];
    entries[0] = ['k0', k1];
    entries[1] = ['k1', k0];
    await writeFile(join(dir, 'store.index'), encodeIndexSnapshot({ ...decoded, entries }));
    const reopened = await openEmbeddedStore(dir, limits);
    assert.equal(reopened.opened.snapshotRejected, 'entry mismatch');
    assert.deepEqual(await reopened.get('k0'), Buffer.alloc(200, 0));
    assert.deepEqual(await reopened.get('k1'), Buffer.alloc(200, 1));
    await reopened.close();
  });

  it('recovers the same entries from snapshot + tail as from a full scan, at any point of a random workload', async () => {
    const dir = freshDir();
    // Small thresholds: snapshots and compactions happen many times along the way.
    const store = await openEmbeddedStore(dir, limits, { snapshotEveryBytes: 3000, compactMinBytes: 8000 });
    const model = new Map<string, Buffer>();
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let sawSnapshot = 0;
    for (let step = 0; step < 600; step++) {
      const key = `key${random(40)}`;
      const op = random(10);
      if (op < 6) {
        const bytes = Buffer.alloc(50 + random(400), step % 256);
        await store.set(key, bytes);
        model.set(key, bytes);
      } else if (op < 8) {
        await store.delete(key);
        model.delete(key);
      } else {
        assert.deepEqual(await store.get(key), model.get(key));
      }
      if (step % 97 !== 96) continue;
      const image = await crashImage(store, dir);
      const scanned = freshDir();
      await mkdir(scanned);
      await copyFile(join(image, 'store.log'), join(scanned, 'store.log'));
      for (const folder of [image, scanned]) {
        const recovered = await openEmbeddedStore(folder, limits);
        if (folder === image && recovered.opened.from === 'snapshot') sawSnapshot++;
        assert.equal(recovered.size(), model.size, `step ${step}, ${recovered.opened.from}`);
        for (const [k, v] of model) assert.deepEqual(await recovered.get(k), v, `${k} at step ${step} (${recovered.opened.from})`);
        await recovered.close();
      }
    }
    assert.ok(sawSnapshot > 0, 'no crash image opened from a snapshot');
    await store.close();
  });

  it('keeps TTL ages across a snapshot restart (creation times are in the snapshot)', async () => {
    const dir = freshDir();
    let now = 5_000_000;
    const clock = (): number => now;
    const ttl = { maxEntries: 10, ttlSeconds: 60 };
    let store = await openEmbeddedStore(dir, ttl, { now: clock });
    await store.set('early', value('e'));
    now += 40_000;
    await store.set('late', value('l'));
    await store.close();
    now += 30_000; // early is 70 s old, late 30 s
    store = await openEmbeddedStore(dir, ttl, { now: clock });
    assert.equal(store.opened.from, 'snapshot');
    assert.equal(await store.get('early'), undefined);
    assert.deepEqual(await store.get('late'), value('l'));
    await store.close();
  });

  it('with loadInBackground, returns before the index is built; gets wait for it and writes queue behind it', async () => {
    const dir = freshDir();
    const first = await openEmbeddedStore(dir, limits);
    await fill(first, 40);
    await first.close();
    const store = await openEmbeddedStore(dir, limits, { loadInBackground: true });
    assert.equal(store.size(), 0, 'the index is still being read');
    const early = store.get('k5');
    const written = store.set('k6', value('written while loading'));
    await assert.rejects(openEmbeddedStore(dir, limits), /already open/, 'the lock is held from the start');
    assert.deepEqual(await early, Buffer.alloc(200, 5));
    await written;
    await store.loaded;
    assert.equal(store.size(), 40);
    assert.deepEqual(await store.get('k6'), value('written while loading'), 'the load must not overwrite a later write');
    await store.close();
    const reopened = await openEmbeddedStore(dir, limits);
    assert.deepEqual(await reopened.get('k6'), value('written while loading'));
    await reopened.close();
  });

  it('with loadInBackground, a failed load makes gets and writes fail with its reason and still closes', async () => {
    const dir = freshDir();
    await mkdir(join(dir, 'store.log'), { recursive: true }); // a folder where the log should be
    const store = await openEmbeddedStore(dir, limits, { loadInBackground: true });
    await assert.rejects(store.loaded);
    await assert.rejects(store.get('a'));
    await assert.rejects(store.set('a', value('x')), /could not be opened/);
    await store.close();
    // The lock is released: a second open fails on the same folder again, not on the lock.
    await assert.rejects(openEmbeddedStore(dir, limits), (error: Error) => !/already open/.test(error.message));
  });

  it('with loadInBackground, close() during the load waits for it and writes a snapshot', async () => {
    const dir = freshDir();
    const first = await openEmbeddedStore(dir, limits);
    await fill(first, 30);
    await first.close();
    await rm(join(dir, 'store.index')); // make the load a full scan
    const store = await openEmbeddedStore(dir, limits, { loadInBackground: true });
    await store.close();
    const reopened = await openEmbeddedStore(dir, limits);
    assert.equal(reopened.opened.from, 'snapshot');
    assert.equal(reopened.size(), 30);
    await reopened.close();
  });
});
