// A page zeroed in the middle of the store's log (a power cut with delayed allocation, or the disk)
// costs the records on that page, not every record after it: the open skips the damage and goes on
// at the next record whose checksum holds, and never returns bytes that fail their checksum.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { decodeRecord, LOG_MAGIC, type LogRecord } from '../../src/core/store/recordLog';
import { snapshotPathOf } from '../../src/core/store/snapshotPrefetch';
import { tempDir } from './semantic/helpers';

const PAGE = 4096;

/** A value of `bytes` bytes that says which key it belongs to, and varies in length. */
function valueFor(key: string, bytes: number): Buffer {
  const seed = createHash('sha256').update(key).digest('hex');
  return Buffer.from(`${key}|${seed.repeat(Math.ceil(bytes / seed.length))}`.slice(0, bytes));
}

/** Writes `count` entries to a fresh store in `dir`, closes it and returns every record of its log with its value. */
async function writeStore(dir: string, count: number, valueBytes: (i: number) => number): Promise<{ records: LogRecord[]; values: Map<string, Buffer>; logPath: string }> {
  const store = await openEmbeddedStore(dir, { maxEntries: count * 2, ttlSeconds: 0 }, { valuesAreText: true });
  const values = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 100) {
    const batch: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      const key = `exact:key-${j}`;
      const value = valueFor(key, valueBytes(j));
      values.set(key, value);
      batch.push(store.set(key, value));
    }
    await Promise.all(batch);
  }
  await store.close();
  const logPath = join(dir, 'store.log');
  // No index snapshot: the open reads the log itself (as after a crash, or a snapshot that did not check out).
  await rm(snapshotPathOf(dir, 'store'), { force: true });
  // Where each record sits, read frame after frame from the intact log.
  const log = await readFile(logPath);
  const records: LogRecord[] = [];
  for (let offset = LOG_MAGIC.length; offset < log.length; ) {
    const record = decodeRecord(log.subarray(offset), offset);
    assert.ok(record, `an intact record at ${offset}`);
    records.push(record);
    offset += record.frameBytes;
  }
  assert.equal(records.length, count, 'every write is in the log before the damage');
  return { records, values, logPath };
}

/** Overwrites `bytes` bytes of the log at `offset` with `fill`. */
async function damage(logPath: string, offset: number, bytes: number, fill: number): Promise<void> {
  const file = await open(logPath, 'r+');
  try {
    await file.write(Buffer.alloc(bytes, fill), 0, bytes, offset);
  } finally {
    await file.close();
  }
}

/** Reopens the store; every key either hits with exactly its own value or misses. Returns the keys that hit. */
async function reopenAndRead(dir: string, values: Map<string, Buffer>): Promise<{ hits: Set<string>; openMs: number }> {
  const started = performance.now();
  const store = await openEmbeddedStore(dir, { maxEntries: values.size * 2, ttlSeconds: 0 }, { valuesAreText: true });
  const openMs = performance.now() - started;
  const hits = new Set<string>();
  try {
    for (const [key, value] of values) {
      const stored = await store.get(key);
      if (stored === undefined) continue;
      assert.ok(stored.equals(value), `${key} returned bytes that are not its own value`);
      hits.add(key);
    }
  } finally {
    await store.close();
  }
  return { hits, openMs };
}

const overlaps = (record: LogRecord, from: number, to: number): boolean => record.offset < to && record.offset + record.frameBytes > from;

describe('embedded store: damage in the middle of the log', () => {
  it('keeps every record after a zeroed 4 KiB page; only the records on the page miss', async () => {
    const { dir, cleanup } = await tempDir('store-zero-page');
    try {
      const { records, values, logPath } = await writeStore(dir, 3000, (i) => 40 + ((i * 37) % 700));
      const end = records.at(-1)!.offset + records.at(-1)!.frameBytes;
      const page = Math.floor(end / 2 / PAGE) * PAGE;
      await damage(logPath, page, PAGE, 0);
      const { hits } = await reopenAndRead(dir, values);
      const lost = records.filter((record) => overlaps(record, page, page + PAGE)).map((record) => record.key);
      const kept = records.filter((record) => !overlaps(record, page, page + PAGE)).map((record) => record.key);
      assert.ok(lost.length > 0 && kept.filter((key) => Number(key.split('-')[1]) > Number(lost.at(-1)!.split('-')[1])).length > 1000, 'the page is mid-file');
      for (const key of lost) assert.ok(!hits.has(key), `${key} was on the zeroed page and must miss`);
      const missing = kept.filter((key) => !hits.has(key));
      assert.deepEqual(missing, [], `records off the damaged page must still hit (${missing.length} of ${kept.length} missed)`);
    } finally {
      await cleanup();
    }
  });

  it('skips a zeroed region of megabytes in one linear pass, and a record whose header survived by its length', async () => {
    const { dir, cleanup } = await tempDir('store-zero-region');
    try {
      const { records, values, logPath } = await writeStore(dir, 2500, (i) => 6000 + ((i * 131) % 4000));
      // Damage starting inside a record's payload (its header survives) and running over 8 MiB.
      const middle = records[Math.floor(records.length / 3)]!;
      const from = middle.offset + 100;
      const bytes = 8 * 1024 * 1024;
      await damage(logPath, from, bytes, 0);
      const { hits, openMs } = await reopenAndRead(dir, values);
      const kept = records.filter((record) => !overlaps(record, from, from + bytes));
      assert.deepEqual(
        kept.filter((record) => !hits.has(record.key)).map((record) => record.key),
        [],
        'every record off the damage hits',
      );
      assert.equal(hits.size, kept.length, 'the damaged records miss');
      assert.ok(openMs < 5000, `open took ${openMs.toFixed(0)} ms`);
    } finally {
      await cleanup();
    }
  });

  it('bounds the work on garbage that looks like huge records at every offset, and still returns nothing wrong', async () => {
    const { dir, cleanup } = await tempDir('store-garbage-region');
    try {
      // 0x01 bytes read as a 16 MiB length, a Set op and a key at every offset: without a bound on the
      // checksum work, each of the 64 Ki offsets would cost a 16 MiB checksum.
      const { records, values, logPath } = await writeStore(dir, 2600, () => 8000);
      const from = records[100]!.offset + 50;
      await damage(logPath, from, 64 * 1024, 0x01);
      const { hits, openMs } = await reopenAndRead(dir, values);
      for (const record of records) if (overlaps(record, from, from + 64 * 1024)) assert.ok(!hits.has(record.key), `${record.key} was damaged`);
      assert.ok(hits.size >= 100, 'the records before the damage hit');
      assert.ok(openMs < 10_000, `open took ${openMs.toFixed(0)} ms`);
    } finally {
      await cleanup();
    }
  });
});
