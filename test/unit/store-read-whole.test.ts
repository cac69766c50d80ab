/**
 * readWhole (src/core/store/readWhole.ts) returns what readFile returns, in fewer reads.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readWhole } from '../../src/core/store/readWhole';

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
