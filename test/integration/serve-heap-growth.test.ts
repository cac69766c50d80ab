/**
 * The built `isartor serve` caps how far V8 lets its old generation grow past the live heap
 * (src/cli/heapGrowth.ts), a few seconds after start. V8 prints the factor of every new limit with
 * --trace-gc-verbose; a heap snapshot, asked for by signal, forces the full collection that sets one.
 * Its L1b worker frees what its open left behind with one full collection (src/core/semantic/openGarbage.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { HEAP_GROWTH_DELAY_MS } from '../../src/cli/heapGrowth';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
const READY = /^isartor listening on http:/;
const LIMIT = /\[HeapController\] Limit: .*\(([\d.]+)\)$/;
const SNAPSHOT_GC = /Mark-Compact.* heap profiler;/;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-heap-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** serve's environment for these tests: debug logs, and none of the user's keys, ports, dirs or node options. */
function debugServeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ISARTOR_LOG_LEVEL: 'debug' };
  for (const key of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'NODE_OPTIONS']) delete env[key];
  return env;
}

/**
 * Starts serve with `nodeFlags` and forces a full collection once start-up is over: at serve's
 * debug line saying it set the factor, or (`afterDelay`, when the user's flag keeps serve from
 * setting one) a second after serve would have. Returns the factor V8 printed for the new limit.
 */
async function growthFactorOfServe(name: string, nodeFlags: string[], afterDelay = false): Promise<string> {
  const env = debugServeEnv();
  const child = spawn(process.execPath, ['--trace-gc-verbose', '--heapsnapshot-signal=SIGUSR2', ...nodeFlags, BIN, 'serve', '--port', '0', '--data-dir', join(root, name), '--upstream', 'http://127.0.0.1:9/v1'], {
    cwd: root, // where the snapshot is written
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let snapshotAsked = false;
  const askSnapshot = (): void => {
    if (snapshotAsked) return;
    snapshotAsked = true;
    child.kill('SIGUSR2');
  };
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('heap: old generation limited to 1.3×')) askSnapshot();
  });
  const exited = once(child, 'exit');
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
  let factor: string | undefined;
  let lastFactor: string | undefined;
  let ready = false;
  for await (const line of createInterface({ input: child.stdout })) {
    if (!ready && READY.test(line)) {
      ready = true;
      if (afterDelay) setTimeout(askSnapshot, HEAP_GROWTH_DELAY_MS + 1_000);
    } else if (LIMIT.test(line)) {
      lastFactor = LIMIT.exec(line)![1];
    } else if (snapshotAsked && factor === undefined && SNAPSHOT_GC.test(line)) {
      // The limit set by the snapshot's own collection, printed just before its summary line.
      factor = lastFactor;
      child.kill('SIGTERM');
    }
  }
  const [code] = (await exited) as [number | null];
  clearTimeout(guard);
  assert.ok(ready, `serve never got ready: ${stderr}`);
  assert.ok(snapshotAsked, `serve never said it limited its heap: ${stderr}`);
  assert.equal(code, 0, stderr);
  assert.ok(factor, 'V8 set no new heap limit after the snapshot');
  return factor;
}

test('serve grows its old generation by at most 1.3× its live size', { skip: process.platform === 'win32' && 'no SIGUSR2 on Windows' }, async () => {
  assert.equal(await growthFactorOfServe('own', []), '1.3');
});

test('a growth factor the user gives node wins over serve’s', { skip: process.platform === 'win32' && 'no SIGUSR2 on Windows' }, async () => {
  assert.equal(await growthFactorOfServe('user', ['--heap-growing-percent=50'], true), '1.5');
});

const OPEN_COLLECTED = /L1b worker: heap after the open ([\d.]+) MB, ([\d.]+) MB after a full collection \((\d+) ms\), ([\d.]+) MB committed/;
const SECOND_COLLECTED = /L1b worker: ([\d.]+) MB committed after a second collection \((\d+) ms\)/;

test('serve’s L1b worker runs a full collection after its open, and a second one that gives back the freed pages', async () => {
  const env = debugServeEnv();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(root, 'open-gc'), '--upstream', 'http://127.0.0.1:9/v1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
  // An empty cache starts its worker on first use: one request starts it (its upstream is closed).
  for await (const line of createInterface({ input: child.stdout })) {
    const url = /^isartor listening on (http:\S+)/.exec(line)?.[1];
    if (!url) continue;
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    void fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body }).then((response) => response.arrayBuffer(), () => undefined);
    break;
  }
  let stderr = '';
  let found: RegExpExecArray | null = null;
  let second: RegExpExecArray | null = null;
  for await (const line of createInterface({ input: child.stderr })) {
    stderr += `${line}\n`;
    found ??= OPEN_COLLECTED.exec(line);
    second ??= SECOND_COLLECTED.exec(line);
    if (found && second) {
      child.kill('SIGTERM');
      break;
    }
  }
  const [code] = (await exited) as [number | null];
  clearTimeout(guard);
  assert.ok(found, `no collection after the open: ${stderr}`);
  assert.ok(Number(found[2]) <= Number(found[1]), found[0]);
  assert.ok(second, `no second collection: ${stderr}`);
  assert.ok(Number(second[1]) <= Number(found[4]), `committed ${found[4]} MB after the first, ${second[1]} MB after the second`);
  assert.equal(code, 0, stderr);
});
