// The embedded store's key index (key → slot in typed columns) against a plain Map of objects, which
// is what it replaced: same entries, same LRU order, through slot reuse, growth and compaction.
// Keys of 64 lowercase hex digits are kept as bytes and every other key as text, so each test runs
// on text keys, on sha256 keys (the exact cache's) and on a mix with keys that are almost hex.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { encodeIndexSnapshot, readSnapshotColumns } from '../../src/core/store/indexSnapshot';
import { KeyIndex, textHash } from '../../src/core/store/keyIndex';
import type { IndexEntry } from '../../src/core/store/logFile';
import { seededRandom as random } from '../fixtures/seededRandom';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Ways to name the n-th key: the index keeps the first as text, the second as bytes, the third both ways. */
const KEY_STYLES: Array<{ name: string; key: (n: string) => string }> = [
  { name: 'text keys', key: (n) => `k${n}` },
  { name: 'sha256 keys', key: (n) => sha256(n) },
  {
    name: 'hex and almost-hex keys',
    key: (n) => {
      const hex = sha256(n);
      // Upper case, one digit short, one too many, a non-hex letter: all text, none equal to the hex key.
      const forms = [hex, hex.toUpperCase(), hex.slice(1), `${hex}0`, `${hex.slice(0, 63)}g`, hex, `k${n}`];
      return forms[Number(n.replace(/\D/g, '') || '0') % forms.length]!;
    },
  },
];

function assertSame(index: KeyIndex, model: Map<string, IndexEntry>): void {
  assert.equal(index.size, model.size);
  assert.deepEqual([...index.keys()], [...model.keys()], 'LRU order');
  for (const [key, entry] of model) assert.deepEqual(index.get(key), entry, key);
  assert.equal(index.oldest(), model.keys().next().value);
}

