import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256OfFile } from '../../../src/core/semantic/fileHash';
import { tempDir } from './helpers';

test('sha256OfFile hashes every byte of the file, whatever its size against the read buffer', async () => {
  const { dir, cleanup } = await tempDir('file-hash');
  try {
    const readBytes = 1024;
    for (const size of [0, 1, readBytes - 1, readBytes, readBytes + 1, 3 * readBytes + 7]) {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}`);
      await writeFile(path, bytes);
      assert.equal(await sha256OfFile(path, readBytes), createHash('sha256').update(bytes).digest('hex'), `size ${size}`);
    }
    await assert.rejects(sha256OfFile(join(dir, 'missing')), { code: 'ENOENT' });
  } finally {
    await cleanup();
  }
});
