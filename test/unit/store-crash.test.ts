// kill -9 a child process in the middle of writing to the embedded store, reopen, and check every acknowledged entry.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, it } from 'node:test';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import { KEY_POOL, keyFor, valueFor } from './fixtures/storeWriterChild';

const repoRoot = resolve(__dirname, '../..');
const childPath = join(__dirname, 'fixtures', 'storeWriterChild.ts');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-crash-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs the writer from operation `start`, kills it with SIGKILL once it has acknowledged `killAfter`
 * writes (it keeps writing meanwhile, so the kill lands at an arbitrary point of a write or a
 * compaction), and returns every acknowledged operation index.
 */
async function writeUntilKilled(start: number, killAfter: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dir, String(start)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const acknowledged: number[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') continue;
    acknowledged.push(Number(line));
    if (acknowledged.length === killAfter) child.kill('SIGKILL');
  }
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `writer ended on its own (code ${String(code)}): ${stderr}`);
  return acknowledged;
}

it('keeps every acknowledged entry intact after kill -9 mid-write, over several crashes', async () => {
  const newestAcked = new Map<string, number>();
  const openedFrom: string[] = [];
  let start = 0;
  for (let round = 0; round < 3; round++) {
    // Random kill points: mostly inside the first pass over the keys, sometimes deep into overwrites and compaction.
    const killAfter = 50 + Math.floor(Math.random() * 1500);
    const acknowledged = await writeUntilKilled(start, killAfter);
    assert.ok(acknowledged.length >= killAfter);
    for (const i of acknowledged) {
      const key = keyFor(i);
      newestAcked.set(key, Math.max(newestAcked.get(key) ?? -1, i));
    }
    // Ops numbered past every acknowledged and every stored one are new to the next round.
    let newestWritten = Math.max(...acknowledged);

    const store = await openEmbeddedStore(dir, { maxEntries: 10_000, ttlSeconds: 0 });
    openedFrom.push(store.opened.from);
    for (const [key, acked] of newestAcked) {
      const stored = await store.get(key);
      assert.ok(stored, `acknowledged entry ${key} (op ${acked}) is missing after crash ${round + 1}`);
      const op = Number(stored.subarray(0, stored.indexOf(':')).toString());
      // A later op than the newest acknowledged one is fine: it reached the disk just before the kill.
      assert.ok(op >= acked, `${key} holds op ${op}, expected ${acked} or a later write`);
      assert.equal(keyFor(op), key);
      assert.ok(stored.equals(valueFor(op)), `${key} (op ${op}) is not byte-for-byte what was written`);
      newestAcked.set(key, op);
    }
    // Entries written but not acknowledged before the kill may exist; if they do they must be whole.
    for await (const key of store.keys()) {
      if (key.startsWith('after-')) continue;
      const stored = (await store.get(key))!;
      const op = Number(stored.subarray(0, stored.indexOf(':')).toString());
      assert.ok(stored.equals(valueFor(op)) && keyFor(op) === key, `${key} is corrupt`);
      newestWritten = Math.max(newestWritten, op);
    }
    assert.ok(store.size() <= KEY_POOL + round);
    // The recovered store keeps working: a write and a read after recovery.
    await store.set(`after-${round}`, Buffer.from(`round ${round}`));
    assert.deepEqual(await store.get(`after-${round}`), Buffer.from(`round ${round}`));
    await store.close();
    start = newestWritten + 1;
  }
  // The writer snapshots its index every 48 KB, so recovery normally starts from a snapshot and
  // replays the tail (a kill between a compaction's rename and its new snapshot forces a scan).
  assert.ok(openedFrom.includes('snapshot'), `every recovery scanned the whole log: ${openedFrom.join(', ')}`);
  const reopened = await openEmbeddedStore(dir, { maxEntries: 10_000, ttlSeconds: 0 });
  for (let round = 0; round < 3; round++) assert.deepEqual(await reopened.get(`after-${round}`), Buffer.from(`round ${round}`));
  await reopened.close();
});
