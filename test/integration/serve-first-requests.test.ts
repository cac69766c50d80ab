/**
 * The built CLI loads express (the side app) and undici (the upstream pool) on first use, not at
 * start-up (src/proxy/sideApp.ts, src/core/upstream/undici.ts). Each test starts a fresh
 * `isartor serve` and sends one kind of request first: each must be answered as it was when
 * everything loaded before the ready line.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let fake: FakeUpstream;
let root: string;

before(async () => {
  fake = await startFakeUpstream();
  root = await mkdtemp(join(tmpdir(), 'isartor-first-'));
});
after(async () => {
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

/** Starts serve on a data dir of its own; resolves with its URL once the ready line is out. */
async function serve(name: string): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const env = { ...process.env };
  for (const key of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[key];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(root, name), '--upstream', fake.openaiBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`serve exited with ${code} before it was ready: ${stderr}`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  const url = /^isartor listening on (http:\S+) /.exec(line)?.[1];
  assert.ok(url, line);
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, stderr);
    },
  };
}

/** Headers but the date, in the order and spelling they were sent. */
const headersOf = (response: Response): Array<[string, string]> => [...response.headers].filter(([name]) => name !== 'date');

test('/healthz first, answered as the express route answers it (GET and HEAD)', async () => {
  const proxy = await serve('healthz');
  try {
    const [fast, head] = await Promise.all([fetch(`${proxy.url}/healthz`), fetch(`${proxy.url}/healthz?probe=1`, { method: 'HEAD' })]);
    // "/healthz/" is not on the fast path: express's own route answers it.
    const routed = await fetch(`${proxy.url}/healthz/`);
    assert.equal(fast.status, 200);
    assert.deepEqual(await fast.json(), { status: 'ok' });
    assert.equal(routed.status, 200);
    assert.deepEqual(await routed.json(), { status: 'ok' });
    assert.deepEqual(headersOf(fast), headersOf(routed));
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal(head.headers.get('content-length'), '15');
  } finally {
    await proxy.stop();
  }
});

test('/metrics, the savings page, /isartor/stats and a 404 sent together as the first requests', async () => {
  const proxy = await serve('side');
  try {
    const [metrics, page, stats, missing] = await Promise.all([
      fetch(`${proxy.url}/metrics`),
      fetch(`${proxy.url}/isartor/`),
      fetch(`${proxy.url}/isartor/stats`),
      fetch(`${proxy.url}/no/such/path`),
    ]);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), /^# HELP /m);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /Loading savings/);
    assert.equal(stats.status, 200);
    assert.ok(((await stats.json()) as { layers: Record<string, unknown> }).layers.exact);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
  } finally {
    await proxy.stop();
  }
});

test('a miss as the very first request reaches the upstream (undici loads for it), then hits', async () => {
  const proxy = await serve('miss');
  try {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'first request after start' }] });
    const ask = (): Promise<Response> => fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-first-request-0001' }, body });
    const before = fake.requests.length;
    const first = await ask();
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal(first.headers.get('x-isartor-layer'), 'l3');
    const answer = await first.json();
    const second = await ask();
    assert.equal(second.headers.get('x-isartor-layer'), 'l1a');
    assert.deepEqual(await second.json(), answer);
    assert.equal(fake.requests.length, before + 1);
  } finally {
    await proxy.stop();
  }
});
