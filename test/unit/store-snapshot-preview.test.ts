// While the embedded store builds its map from an index snapshot (in slices, between which the
// event loop runs), gets are answered from the snapshot's columns and the log's tail: the same
// answers a get after the load gives, and the LRU moves they make are kept.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/core/store/embedded';
import { encodeIndexSnapshot, readSnapshotColumns } from '../../src/core/store/indexSnapshot';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `p${++counter}`);
/** More than two build slices (2,048 entries each), so the load yields to the event loop between them. */
const COUNT = 20_000;
const limits = { maxEntries: 100_000, ttlSeconds: 0 };

/** A data dir with COUNT entries under a snapshot, then a tail written after it, left as a crash would. */
async function storeWithTail(): Promise<string> {
  const dir = freshDir();
  const first = await openEmbeddedStore(dir, limits);
  for (let from = 0; from < COUNT; from += 2000) {
    await Promise.all(Array.from({ length: 2000 }, (_, i) => first.set(`k${from + i}`, Buffer.alloc(64, (from + i) % 251))));
  }
  await first.close();
  const second = await openEmbeddedStore(dir, limits);
  await second.set('k1', Buffer.from('overwritten after the snapshot'));
  await second.delete('k2');
  await second.set('new', Buffer.from('written after the snapshot'));
  const image = freshDir();
  await mkdir(image);
  for (const name of await readdir(dir)) if (name === 'store.log' || name === 'store.index') await copyFile(join(dir, name), join(image, name));
  await second.close();
  return image;
}

/**
 * Probes with a missing key at every turn of the event loop until a probe is answered before the
 * load ends (the snapshot is read), then asks for each of `keys` once: so their only LRU moves are
 * the early ones. The answers given before the load ended.
 */
