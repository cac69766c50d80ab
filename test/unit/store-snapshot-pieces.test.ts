/**
 * The index snapshot is encoded and saved in pieces of one reused buffer (src/core/store/pieceWriter.ts,
 * issue 15): the file must stay byte for byte what the whole-buffer encoder wrote, whatever the
 * piece size, and still be read back (and refused when damaged) as before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { orderedEntries, type OrderedEntries } from '../../src/core/store/keyIndex';
import { encodeIndexSnapshot, readSnapshotColumns, saveIndexSnapshot, type IndexSnapshot } from '../../src/core/store/indexSnapshot';
import { PieceWriter, type Piece } from '../../src/core/store/pieceWriter';
import { LOG_MAGIC } from '../../src/core/store/recordLog';
import { readWhole } from '../../src/core/store/readWhole';

/** The encoder as it was before pieces (d7f95d9), kept here as the reference. */
function wholeBufferEncode(snapshot: IndexSnapshot & { entries: OrderedEntries }): Buffer {
  const entries = snapshot.entries;
  const count = entries.count;
  const keys = Array.from({ length: count }, (_, i) => entries.keyAt(i)).join('');
  const headerBytes = 8 + 4 + 8 + 4 + 4 + 4;
  const keysStart = headerBytes + count * (2 + 8 + 4 + 8);
  const out = Buffer.allocUnsafe(keysStart + Buffer.byteLength(keys, 'utf8'));
  Buffer.from('ISARIX02', 'latin1').copy(out, 0);
  out.writeDoubleLE(snapshot.logBytes, 12);
  out.writeUInt32LE(snapshot.headCrc >>> 0, 20);
  out.writeUInt32LE(snapshot.tailCrc >>> 0, 24);
  out.writeUInt32LE(count, 28);
  const keyUnits = headerBytes;
  const offset = keyUnits + 2 * count;
  const frameBytes = offset + 8 * count;
  const createdAt = frameBytes + 4 * count;
  for (let i = 0; i < count; i++) {
    out.writeUInt16LE(entries.keyAt(i).length, keyUnits + 2 * i);
    out.writeDoubleLE(entries.offsets[i]!, offset + 8 * i);
    out.writeUInt32LE(entries.frameBytes[i]!, frameBytes + 4 * i);
    out.writeDoubleLE(entries.createdAt[i]!, createdAt + 8 * i);
  }
  out.write(keys, keysStart, 'utf8');
  out.writeUInt32LE(crc32(out.subarray(12)), 8);
  return out;
}

/** Keys of every shape the UTF-8 step must not cut wrongly: ASCII, 2- and 3-byte characters, surrogate pairs, lone surrogates. */
function entriesOf(count: number, seed: number): OrderedEntries {
  const shapes = ['k', 'é', '€', '😀', '\ud800', 'x\udc00y', 'Ω😀€'];
  const keys: string[] = [];
  let state = seed;
  const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < count; i++) {
    let key = `${i}:`;
    const parts = 1 + Math.floor(random() * 40);
    for (let p = 0; p < parts; p++) key += shapes[Math.floor(random() * shapes.length)];
    keys.push(key);
  }
  return orderedEntries(
    keys,
    Float64Array.from(keys, (_, i) => LOG_MAGIC.length + 300 * i),
    Uint32Array.from(keys, (_, i) => 100 + (i % 200)),
    Float64Array.from(keys, (_, i) => 1_700_000_000_000 + i * 1.5),
  );
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-snapshot-pieces-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('encoding in pieces of any size gives the whole-buffer encoding byte for byte', () => {
  for (const count of [0, 1, 7, 2000]) {
    const snapshot = { logBytes: 300 * count + 1234, headCrc: 0xdeadbeef, tailCrc: 42, entries: entriesOf(count, count + 1) };
    const expected = wholeBufferEncode(snapshot);
    for (const pieceBytes of [32, 33, 37, 64, 1000, 4096, 64 * 1024]) {
      assert.ok(encodeIndexSnapshot(snapshot, pieceBytes).equals(expected), `${count} entries, ${pieceBytes}-byte pieces`);
    }
  }
});

