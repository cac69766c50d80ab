// Before the embedded store has read its index snapshot into memory, gets are looked up in the
// snapshot's file (store/snapshotScan.ts). The file must pass every check first, and a snapshot
// that is wrong in a way the checks miss must still never give a wrong answer: each answer is a
// record of the log that decodes, checks out and carries the key asked for.
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { readSnapshotColumns } from '../../src/core/store/indexSnapshot';
import { SnapshotScan } from '../../src/core/store/snapshotScan';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `s${++counter}`);
/** Keys of ~70 bytes: 6,000 of them are ~420 KB, more than three of the scan's 128 KiB reads. */
const COUNT = 6_000;
const limits = { maxEntries: 100_000, ttlSeconds: 0 };
const keyOf = (i: number): string => `sha256:${String(i).padStart(6, '0')}${'0123456789abcdef'.repeat(4)}`;
const valueOf = (i: number): Buffer => Buffer.from(`answer ${i}`);

/** A closed store of COUNT entries (so with a snapshot covering all of them). */
async function filledStore(keys: (i: number) => string = keyOf): Promise<string> {
  const dir = freshDir();
  const store = await openEmbeddedStore(dir, limits);
  for (let from = 0; from < COUNT; from += 1000) await Promise.all(Array.from({ length: 1000 }, (_, i) => store.set(keys(from + i), valueOf(from + i))));
  await store.close();
  return dir;
}

async function scanOf(dir: string): Promise<SnapshotScan | undefined> {
  const log = await open(join(dir, 'store.log'), 'r');
  try {
    return await SnapshotScan.open(join(dir, 'store.index'), log, (await log.stat()).size);
  } finally {
    await log.close();
  }
}

/** Rewrites the snapshot's checksum after an edit, as damage the checksum misses (or a crafted file) would leave it. */
async function editSnapshot(dir: string, edit: (bytes: Buffer) => void): Promise<void> {
  const path = join(dir, 'store.index');
  const bytes = await readFile(path);
  edit(bytes);
  bytes.writeUInt32LE(crc32(bytes.subarray(12)), 8);
  await writeFile(path, bytes);
}