describe('key index', () => {
  it('an index that never held a key, or was cleared, orders to no keys (the snapshot of an empty store)', () => {
    const index = new KeyIndex();
    assert.equal(index.ordered().keysText(), '', 'threw a TypeError: at every shutdown of a fresh store');
    index.set('k1', 0, 10, 1);
    index.set(sha256('k2'), 10, 10, 2);
    assert.equal(index.ordered().keysText(), `k1${sha256('k2')}`);
    index.clear();
    assert.equal(index.ordered().keysText(), '');
  });

  it('reuses the slot of a deleted key and keeps the other entries intact', () => {
    const index = new KeyIndex();
    const a = index.set('a', 16, 100, 1);
    const b = index.set('b', 116, 200, 2);
    assert.ok(index.delete('a'));
    assert.equal(index.delete('a'), false);
    const c = index.set('c', 316, 300, 3);
    assert.equal(c, a, 'the freed slot is reused');
    assert.notEqual(b, c);
    assert.deepEqual(index.get('b'), { offset: 116, frameBytes: 200, createdAt: 2 });
    assert.deepEqual(index.get('c'), { offset: 316, frameBytes: 300, createdAt: 3 });
    assert.equal(index.get('a'), undefined);
    assert.deepEqual([...index.keys()], ['b', 'c']);
  });

  it('a set of a present key replaces its entry and makes it the most recently used', () => {
    const index = new KeyIndex();
    index.set('a', 16, 100, 1);
    index.set('b', 116, 100, 2);
    index.set('a', 216, 50, 3);
    assert.deepEqual([...index.keys()], ['b', 'a']);
    assert.deepEqual(index.get('a'), { offset: 216, frameBytes: 50, createdAt: 3 });
    assert.equal(index.size, 2);
  });

  it('a text key that takes over a hex key’s slot, and shares its hash, never answers for the hex key', () => {
    // A hex key whose first four bytes (its hash) equal the text key's hash: the slot keeps the
    // hex key's bytes when the text key reuses it, so only the slot's kind tells them apart.
    const text = 'a text key';
    const hashBytes = Buffer.from(new Int32Array([textHash(text)]).buffer);
    const hex = `${hashBytes.toString('hex')}${'5'.repeat(56)}`;
    const index = new KeyIndex();
    const slot = index.set(hex, 16, 10, 1);
    assert.ok(index.delete(hex));
    assert.equal(index.set(text, 26, 20, 2), slot, 'the text key reuses the slot');
    assert.equal(index.get(hex), undefined);
    assert.equal(index.has(hex), false);
    assert.deepEqual(index.get(text), { offset: 26, frameBytes: 20, createdAt: 2 });
  });

  for (const style of KEY_STYLES) it(`matches a Map of objects through 20,000 random sets, deletes and touches, growing past several column sizes (${style.name})`, () => {
    const next = random(15);
    const index = new KeyIndex();
    const model = new Map<string, IndexEntry>();
    for (let step = 0; step < 20_000; step++) {
      // Keys from a space that grows with the steps: the index grows to thousands, with churn.
      const key = style.key(`${Math.floor(next() * (step / 3 + 10))}`);
      const roll = next();
      if (roll < 0.6) {
        // Offsets past 2^32 and creation times in ms since 1970 must survive exactly.
        const entry = { offset: 2 ** 33 + step * 1000, frameBytes: 30 + Math.floor(next() * 1e6), createdAt: 1.7e12 + step + 0.5 };
        index.set(key, entry.offset, entry.frameBytes, entry.createdAt);
        model.delete(key);
        model.set(key, entry);
      } else if (roll < 0.8) {
        assert.equal(index.delete(key), model.delete(key));
      } else {
        const entry = model.get(key);
        assert.equal(index.touch(key), entry !== undefined);
        if (entry) {
          model.delete(key);
          model.set(key, entry);
        }
      }
      if (step % 2500 === 0) assertSame(index, model);
    }
    assert.ok(model.size > 2048, `grew past two column sizes (${model.size} keys)`);
    assertSame(index, model);
    const ordered = index.ordered();
    const orderedKeys = Array.from({ length: ordered.count }, (_, i) => ordered.keyAt(i));
    assert.deepEqual(orderedKeys, [...model.keys()]);
    assert.equal(ordered.keysText(), orderedKeys.join(''));
    orderedKeys.forEach((key, i) => {
      assert.equal(ordered.keyUnits(i), key.length);
      assert.deepEqual({ offset: ordered.offsets[i], frameBytes: ordered.frameBytes[i], createdAt: ordered.createdAt[i] }, model.get(key));
    });
    index.clear();
    assert.equal(index.size, 0);
    index.set(style.key('x'), 16, 40, 1);
    assert.deepEqual([...index.keys()], [style.key('x')]);
  });

  for (const style of KEY_STYLES) it(`an index over a snapshot’s columns grows past them without disturbing the adopted entries (${style.name})`, () => {
    const entries = Array.from({ length: 50 }, (_, i) => [style.key(`s${i}`), { offset: 16 + 100 * i, frameBytes: 100, createdAt: 1000 + i }] as const);
    const columns = readSnapshotColumns(encodeIndexSnapshot({ logBytes: 16 + 100 * 50, headCrc: 1, tailCrc: 2, entries }))!;
    const index = columns.newIndex();
    assert.ok(columns.addTo(index, 0, 50));
    const model = new Map<string, IndexEntry>(entries.map(([key, entry]) => [key, { ...entry }]));
    assertSame(index, model);
    for (let i = 0; i < 3000; i++) {
      index.set(style.key(`n${i}`), 10_000 + i, 60, 5000 + i);
      model.set(style.key(`n${i}`), { offset: 10_000 + i, frameBytes: 60, createdAt: 5000 + i });
      if (i % 7 === 0) {
        index.delete(style.key(`s${i % 50}`));
        model.delete(style.key(`s${i % 50}`));
      }
    }
    assertSame(index, model);
    assert.equal(columns.addTo(columns.newIndex(), 0, 50), true);
    const twice = columns.newIndex();
    assert.ok(columns.addTo(twice, 0, 50));
    assert.equal(columns.addTo(twice, 10, 11), false, 'a key listed twice is refused');
  });
});

