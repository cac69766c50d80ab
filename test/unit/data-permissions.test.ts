// The data dir holds prompts and answers: a data dir Isartor creates and every folder and file it
// writes in it are private to the user (700 / 600), whatever the umask. An existing folder the user
// chose as the data dir keeps its own mode (it may be /tmp).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { defaultConfig } from '../../src/core/config';
import { createEngine } from '../../src/core/engine';
import { silentLogger } from '../../src/core/logger';
import { saveGraphs } from '../../src/core/semantic/snapshot';
import { VectorIndex } from '../../src/core/semantic/index';

let root: string;
let umask: number;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-perms-'));
  umask = process.umask(0o022); // the usual default, which makes 755 folders and 644 files
});
after(async () => {
  process.umask(umask);
  await rm(root, { recursive: true, force: true });
});

/** Every path under `dir` with its permission bits. */
async function modes(dir: string): Promise<Array<[string, number, boolean]>> {
  const out: Array<[string, number, boolean]> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    // A draft may be renamed between the listing and the stat (background saves): skip it.
    const info = await stat(path).catch(() => undefined);
    if (info) out.push([path, info.mode & 0o777, entry.isDirectory()]);
  }
  return out;
}

it('engine data dir, stores, locks, ledger and snapshots: folders 700, files 600', async () => {
  const dataDir = join(root, 'fresh', 'data');
  const config = defaultConfig(dataDir);
  config.local.enabled = false;
  const engine = await createEngine(config, { logger: silentLogger });
  const index = new VectorIndex({ dimensions: 4 });
  index.add('partition', 'key', new Float32Array([1, 0, 0, 0]));
  await saveGraphs(join(dataDir, 'snapshot-test'), 'test-embedder', index);
  const open = await modes(dataDir);
  await engine.close();
  const closed = await modes(dataDir);
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  assert.ok(closed.some(([, , isDir]) => !isDir), 'the engine wrote files');
  for (const [path, mode, isDir] of [...open, ...closed]) assert.equal(mode, isDir ? 0o700 : 0o600, `${path} is ${mode.toString(8)}`);
});

it('an existing folder chosen as the data dir keeps its mode; Isartor\'s own folders in it are tightened', async () => {
  // A shared folder such as /tmp (sticky, world-writable): chmod-ing it to 700 broke it for everyone.
  const dataDir = join(root, 'shared');
  await mkdir(dataDir);
  await chmod(dataDir, 0o1777);
  // A store folder an older version left at 755.
  await mkdir(join(dataDir, 'exact'));
  await chmod(join(dataDir, 'exact'), 0o755);
  const config = defaultConfig(dataDir);
  config.local.enabled = false;
  const engine = await createEngine(config, { logger: silentLogger });
  await engine.close();
  assert.equal((await stat(dataDir)).mode & 0o7777, 0o1777);
  for (const [path, mode, isDir] of await modes(dataDir)) assert.equal(mode, isDir ? 0o700 : 0o600, `${path} is ${mode.toString(8)}`);
});