async function answersWhileLoading(store: EmbeddedStore, keys: string[]): Promise<Map<string, Buffer | undefined>> {
  let loaded = false;
  void store.loaded.then(() => (loaded = true));
  const early = new Map<string, Buffer | undefined>();
  const asked: Array<Promise<void>> = [];
  let fired = false;
  const askAll = (): void => {
    fired = true;
    for (const key of keys) asked.push(store.get(key).then((value) => void (!loaded && early.set(key, value))));
  };
  while (!loaded && !fired) {
    // Not awaited: a get asked before the snapshot is read waits for the whole load.
    asked.push(store.get('probe-absent').then(() => void (!loaded && !fired && askAll())));
    await nextTurn();
  }
  await store.loaded;
  await Promise.all(asked);
  return early;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-store-preview-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('embedded store: gets while the index is built', () => {
  it('answers from the snapshot and the tail before the load ends, as after it, and keeps their LRU moves', async () => {
    const image = await storeWithTail();
    const store = await openEmbeddedStore(image, limits, { loadInBackground: true });
    const asked = ['k0', 'k1', 'k2', 'new', `k${COUNT - 1}`, 'k', 'absent'];
    const early = await answersWhileLoading(store, asked);
    assert.deepEqual([...early.keys()].sort(), [...asked].sort(), 'every key was answered before the load ended');
    assert.equal(store.opened.from, 'snapshot');
    // k0 was the least recently used; read early, it must now come after every key not read.
    const order: string[] = [];
    for await (const key of store.keys()) order.push(key);
    assert.ok(order.indexOf('k0') > order.indexOf('k3'), 'the early read moved k0 up the LRU order');
    for (const key of asked) assert.deepEqual(early.get(key), await store.get(key), key);
    assert.deepEqual(early.get('k0'), Buffer.alloc(64, 0));
    assert.deepEqual(early.get('k1'), Buffer.from('overwritten after the snapshot'));
    assert.equal(early.get('k2'), undefined);
    assert.deepEqual(early.get('new'), Buffer.from('written after the snapshot'));
    assert.equal(store.size(), COUNT);
    await store.close();
  });

  it('answers a get asked right at the open, before the snapshot is read, without waiting for the map', async () => {
    const image = await storeWithTail();
    const store = await openEmbeddedStore(image, limits, { loadInBackground: true });
    let loaded = false;
    void store.loaded.then(() => (loaded = true));
    const first = await store.get('k5').then((value) => ({ value, early: !loaded }));
    assert.deepEqual(first, { value: Buffer.alloc(64, 5), early: true });
    await store.loaded;
    await store.close();
  });

  it('does not answer early for a snapshot larger than maxEntries (its oldest entries are dropped)', async () => {
    const image = await storeWithTail();
    const small = { maxEntries: COUNT - 100, ttlSeconds: 0 };
    const store = await openEmbeddedStore(image, small, { loadInBackground: true });
    const early = await answersWhileLoading(store, ['k0']);
    assert.equal(early.size, 0);
    assert.equal(await store.get('k0'), undefined, 'k0 was among the oldest and was dropped');
    assert.equal(store.size(), COUNT - 100);
    await store.close();
  });
});

describe('snapshot columns: finding a key in the concatenated keys', () => {
  const keys = ['ab', 'ba', 'a', 'b', 'bab', 'é€x', 'x'];
  const entries = keys.map((key, i) => [key, { offset: 16 + 100 * i, frameBytes: 80, createdAt: 1000 + i }] as const);
  const columns = readSnapshotColumns(encodeIndexSnapshot({ logBytes: 10_000, headCrc: 1, tailCrc: 2, entries }))!;

  it('finds every key at its own position, even one that also occurs inside or across other keys', () => {
    assert.ok(columns);
    keys.forEach((key, i) => {
      assert.equal(columns.find(key), i, key);
      assert.deepEqual(columns.entryAt(i), entries[i]![1]);
      assert.equal(columns.keyAt(i), key);
    });
  });

  it('finds no key for text that spans keys or is only part of one', () => {
    for (const text of ['aba', 'abba', 'bb', '€', '€x', 'é', '', 'abab', 'bax']) assert.equal(columns.find(text), -1, text);
  });
});

describe('snapshot columns: keys come out exactly as written, ASCII or not', () => {
  const snapshotOf = (keys: string[]) => {
    const entries = keys.map((key, i) => [key, { offset: 16 + 100 * i, frameBytes: 80, createdAt: 1000 + i }] as const);
    return readSnapshotColumns(encodeIndexSnapshot({ logBytes: 100_000, headCrc: 1, tailCrc: 2, entries }))!;
  };
  /** Every key through each way out of the columns: keyAt, find, and the map built in uneven slices. */
  const assertKeys = (keys: string[]): void => {
    const columns = snapshotOf(keys);
    const index = columns.newIndex();
    for (const [from, to] of [[0, 1], [1, 1], [1, 4], [4, keys.length]] as const) assert.equal(columns.addTo(index, from, to), true);
    assert.deepEqual([...index.keys()], keys);
    keys.forEach((key, i) => {
      assert.equal(columns.keyAt(i), key);
      assert.equal(columns.find(key), i, key);
      assert.equal(index.slotOf(key), i);
    });
  };

  it('ASCII keys (kept as bytes until asked for)', () => {
    assertKeys(['ab', 'ba', 'a', 'b', 'bab', 'x', `sha256:${'0123456789abcdef'.repeat(4)}`, '\u0000\u007f~']);
  });

  it('keys with non-ASCII characters (decoded as UTF-8), lone surrogates as the writer turned them', () => {
    assertKeys(['ab', 'é€x', 'A', 'Ł', '\u{1F600}b', 'x']);
    // A lone surrogate is written as U+FFFD: the key read back is that, in both paths' callers alike.
    assert.equal(snapshotOf(['a', '\ud800', 'b']).keyAt(1), '\ufffd');
  });

  it('finds no non-ASCII key in ASCII keys, though latin1 would turn it into one of them', () => {
    // 'Ł' (U+0141) and 'Ā' (U+0100) encode in latin1 as 'A' and '\u0000'.
    const columns = snapshotOf(['A', 'B', '\u0000', 'AB']);
    for (const text of ['Ł', 'ŁB', 'Ā', 'é', '€']) assert.equal(columns.find(text), -1, text);
    assert.equal(columns.find('AB'), 3);
  });
});