describe('embedded store on the key index', () => {
  let root: string;
  let counter = 0;
  const freshDir = (): string => join(root, `k${++counter}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'isartor-key-index-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const style of KEY_STYLES) it(`after a compaction, every key points at its moved record, in the LRU order gets gave it, and later writes reuse freed slots (${style.name})`, async () => {
    const dir = freshDir();
    const limits = { maxEntries: 1000, ttlSeconds: 0 };
    const store = await openEmbeddedStore(dir, limits, { compactMinBytes: 1 << 30 });
    const model = new Map<string, Buffer>();
    const put = async (key: string, value: Buffer): Promise<void> => {
      await store.set(key, value);
      model.delete(key);
      model.set(key, value);
    };
    for (let i = 0; i < 300; i++) await put(style.key(`k${i}`), Buffer.alloc(100 + i, i));
    for (let i = 0; i < 300; i += 3) {
      await store.delete(style.key(`k${i}`));
      model.delete(style.key(`k${i}`));
    }
    for (let i = 1; i < 300; i += 5) await put(style.key(`k${i}`), Buffer.alloc(50, 255 - (i % 200)));
    // Reads reorder the LRU: read a few, oldest first, so they become the most recent.
    for (const key of ['k2', 'k4', 'k7'].map(style.key)) {
      assert.deepEqual(await store.get(key), model.get(key));
      const value = model.get(key)!;
      model.delete(key);
      model.set(key, value);
    }
    await store.compact();
    const order = async (): Promise<string[]> => {
      const keys: string[] = [];
      for await (const key of store.keys()) keys.push(key);
      return keys;
    };
    assert.deepEqual(await order(), [...model.keys()]);
    for (const [key, value] of model) assert.deepEqual(await store.get(key), value, key);
    // The gets above touched every key in model order: the order is unchanged.
    assert.deepEqual(await order(), [...model.keys()]);
    // New keys take the slots the deletes freed; nothing they overwrite may show through.
    for (let i = 0; i < 150; i++) await put(style.key(`n${i}`), Buffer.alloc(70, i));
    for (const [key, value] of model) assert.deepEqual(await store.get(key), value, key);
    await store.close();
    const reopened = await openEmbeddedStore(dir, limits);
    assert.equal(reopened.opened.from, 'snapshot');
    assert.equal(reopened.size(), model.size);
    for (const [key, value] of model) assert.deepEqual(await reopened.get(key), value, key);
    await reopened.close();
  });

  for (const style of KEY_STYLES) it(`opened from a snapshot, takes writes past the snapshot’s columns and evicts in LRU order (${style.name})`, async () => {
    const dir = freshDir();
    const limits = { maxEntries: 400, ttlSeconds: 0 };
    let store = await openEmbeddedStore(dir, limits);
    for (let i = 0; i < 400; i++) await store.set(style.key(`k${i}`), Buffer.from(`v${i}`));
    await store.close();
    store = await openEmbeddedStore(dir, limits);
    assert.equal(store.opened.from, 'snapshot');
    assert.deepEqual(await store.get(style.key('k0')), Buffer.from('v0'));
    // 1,500 new keys through 400 slots: each write evicts the least recently used other key.
    for (let i = 0; i < 1500; i++) await store.set(style.key(`n${i}`), Buffer.from(`w${i}`));
    assert.equal(store.size(), 400);
    assert.equal(await store.get(style.key('k0')), undefined);
    for (let i = 1100; i < 1500; i++) assert.deepEqual(await store.get(style.key(`n${i}`)), Buffer.from(`w${i}`), style.key(`n${i}`));
    await store.close();
  });
});
