/**
 * `isartor bench scale --store redis://…` as a user runs it, on a small size against a throw-away
 * Redis with a password: both stores are measured with numbers that agree with each other, the run
 * leaves the Redis as it found it, the password appears nowhere, and a Redis that cannot be used is
 * an error with its reason rather than a hang or made-up figures. Nothing here judges a timing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import type { StoreScaleReport } from '../../src/bench/storeBench';
import { runCli } from './bench-helpers';
import { freePort } from '../e2e/freePort';
import { startRedis, type TestRedis } from './redis-helpers';

const PASSWORD = 'bench-team-s3cret-9090';
let redis: TestRedis;

before(async () => {
  redis = await startRedis({ password: PASSWORD });
});

after(async () => {
  await redis?.stop();
});

async function keysInRedis(): Promise<string[]> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    return await client.keys('*');
  } finally {
    client.destroy();
  }
}

test('bench scale --store reports hit p99 and throughput for the embedded store and Redis, side by side', { timeout: 180_000 }, async () => {
  const entries = 40;
  const requests = 120;
  const { status, stdout, stderr } = await runCli(['bench', 'scale', '--store', redis.url, '--entries', String(entries), '--requests', String(requests), '--json']);
  assert.equal(status, 0, stderr);
  const report = JSON.parse(stdout) as StoreScaleReport;
  assert.equal(report.store, `redis://default:***@127.0.0.1:${redis.port}`);
  assert.equal(report.requests, requests);
  assert.deepEqual(report.sizes.map((run) => run.entries), [entries]);
  for (const side of ['embedded', 'redis'] as const) {
    const figures = report.sizes[0]![side];
    for (const value of [figures.hitP50Ms, figures.hitP99Ms, figures.hitsPerSecond]) assert.ok(typeof value === 'number' && Number.isFinite(value) && value > 0, `${side}: ${JSON.stringify(figures)}`);
    assert.ok(figures.hitP50Ms <= figures.hitP99Ms, `${side}: ${JSON.stringify(figures)}`);
    // Hits L1a missed (a Redis GET over budget on a busy machine) are counted, not hidden.
    assert.ok(Number.isInteger(figures.fellThrough) && figures.fellThrough >= 0 && figures.fellThrough < requests, `${side}: ${JSON.stringify(figures)}`);
  }
  assert.ok(!stdout.includes(PASSWORD) && !stderr.includes(PASSWORD), `${stdout}\n${stderr}`);
  // The run wrote under a namespace of its own and removed it afterwards.
  assert.deepEqual(await keysInRedis(), []);
});

test('the table for people names both stores', { timeout: 180_000 }, async () => {
  const { status, stdout, stderr } = await runCli(['bench', 'scale', '--store', redis.url, '--entries', '10', '--requests', '20']);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /hit p99 ms/);
  assert.match(stdout, /^10\s+embedded\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$/m);
  assert.match(stdout, /^10\s+Redis\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$/m);
  assert.ok(!stdout.includes(PASSWORD), stdout);
});

test('a Redis that refuses the password is an error that says why, not figures', { timeout: 60_000 }, async () => {
  const wrong = redis.url.replace(PASSWORD, 'not-the-password-31');
  const { status, stdout, stderr } = await runCli(['bench', 'scale', '--store', wrong, '--entries', '5', '--requests', '5', '--json']);
  assert.equal(status, 1, stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /shared store cannot be used: .*refused the login/);
  assert.ok(!stderr.includes('not-the-password-31') && !stderr.includes(PASSWORD), stderr);
});

test('bad --store arguments exit 2 before anything starts', async () => {
  const port = await freePort();
  for (const args of [['--store', 'http://127.0.0.1:6379'], ['--store'], ['--requests', '10'], ['--store', `redis://127.0.0.1:${port}`, '--requests', '0'], ['--store', `redis://127.0.0.1:${port}`, '--entries', 'many']]) {
    const { status, stderr, stdout } = await runCli(['bench', 'scale', ...args]);
    assert.equal(status, 2, args.join(' '));
    assert.match(stderr, /usage: isartor bench scale/);
    assert.equal(stdout, '');
  }
});