/** Asks for every key at the open, before the snapshot is in memory; each answer must be the right value or a miss. */
async function assertNeverWrong(dir: string): Promise<{ right: number; missed: number }> {
  const store = await openEmbeddedStore(dir, limits, { loadInBackground: true });
  const answers = await Promise.all(Array.from({ length: COUNT }, (_, i) => store.get(keyOf(i))));
  let right = 0;
  let missed = 0;
  answers.forEach((answer, i) => {
    if (answer === undefined) missed++;
    else {
      assert.deepEqual(answer, valueOf(i), `key ${i} got another key's answer`);
      right++;
    }
  });
  await store.loaded;
  await store.close();
  return { right, missed };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-snapshot-scan-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('snapshot scan: looking keys up in the snapshot file', () => {
  it('finds every key with the entry the in-memory snapshot has, across read boundaries', async () => {
    const dir = await filledStore();
    const scan = await scanOf(dir);
    assert.ok(scan, 'a good snapshot is accepted');
    const columns = readSnapshotColumns(await readFile(join(dir, 'store.index')))!;
    assert.equal(scan.count, COUNT);
    for (let i = 0; i < COUNT; i++) assert.deepEqual(scan.find(keyOf(i)), columns.entryAt(columns.find(keyOf(i))), keyOf(i));
    scan.close();
  });

  it('finds nothing for a missing key, part of a key, two keys run together, or a non-ASCII key', async () => {
    const dir = await filledStore();
    const scan = (await scanOf(dir))!;
    const tail = keyOf(7).slice(-20);
    for (const text of ['absent', keyOf(7).slice(0, 30), tail, keyOf(7) + keyOf(8), `${tail}${keyOf(8).slice(0, 10)}`, 'Ł', '', 'sha256:é']) assert.equal(scan.find(text), null, text);
    scan.close();
  });

  it('answers before its checksum has run, and the checksum then tells a good file from a flipped byte', async () => {
    const good = await filledStore();
    const columns = readSnapshotColumns(await readFile(join(good, 'store.index')))!;
    const log = await open(join(good, 'store.log'), 'r');
    const scan = (await SnapshotScan.open(join(good, 'store.index'), log, (await log.stat()).size))!;
    let checked = false;
    void scan.verified.then(() => (checked = true));
    // What a get does right after the open: no turn of the event loop has passed, so no checksum step.
    assert.deepEqual(scan.find(keyOf(5)), columns.entryAt(columns.find(keyOf(5))));
    await Promise.resolve();
    assert.equal(checked, false, 'open() returns before the checksum pass');
    assert.equal(await scan.verified, true);
    scan.close();
    await log.close();

    const flipped = await filledStore();
    const path = join(flipped, 'store.index');
    const bytes = await readFile(path);
    bytes[bytes.length - 100]! ^= 1;
    await writeFile(path, bytes);
    const damaged = (await scanOf(flipped))!;
    assert.equal(await damaged.verified, false);
    damaged.close();
  });

  it('refuses at once a snapshot with a non-ASCII key, one whose key lengths do not add up, and none at all', async () => {
    const accented = await filledStore((i) => (i === 10 ? 'clé' : keyOf(i)));
    assert.equal(await scanOf(accented), undefined);
    const short = await filledStore();
    await editSnapshot(short, (bytes) => bytes.writeUInt16LE(bytes.readUInt16LE(32) - 1, 32));
    assert.equal(await scanOf(short), undefined);
    const none = await filledStore();
    await rm(join(none, 'store.index'));
    assert.equal(await scanOf(none), undefined);
  });

  it('a closed scan stops its checksum pass', async () => {
    const dir = await filledStore();
    const log = await open(join(dir, 'store.log'), 'r');
    const scan = (await SnapshotScan.open(join(dir, 'store.index'), log, (await log.stat()).size))!;
    scan.close();
    assert.equal(await scan.verified, false);
    await log.close();
  });
});

describe('embedded store: a damaged snapshot never gives a wrong answer while the store loads', () => {
  it('a flipped byte: the snapshot is refused, every get is answered right after a scan of the log', async () => {
    const dir = await filledStore();
    const path = join(dir, 'store.index');
    const bytes = await readFile(path);
    bytes[bytes.length - 1000]! ^= 0x20;
    await writeFile(path, bytes);
    assert.deepEqual(await assertNeverWrong(dir), { right: COUNT, missed: 0 });
  });

  it('a key the damaged snapshot lost is not a miss while its checksum runs: it waits, then comes from the log', async () => {
    const dir = await filledStore();
    const path = join(dir, 'store.index');
    const bytes = await readFile(path);
    // Key 3 is among the scan's first lookups (assertNeverWrong asks in order); one character of it changes.
    const at = bytes.indexOf(keyOf(3), 0, 'latin1');
    assert.ok(at > 0);
    bytes[at + keyOf(3).length - 1] = bytes[at + keyOf(3).length - 1] === 0x66 ? 0x65 : 0x66;
    await writeFile(path, bytes);
    assert.deepEqual(await assertNeverWrong(dir), { right: COUNT, missed: 0 });
  });

  it('two entries swapped with the checksum fixed: those two keys miss, every other get is right', async () => {
    const dir = await filledStore();
    // Entries 1 and 2 are not among the sampled ones (every COUNT/16th): the checks pass.
    await editSnapshot(dir, (bytes) => {
      const count = bytes.readUInt32LE(28);
      const offsets = 32 + 2 * count;
      const first = bytes.readDoubleLE(offsets + 8);
      bytes.writeDoubleLE(bytes.readDoubleLE(offsets + 16), offsets + 8);
      bytes.writeDoubleLE(first, offsets + 16);
    });
    const columns = readSnapshotColumns(await readFile(join(dir, 'store.index')))!;
    const swapped = [columns.keyAt(1), columns.keyAt(2)];
    const result = await assertNeverWrong(dir);
    assert.equal(result.missed, 2, `only ${swapped.join(' and ')} miss`);
    assert.equal(result.right, COUNT - 2);
  });

  it('many gets at the open: the scan answers its share, the rest wait for the snapshot in memory, all right', async () => {
    const dir = await filledStore();
    const store = await openEmbeddedStore(dir, limits, { loadInBackground: true });
    const asked = Array.from({ length: 200 }, (_, i) => i * 7);
    const answers = await Promise.all(asked.map((i) => store.get(keyOf(i))));
    answers.forEach((answer, n) => assert.deepEqual(answer, valueOf(asked[n]!)));
    await store.close();
  });
});
