/**
 * readWhole (src/core/store/readWhole.ts) returns what readFile returns, in fewer reads, and on Linux
 * into a reservation whose free leaves glibc's mmap threshold alone (issue 15).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCapacity, readWhole } from '../../src/core/store/readWhole';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-read-whole-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('files of 0 bytes, a few bytes and several 512 KiB steps come back byte for byte', async () => {
  for (const size of [0, 7, 512 * 1024, 3 * 512 * 1024 + 123]) {
    const path = join(dir, `f${size}`);
    await writeFile(path, randomBytes(size));
    const bytes = await readWhole(path);
    assert.equal(bytes.length, size);
    assert.ok(bytes.equals(await readFile(path)), `${size} bytes`);
  }
});

test('a missing file rejects with ENOENT, as readFile does', async () => {
  await assert.rejects(readWhole(join(dir, 'missing')), { code: 'ENOENT' });
});

test('on Linux, a file between 128 KiB and 33 MiB is read into a reservation past glibc\'s 32 MiB dynamic threshold; elsewhere, its own size', () => {
  const MiB = 1024 * 1024;
  for (const size of [128 * 1024, 8_600_032, 12_300_032, 33 * MiB - 1]) assert.ok(readCapacity(size, 'linux') > 32 * MiB, `${size}`);
  for (const size of [0, 100, 128 * 1024 - 1, 33 * MiB, 40 * MiB]) assert.equal(readCapacity(size, 'linux'), size);
  for (const platform of ['darwin', 'win32'] as const) assert.equal(readCapacity(8_600_032, platform), 8_600_032);
});

test('a file read into the reservation is its own bytes, not a multiple of anything, and no more', async () => {
  const size = 8 * 1024 * 1024 + 4093;
  const path = join(dir, 'snapshot-sized');
  await writeFile(path, randomBytes(size));
  const bytes = await readWhole(path);
  assert.equal(bytes.length, size);
  assert.ok(bytes.equals(await readFile(path)));
  if (process.platform === 'linux') assert.ok(bytes.buffer.byteLength > 32 * 1024 * 1024);
});
