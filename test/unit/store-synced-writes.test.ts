// Issue 15: the embedded store's log is written with O_DSYNC where the platform has it, so an
// acknowledged write is durable after one call to the thread pool instead of a write and an
// fdatasync. Checked from the kernel's own view of the open file (/proc/self/fdinfo), after the
// first open, after creating the log, and after a compaction reopens it.
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { LOG_WRITES_SYNCED } from '../../src/core/store/logFile';

/** The open flags of every descriptor of this process on `path`. */
async function flagsOf(path: string): Promise<number[]> {
  const flags: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const match = /^flags:\s+([0-7]+)/m.exec(info);
    if (match) flags.push(parseInt(match[1]!, 8));
  }
  return flags;
}

it('writes the store log with O_DSYNC (Linux), through creation, reopening and compaction', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  assert.equal(LOG_WRITES_SYNCED, true);
  const dir = await mkdtemp(join(tmpdir(), 'isartor-dsync-'));
  try {
    const open = () => openEmbeddedStore(dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'dsync' });
    let store = await open();
    const log = join(dir, (await readdir(dir)).find((name) => name.endsWith('.log'))!);
    const synced = async (when: string): Promise<void> => {
      const flags = await flagsOf(log);
      assert.ok(flags.length > 0, `${when}: the log is open`);
      for (const flag of flags) assert.ok((flag & constants.O_DSYNC) !== 0, `${when}: flags ${flag.toString(8)} lack O_DSYNC`);
    };
    await synced('created');
    for (let i = 0; i < 50; i++) await store.set(`k${i % 5}`, Buffer.alloc(200, i));
    await synced('after writes');
    await store.compact();
    await synced('after a compaction');
    assert.deepEqual(await store.get('k3'), Buffer.alloc(200, 48));
    await store.close();
    store = await open();
    await synced('reopened');
    assert.deepEqual(await store.get('k4'), Buffer.alloc(200, 49));
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
