/**
 * The built `isartor serve` changes V8 flags while it runs (src/cli/heapGrowth.ts,
 * src/cli/youngGeneration.ts) and makes its V8 code cache at exit (bin/codeCache.js). V8 rejects a
 * cache made under other flags than the start's, so serve puts its flags back first
 * (src/cli/serveFlags.ts): a start after a long run compiles from the cache that run left, and does
 * not replace it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-code-cache-serve-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs serve until it has changed both of its V8 flags, stops it with SIGTERM and returns its stderr. */
async function runServeThroughItsFlags(): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ISARTOR_LOG_LEVEL: 'debug', XDG_CACHE_HOME: join(root, 'xdg') };
  for (const key of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_CODE_CACHE', 'NODE_OPTIONS']) delete env[key];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(root, 'data'), '--upstream', 'http://127.0.0.1:9/v1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = once(child, 'exit');
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
  let stderr = '';
  for await (const line of createInterface({ input: child.stderr })) {
    stderr += `${line}\n`;
    if (line.includes('heap: old generation limited')) child.kill('SIGTERM');
  }
  const [code] = (await exited) as [number | null];
  clearTimeout(guard);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /heap: young generation held at 16 MB/);
  assert.match(stderr, /heap: old generation limited to 1\.3×/);
  return stderr;
}

/** The one code cache in the test's cache folder: its inode, new whenever the cache is written again. */
async function codeCacheInode(): Promise<bigint> {
  const dir = join(root, 'xdg', 'isartor');
  const caches = (await readdir(dir)).filter((name) => /^code-[0-9a-f]{16}\.cache$/.test(name));
  assert.equal(caches.length, 1, caches.join(', '));
  return (await stat(join(dir, caches[0]!), { bigint: true })).ino;
}

test('a serve that ran past its flag changes leaves a code cache the next start accepts', { skip: process.platform === 'win32' && 'SIGTERM ends a process without its exit handlers on Windows' }, async () => {
  await runServeThroughItsFlags();
  const made = await codeCacheInode();
  await runServeThroughItsFlags();
  // A rejected cache is written again at exit (through a new file renamed into place).
  assert.equal(await codeCacheInode(), made, 'the second start rejected the first one\'s code cache and wrote another');
});
