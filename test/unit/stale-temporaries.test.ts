// A kill -9 mid-save leaves temporaries named after the dead process (vectors.f32.<pid>.tmp, lock
// drafts); opening a store or loading a snapshot removes them, and never a live process's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { VectorJournal } from '../../src/core/semantic/journal';
import { openEmbeddedStore } from '../../src/core/store/embedded';

let root: string;
/** The pid of a process that has exited. */
let deadPid: number;
/** A live process other than this one. */
const livePid = process.ppid;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-stale-'));
  deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

it('opening a store removes a dead writer\'s snapshot draft, lock draft and compaction draft', async () => {
  const dir = join(root, 'store');
  await mkdir(dir);
  const dead = [`exact.idx.${deadPid}.tmp`, `exact.log.lock.${deadPid}.0badc0de`, 'exact.log.compact'];
  const live = [`exact.idx.${livePid}.tmp`, 'notes.txt'];
  for (const name of [...dead, ...live]) await writeFile(join(dir, name), 'x');
  const store = await openEmbeddedStore(dir, { maxEntries: 10, ttlSeconds: 0 }, { name: 'exact' });
  const names = await readdir(dir);
  await store.close();
  for (const name of dead) assert.ok(!names.includes(name), `${name} is still there`);
  for (const name of live) assert.ok(names.includes(name), `${name} was removed`);
});

it('loading a snapshot removes vectors.f32.<pid>.tmp of a process killed mid-save', async () => {
  const dir = join(root, 'snapshot');
  await mkdir(dir);
  await writeFile(join(dir, `vectors.f32.${deadPid}.tmp`), Buffer.alloc(1024));
  await writeFile(join(dir, `vectors.f32.${livePid}.tmp`), Buffer.alloc(16));
  await VectorJournal.open(dir, 'lexical', 4);
  assert.deepEqual(await readdir(dir), [`vectors.f32.${livePid}.tmp`]);
});