test('ASCII keys whose total is not a multiple of the piece come out whole', () => {
  const keys = Array.from({ length: 5000 }, (_, i) => `key-${i}-${'a'.repeat(i % 97)}`);
  const entries = orderedEntries(keys, new Float64Array(keys.length).fill(8), new Uint32Array(keys.length).fill(20), new Float64Array(keys.length));
  const snapshot = { logBytes: 100, headCrc: 1, tailCrc: 2, entries };
  const expected = wholeBufferEncode(snapshot);
  assert.notEqual(expected.length % (64 * 1024), 0);
  assert.ok(encodeIndexSnapshot(snapshot).equals(expected));
});

test('the piece writer hands out UTF-8 and a running crc32 equal to the whole text, even in 4-byte pieces', () => {
  const text = entriesOf(300, 9).keysText();
  for (const pieceBytes of [4, 5, 7, 64]) {
    const writer = new PieceWriter(3, pieceBytes);
    const parts: Buffer[] = [];
    let length = 0;
    const collect = (pieces: Iterable<Piece>): void => {
      for (const piece of pieces) {
        assert.equal(piece.position, length);
        length += piece.bytes.length;
        assert.ok(piece.bytes.length <= pieceBytes);
        parts.push(Buffer.from(piece.bytes));
      }
    };
    collect(writer.utf8(text));
    collect(writer.end());
    const whole = Buffer.concat(parts);
    assert.ok(whole.equals(Buffer.from(text, 'utf8')), `${pieceBytes}-byte pieces`);
    assert.equal(writer.crc >>> 0, crc32(whole.subarray(3)));
  }
});

test('a value wider than the piece is refused rather than written across two pieces', () => {
  const writer = new PieceWriter(0, 4);
  assert.throws(() => [...writer.values(1, 8, () => undefined)], RangeError);
});

test('saveIndexSnapshot writes, piece by piece, the file the whole-buffer encoder wrote; it reads back, and cut short or flipped it is refused', async () => {
  const entries = entriesOf(3000, 5);
  const logPath = join(dir, 'store.log');
  const logBytes = 300 * entries.count + 5000;
  const log = await open(logPath, 'w+');
  try {
    await log.write(Buffer.concat([LOG_MAGIC, Buffer.alloc(logBytes - LOG_MAGIC.length, 7)]), 0);
    const path = join(dir, 'store.index');
    await saveIndexSnapshot(path, dir, log, logBytes, entries);
    const saved = await readFile(path);
    assert.ok(saved.length > 64 * 1024 && saved.length % (64 * 1024) !== 0);
    const header = { logBytes, headCrc: saved.readUInt32LE(20), tailCrc: saved.readUInt32LE(24) };
    assert.equal(header.headCrc, crc32(Buffer.alloc(4096, 7)));
    assert.ok(saved.equals(wholeBufferEncode({ ...header, entries })));

    const read = await readWhole(path);
    assert.ok(read.equals(saved));
    const columns = readSnapshotColumns(read);
    assert.ok(columns);
    assert.equal(columns.count, entries.count);
    for (const i of [0, 1, 1234, entries.count - 1]) {
      assert.equal(columns.keyAt(i), Buffer.from(entries.keyAt(i), 'utf8').toString('utf8'));
      assert.deepEqual(columns.entryAt(i), { offset: entries.offsets[i], frameBytes: entries.frameBytes[i], createdAt: entries.createdAt[i] });
    }
    assert.equal(readSnapshotColumns(read.subarray(0, read.length - 1)), undefined);
    const flipped = Buffer.from(read);
    flipped[flipped.length - 100]! ^= 1;
    assert.equal(readSnapshotColumns(flipped), undefined);
  } finally {
    await log.close();
  }
});
