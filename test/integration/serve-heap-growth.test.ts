/**
 * The built `isartor serve` caps how far V8 lets its old generation grow past the live heap
 * (src/cli/heapGrowth.ts). V8 prints the factor of every new limit with --trace-gc-verbose; a
 * heap snapshot, asked for by signal, forces the full collection that sets one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
const READY = /^isartor listening on http:/;
const LIMIT = /\[HeapController\] Limit: .*\(([\d.]+)\)$/;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-heap-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts serve with `nodeFlags`, forces a full collection once it is ready, and returns the factor V8 printed. */
async function growthFactorOfServe(name: string, nodeFlags: string[]): Promise<string> {
  const env = { ...process.env };
  for (const key of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'NODE_OPTIONS']) delete env[key];
  const child = spawn(process.execPath, ['--trace-gc-verbose', '--heapsnapshot-signal=SIGUSR2', ...nodeFlags, BIN, 'serve', '--port', '0', '--data-dir', join(root, name), '--upstream', 'http://127.0.0.1:9/v1'], {
    cwd: root, // where the snapshot is written
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let factor: string | undefined;
  let ready = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (!ready && READY.test(line)) {
      ready = true;
      child.kill('SIGUSR2');
    } else if (ready && factor === undefined && LIMIT.test(line)) {
      factor = LIMIT.exec(line)![1];
      child.kill('SIGTERM');
    }
  }
  const [code] = (await exited) as [number | null];
  clearTimeout(guard);
  assert.ok(ready, `serve never got ready: ${stderr}`);
  assert.equal(code, 0, stderr);
  assert.ok(factor, 'V8 set no new heap limit after the snapshot');
  return factor;
}

test('serve grows its old generation by at most 1.3× its live size', { skip: process.platform === 'win32' && 'no SIGUSR2 on Windows' }, async () => {
  assert.equal(await growthFactorOfServe('own', []), '1.3');
});

test('a growth factor the user gives node wins over serve’s', { skip: process.platform === 'win32' && 'no SIGUSR2 on Windows' }, async () => {
  assert.equal(await growthFactorOfServe('user', ['--heap-growing-percent=50']), '1.5');
});
