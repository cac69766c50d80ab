/**
 * A restart on a full disk (issue 11): `isartor serve` starts read-only with a clear warning,
 * forwards requests, stores nothing, and leaves no empty lock file behind. The disk is a real
 * full file system: a small tmpfs (the test mounts it, so it runs as root, as CI does here).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let fake: FakeUpstream;
let mountPoint: string;
let dataDir: string;

before(async () => {
  fake = await startFakeUpstream();
  mountPoint = await mkdtemp(join(tmpdir(), 'isartor-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
  dataDir = join(mountPoint, 'data');
});
after(async () => {
  await fake.close();
  execFileSync('umount', [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});

function serve(): { child: ChildProcess; ready: Promise<string>; stderr: () => string } {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[name];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`isartor exited with ${code} before it was ready:\n${stderr}`);
  });
  const ready = Promise.race([once(lines, 'line').then(([line]) => /(http:\/\/127\.0\.0\.1:\d+)/.exec(line as string)![1]!), exited]);
  return { child, ready, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  return code as number | null;
}

/** Writes zeros until the file system refuses. */
async function fillDisk(path: string): Promise<void> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    await file.close();
  }
}

async function filesUnder(dir: string): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push({ path: join(entry.parentPath, entry.name), size: (await stat(join(entry.parentPath, entry.name))).size });
  }
  return out;
}

test('restart on a full disk: read-only with a warning, forwards, stores nothing, no empty lock left', async () => {
  // A first life writes the stores and the ledger as usual.
  const first = serve();
  const firstUrl = await first.ready;
  const client = (url: string): OpenAI => new OpenAI({ apiKey: 'sk-full-disk-0001', baseURL: `${url}/v1`, maxRetries: 0 });
  await client(firstUrl).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'before the disk filled up' }] });
  assert.equal(await stop(first.child), 0, first.stderr());
  const before = await filesUnder(dataDir);

  await fillDisk(join(mountPoint, 'filler'));
  const second = serve();
  const url = await second.ready;
  try {
    assert.match(second.stderr(), /no space left \(ENOSPC\): serving read-only/);
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'while the disk is full' }] };
    const one = await client(url).chat.completions.create(request).withResponse();
    const two = await client(url).chat.completions.create(request).withResponse();
    assert.equal(one.response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(two.response.headers.get('x-isartor-layer'), 'l3', 'nothing was cached');
    assert.equal(fake.requests.length, 3);
  } finally {
    assert.equal(await stop(second.child), 0, second.stderr());
  }
  const after = await filesUnder(dataDir);
  assert.deepEqual(after.filter((file) => file.size === 0), [], 'no empty file left behind');
  assert.deepEqual(after.map((file) => file.path).sort(), before.map((file) => file.path).sort(), 'no file added or removed');
});
