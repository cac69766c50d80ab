// Reading a log back must leave the event loop free (the extension host shares it): a window of
// tiny records is hundreds of thousands of decodes, which once ran in one turn.
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanLog } from '../../src/core/store/logScan';
import { encodeRecord, LOG_MAGIC, RecordOp } from '../../src/core/store/recordLog';
import { watchLoop } from './blockedMs';
import { tempDir } from './semantic/helpers';

test('a log of 300,000 tiny records is scanned in turns of the event loop', async () => {
  const { dir, cleanup } = await tempDir('store-scan-yields');
  try {
    const records = Array.from({ length: 300_000 }, (_, i) => encodeRecord(RecordOp.Set, `k${i}`, 1_700_000_000_000, Buffer.from('x')));
    const path = join(dir, 'tiny.log');
    const file = await open(path, 'w+');
    try {
      const bytes = Buffer.concat([LOG_MAGIC, ...records]);
      await file.write(bytes, 0, bytes.length, 0);
      let count = 0;
      const stopWatching = watchLoop();
      const { goodEnd } = await scanLog(file, bytes.length, () => count++);
      const blocked = stopWatching();
      assert.equal(count, records.length);
      assert.equal(goodEnd, bytes.length);
      assert.ok(blocked < 50, `the scan blocked the event loop ${blocked.toFixed(1)} ms`);
    } finally {
      await file.close();
    }
  } finally {
    await cleanup();
  }
});
