// The journal's appends: the bytes of each record, and no record lost while a flush is being written.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { it } from 'node:test';
import { VectorJournal } from '../../../src/core/semantic/journal';
import { tempDir } from './helpers';

/** A record as the format says (independently of the journal's encoder): u32 length, u32 crc32, payload. */
function framed(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}
const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const f32s = (values: number[]): Buffer => Buffer.from(Float32Array.from(values).buffer);
const withLength = (text: string): Buffer => Buffer.concat([u16(Buffer.byteLength(text)), Buffer.from(text)]);

it('appends add, sparse add and remove records byte for byte as the format says', async () => {
  const { dir, cleanup } = await tempDir('l1b-journal-bytes');
  try {
    const { journal } = await VectorJournal.open(dir, 'emb', 8);
    await journal.rewrite([]);
    const headerBytes = (await readFile(join(dir, 'vectors.journal'))).length;
    const sparse = Float32Array.from([0, 0.5, 0, 0, -0, 0, 0, 0.25]);
    const dense = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    journal.recordAdd({ key: 'l1b:p:k1', partition: 'p', label: 7n, vector: sparse });
    journal.recordAdd({ key: 'l1b:pé:ключ', partition: 'pé', label: 2n ** 40n, vector: dense });
    journal.recordRemove('l1b:p:k1');
    await journal.flush();
    await journal.close();
    const expected = Buffer.concat([
      framed(Buffer.concat([Buffer.from([3]), withLength('l1b:p:k1'), withLength('p'), u64(7n), u16(3), u16(1), u16(4), u16(7), f32s([0.5, -0, 0.25])])),
      framed(Buffer.concat([Buffer.from([1]), withLength('l1b:pé:ключ'), withLength('pé'), u64(2n ** 40n), Buffer.from(dense.buffer)])),
      framed(Buffer.concat([Buffer.from([2]), withLength('l1b:p:k1')])),
    ]);
    assert.deepEqual((await readFile(join(dir, 'vectors.journal'))).subarray(headerBytes), expected);
  } finally {
    await cleanup();
  }
});

it('keeps the records made while a flush is being written, for the next flush', async () => {
  const { dir, cleanup } = await tempDir('l1b-journal-overlap');
  try {
    const dimensions = 16;
    const vectorOf = (i: number): Float32Array => Float32Array.from({ length: dimensions }, (_, d) => (d === i % dimensions ? 1 + i : 0));
    const { journal } = await VectorJournal.open(dir, 'emb', dimensions);
    await journal.rewrite([]);
    const flushes: Array<Promise<void>> = [];
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let j = 0; j < 1 + (round % 5); j++, next++) journal.recordAdd({ key: `k${next}`, partition: 'p', label: BigInt(next + 1), vector: vectorOf(next) });
      flushes.push(journal.flush());
      // Let the flush start its write (or finish it) before the next records come.
      for (let tick = 0; tick < round % 4; tick++) await Promise.resolve();
      if (round % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(flushes);
    await journal.close();
    const { entries } = await VectorJournal.open(dir, 'emb', dimensions);
    const replayed = [...entries!];
    assert.equal(replayed.length, next);
    replayed.forEach((entry, i) => {
      assert.equal(entry.key, `k${i}`);
      assert.equal(entry.label, BigInt(i + 1));
      assert.deepEqual([...entry.vector], [...vectorOf(i)]);
    });
  } finally {
    await cleanup();
  }
});
