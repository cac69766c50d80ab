/**
 * The shared cache on a Redis that speaks only TLS and wants a password (`rediss://user:pass@…`), as
 * a team runs it on a network: replicas that trust the Redis's private CA (`NODE_EXTRA_CA_CERTS`)
 * share answers and the password shows up nowhere. A replica that does not trust the CA, or has
 * the wrong password, or says rediss:// to a Redis without TLS, starts at once, serves from the
 * upstream, says why once, and stops on SIGTERM.
 */
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { askReplica, makeCertificates, startRedis, startReplica, type Replica, type TestCertificates, type ReplicaAnswer, type TestRedis } from './redis-helpers';

const PASSWORD = 'tls-team-s3cret-4242';
let fake: FakeUpstream;
let certificates: TestCertificates;
let redis: TestRedis;
let configDir: string;
let args: string[];
let a: Replica;
let b: Replica;

const ask = (replica: Replica, content: string, noStore = false): Promise<ReplicaAnswer> => askReplica(replica, content, { apiKey: 'sk-team-tls-key-0001', noStore });

async function statsText(replica: Replica): Promise<string> {
  return (await fetch(`${replica.url}/isartor/stats`)).text();
}

before(async () => {
  fake = await startFakeUpstream();
  certificates = await makeCertificates();
  redis = await startRedis({ tls: certificates, password: PASSWORD });
  assert.match(redis.url, /^rediss:\/\/default:tls-team-s3cret-4242@127\.0\.0\.1:\d+$/);
  configDir = await mkdtemp(join(tmpdir(), 'isartor-tls-team-'));
  const config = join(configDir, 'isartor.json');
  await writeFile(config, JSON.stringify({ semantic: { enabled: false }, local: { enabled: false } }));
  args = ['--upstream', fake.openaiBase, '--store', redis.url, '--config', config];
  const trustCa = { NODE_EXTRA_CA_CERTS: certificates.caFile };
  [a, b] = await Promise.all([startReplica(args, trustCa), startReplica(args, trustCa)]);
});

after(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redis?.stop();
  await fake?.close();
  await certificates?.remove();
  await rm(configDir, { recursive: true, force: true });
});

test('over rediss:// with a password, an answer stored through A is an L1a hit on B', async () => {
  for (const replica of [a, b]) assert.equal(JSON.parse(await statsText(replica)).store.available, true, replica.stderr());
  const first = await ask(a, 'How do I pin a TLS certificate in Node?');
  assert.equal(first.layer, 'l3');
  // The store lands just after A's answer, and a loaded machine can push a command past the
  // 100 ms budget (B then goes upstream alone): B asks without storing, so a miss of its own never
  // replaces A's answer, until A's arrives.
  let second = await ask(b, 'How do I pin a TLS certificate in Node?', true);
  for (let attempt = 0; second.layer !== 'l1a' && attempt < 40; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    second = await ask(b, 'How do I pin a TLS certificate in Node?', true);
  }
  assert.equal(second.layer, 'l1a');
  assert.equal(second.text, first.text);
});

test('the password appears neither in the replicas\' logs nor in /isartor/stats', async () => {
  for (const replica of [a, b]) {
    const stats = await statsText(replica);
    assert.ok(!stats.includes(PASSWORD), stats);
    assert.match(stats, /rediss:\/\/default:\*\*\*@127\.0\.0\.1/);
    assert.ok(!replica.stderr().includes(PASSWORD), replica.stderr());
  }
});

/** SIGTERM, then the exit status, or a failure (after SIGKILL) when it takes longer than `ms`. */
async function stopWithin(replica: Replica, ms: number): Promise<number | null> {
  const exited = once(replica.child, 'exit');
  const started = Date.now();
  replica.child.kill('SIGTERM');
  const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms));
  const outcome = await Promise.race([exited, timer]);
  if (outcome === 'hung') {
    replica.child.kill('SIGKILL');
    await exited;
    await replica.stop();
    assert.fail(`no exit ${ms} ms after SIGTERM:\n${replica.stderr()}`);
  }
  await replica.stop();
  assert.ok(Date.now() - started < ms);
  return (outcome as [number | null])[0];
}

/** `startReplica`, failing instead of waiting forever when the ready line does not come within `ms`. */
async function startWithin(replicaArgs: string[], env: NodeJS.ProcessEnv, ms: number): Promise<Replica> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const starting = startReplica(replicaArgs, env);
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ready line within ${ms} ms`)), ms)));
  try {
    const replica = await Promise.race([starting, late]);
    assert.ok(Date.now() - started < ms);
    return replica;
  } catch (error) {
    // Do not leave a hung replica behind: SIGKILL it once it shows up.
    void starting.then((replica) => replica.child.kill('SIGKILL'), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A replica whose shared cache cannot work (`storeUrl`, `env`): ready within a few seconds, the
 * request answered by the upstream, the store unavailable in stats, the reason logged once (also
 * across the background reconnects), no password anywhere, and a prompt exit on SIGTERM.
 */
async function checkUnusableStore(storeUrl: string, env: NodeJS.ProcessEnv, reason: RegExp, secrets: string[]): Promise<void> {
  const replicaArgs = args.map((arg) => (arg === redis.url ? storeUrl : arg));
  const replica = await startWithin(replicaArgs, env, 6000);
  try {
    const answer = await ask(replica, `Which CA signed this? ${storeUrl.length}`);
    assert.equal(answer.layer, 'l3');
    assert.match(answer.text, /\S/);
    const stats = JSON.parse(await statsText(replica));
    assert.equal(stats.store.available, false, JSON.stringify(stats.store));
    assert.match(stats.store.detail, reason);
    // Let the client retry a few times in the background: each failure must not log again.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const log = replica.stderr();
    const outages = log.match(/shared cache unavailable/g) ?? [];
    assert.equal(outages.length, 1, `the outage is logged exactly once:\n${log}`);
    assert.match(log, reason);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), log);
      assert.ok(!JSON.stringify(stats).includes(secret));
    }
  } finally {
    assert.equal(await stopWithin(replica, 4000), 0);
  }
}

test('a replica that does not trust the Redis CA serves from the upstream, says why once, and stops on SIGTERM', { timeout: 30_000 }, async () => {
  await checkUnusableStore(redis.url, {}, /certificate .*not trusted/, [PASSWORD]);
});

test('a replica with the wrong password serves from the upstream, says why once, and stops on SIGTERM', { timeout: 30_000 }, async () => {
  const wrong = 'not-the-team-passw0rd-1717';
  const wrongUrl = redis.url.replace(encodeURIComponent(PASSWORD), wrong);
  assert.notEqual(wrongUrl, redis.url);
  await checkUnusableStore(wrongUrl, { NODE_EXTRA_CA_CERTS: certificates.caFile }, /refused the login/, [PASSWORD, wrong]);
});

test('a replica pointed with rediss:// at a Redis without TLS says so once, not just "not connected"', { timeout: 30_000 }, async () => {
  const plain = await startRedis();
  try {
    await checkUnusableStore(`rediss://127.0.0.1:${plain.port}`, {}, /Redis without TLS never answers rediss/, []);
  } finally {
    await plain.stop();
  }
});
