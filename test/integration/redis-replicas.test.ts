/**
 * Two `isartor serve` replicas on one Redis, as a team runs them: an answer stored through one is a
 * hit on the other, a new question asked of both at once costs one upstream call, a restarted
 * replica finds what was stored meanwhile, entries expire by Redis TTL, a torn or foreign value is
 * never replayed, and Redis killed, frozen or restarted under load fails no request.
 */
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, RESP_TYPES } from 'redis';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { askReplica, startRedis, startReplica, type Replica, type ReplicaAnswer, type TestRedis } from './redis-helpers';

/** Only replica C's answers expire this soon; A and B keep the default, so slow restarts do not expire them. */
const TTL_SECONDS = 2;
let fake: FakeUpstream;
let redis: TestRedis;
let configDir: string;
let args: string[];
let a: Replica;
let b: Replica;

const ask = (replica: Replica, content: string): Promise<ReplicaAnswer> => askReplica(replica, content);

async function stats(replica: Replica): Promise<any> {
  const response = await fetch(`${replica.url}/isartor/stats`);
  return response.json();
}

/** The Redis key of the stored answer whose record mentions `text`, by a direct client (as an operator would look). */
async function answerKeyMentioning(text: string): Promise<string | undefined> {
  const direct = createClient({ url: redis.url });
  await direct.connect();
  try {
    for (const key of await direct.keys('isartor:exact:*')) if ((await direct.get(key))?.includes(text)) return key;
    return undefined;
  } finally {
    await direct.close();
  }
}

/** Clears the caches as the savings page's Clear button does (with the page's token). */
async function clearThroughSavingsPage(replica: Replica): Promise<Response> {
  const token = /name="isartor-token" content="([^"]+)"/.exec(await (await fetch(`${replica.url}/isartor/`)).text())![1]!;
  return fetch(`${replica.url}/isartor/command`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-isartor-token': token },
    body: JSON.stringify({ id: 'clear-1', method: 'isartor/clearCache', params: {} }),
  });
}

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  fake = await startFakeUpstream();
  redis = await startRedis();
  configDir = await mkdtemp(join(tmpdir(), 'isartor-team-'));
  const config = join(configDir, 'isartor.json');
  // The semantic layer stays out of the way: these tests are about the exact cache across replicas.
  await writeFile(config, JSON.stringify({ semantic: { enabled: false }, local: { enabled: false } }));
  await writeFile(join(configDir, 'short-ttl.json'), JSON.stringify({ exact: { ttlSeconds: TTL_SECONDS }, semantic: { enabled: false }, local: { enabled: false } }));
  args = ['--upstream', fake.openaiBase, '--store', redis.url, '--config', config];
  [a, b] = await Promise.all([startReplica(args), startReplica(args)]);
  // One request each first: a replica's first Redis commands (connection, compiling) can overrun
  // the 100 ms budget on a busy machine and pass as misses, which is by design but not under test.
  await Promise.all([ask(a, 'warm-up of replica A'), ask(b, 'warm-up of replica B')]);
});

after(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redis?.stop();
  await fake?.close();
  await rm(configDir, { recursive: true, force: true });
});

test('an answer stored through replica A is an L1a hit on replica B', async () => {
  fake.reset();
  const first = await ask(a, 'team question one');
  const second = await ask(b, 'team question one');
  assert.equal(first.layer, 'l3');
  assert.equal(second.layer, 'l1a');
  assert.equal(second.text, first.text);
  assert.equal(fake.requests.length, 1);
  const report = await stats(b);
  assert.equal(report.store.available, true);
  assert.match(report.layers.exact.detail, /shared/);
});

test('the same new question on both replicas at once makes one upstream call', async () => {
  fake.reset();
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  fake.respondWith(() => ({ hold }));
  const both = Promise.all([ask(a, 'asked by two replicas'), ask(b, 'asked by two replicas')]);
  await fake.waitForRequests(1);
  // Long enough for the other replica to ask the upstream too, were it not waiting on the lock.
  await new Promise((resolve) => setTimeout(resolve, 300));
  release();
  const answers = await both;
  assert.equal(fake.requests.length, 1);
  assert.deepEqual(answers.map((answer) => answer.layer).sort(), ['l1a', 'l3']);
  assert.equal(answers[0]!.text, answers[1]!.text);
});

test('the same new question failing upstream on both replicas at once makes one upstream call, and both get its error', async () => {
  fake.reset();
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  fake.respondWith(() => ({ hold, status: 400, body: { error: { message: 'this model does not exist', type: 'invalid_request_error' } } }));
  const both = Promise.allSettled([ask(a, 'asked by two replicas, refused'), ask(b, 'asked by two replicas, refused')]);
  await fake.waitForRequests(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  release();
  const results = await both;
  // Not one replica after the other: the follower answers with the error its leader got.
  const calls = fake.requests.length;
  fake.reset();
  assert.equal(calls, 1);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    const error = (result as PromiseRejectedResult).reason as { status?: number; message?: string };
    assert.equal(error.status, 400);
    assert.match(String(error.message), /this model does not exist/);
  }
});

test('team totals: every replica appends to the Redis ledger; stats and `isartor stats --store` sum them', async () => {
  const own = async (replica: Replica): Promise<number> => (await stats(replica)).ledger.totals.requests;
  let expected = 0;
  await until(async () => {
    expected = (await own(a)) + (await own(b));
    const team = (await stats(a)).team;
    return team?.totals.requests === expected;
  }, "the team totals in A's stats");
  assert.ok(expected >= 4);
  const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url, '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const team = JSON.parse(cli.stdout);
  assert.equal(team.totals.requests, expected);
  assert.equal(team.byLayer.l1a.requests, team.totals.deflected);
  assert.ok(team.byLayer.l1a.requests >= 2 && team.byLayer.l3.requests >= 2);
  assert.equal(cli.stderr, '', 'nothing to warn about');
  // A mistyped namespace prints zeros, but says so instead of passing them off as the team's.
  const typo = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url, '--namespace', 'isartr'], { encoding: 'utf8' });
  assert.equal(typo.status, 0, typo.stderr);
  assert.match(typo.stderr, /nothing recorded under namespace "isartr"/);
  assert.match(typo.stdout, /namespace "isartr"/);
});

test('/isartor/stats reads the team totals when asked: one look right after the answers counts them', async () => {
  const teamNow = (): number => {
    const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url, '--json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    return JSON.parse(cli.stdout).totals.requests;
  };
  const ownOf = async (replica: Replica): Promise<number> => (await stats(replica)).ledger.totals.requests;
  const before = teamNow();
  const bBefore = await ownOf(b);
  await ask(a, 'counted at once, asked of A');
  await ask(b, 'counted at once, asked of B');
  // B's record (and so its append) exists once its own ledger shows it; that look waits for the append.
  await until(async () => (await ownOf(b)) === bBefore + 1, "B's own record");
  // Nothing looked at A's stats since its answer: a view one read behind shows the totals from before.
  const team = (await stats(a)).team;
  assert.equal(team?.totals.requests, before + 2);
});

test('team totals evicted from Redis: the CLI and the replica say so instead of showing 0 silently', async () => {
  // As allkeys-lru would: the hash has no TTL, so under memory pressure it is fair game.
  const direct = createClient({ url: redis.url });
  await direct.connect();
  await direct.del('isartor:ledger:totals').finally(() => direct.close());
  const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'isartor.js'), 'stats', '--store', redis.url], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stderr, /team totals .* are gone .*volatile-lru/);
  await until(async () => {
    await stats(a);
    return /team ledger: the team totals .* are gone/.test(a.stderr());
  }, "A's warning about the lost totals");
  assert.equal((a.stderr().match(/team totals .* are gone/g) ?? []).length, 1, 'warned once');
});

test('a replica restarted later finds the answers stored while it was down', async () => {
  fake.reset();
  await b.stop();
  await ask(a, 'stored while B was down');
  b = await startReplica(args);
  const again = await ask(b, 'stored while B was down');
  assert.equal(again.layer, 'l1a');
  assert.equal(fake.requests.length, 1);
});

test('an answer expires by Redis TTL', async () => {
  fake.reset();
  const c = await startReplica(['--upstream', fake.openaiBase, '--store', redis.url, '--config', join(configDir, 'short-ttl.json')]);
  try {
    await ask(c, 'short-lived answer');
    assert.equal((await ask(c, 'short-lived answer')).layer, 'l1a');
    const key = await answerKeyMentioning('short-lived answer');
    const direct = createClient({ url: redis.url });
    await direct.connect();
    const ttlMs = await direct.pTTL(key!).finally(() => direct.close());
    assert.ok(ttlMs > 0 && ttlMs <= TTL_SECONDS * 1000, `Redis holds the entry with its TTL (${ttlMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 300));
    assert.equal((await ask(c, 'short-lived answer')).layer, 'l3');
    assert.equal(fake.requests.length, 2);
  } finally {
    await c.stop();
  }
});

test('a torn or foreign value in Redis is never replayed', async () => {
  fake.reset();
  const original = await ask(a, 'question whose entry gets damaged');
  let key: string | undefined;
  await until(async () => (key = await answerKeyMentioning('question whose entry gets damaged')) !== undefined, 'the answer stored in Redis');
  assert.ok(key);
  const direct = createClient({ url: redis.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await direct.connect();
  try {
    const record = (await direct.get(key))!;
    // Torn: the record without its last bytes.
    await direct.set(key, record.subarray(0, record.length - 7));
    const afterTorn = await ask(b, 'question whose entry gets damaged');
    assert.equal(afterTorn.layer, 'l3');
    // B stores its fresh answer just after answering; forge only once that write has landed.
    await until(async () => (await direct.get(key!))?.length === record.length, 'B to store its own answer again');
    // Foreign: a plausible answer someone SET by hand, without Isartor's framing.
    const forged = JSON.stringify({ api: 'openai.chat', body: { choices: [{ message: { content: 'forged' } }] }, usage: {}, createdAt: 0 });
    await direct.set(key, forged);
    const afterForged = await ask(b, 'question whose entry gets damaged');
    assert.equal(afterForged.layer, 'l3');
    assert.notEqual(afterForged.text, 'forged');
  } finally {
    await direct.close();
  }
  assert.equal(fake.requests.length, 3);
  assert.notEqual(original.text, '');
});

test('Redis frozen: requests go on within the budget, stats say so, and it recovers', async () => {
  fake.reset();
  await ask(a, 'asked before the freeze');
  redis.child.kill('SIGSTOP');
  try {
    for (const question of ['asked during the freeze', 'asked again during the freeze']) {
      const started = Date.now();
      const during = await ask(b, question);
      assert.equal(during.layer, 'l3');
      // A few commands of 100 ms each at most; far below the upstream's own timeouts.
      assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    }
    // A run of commands over budget (not a single one) makes the store count as unavailable.
    await until(async () => (await stats(b)).store.available === false, 'stats to report the outage', 3000);
    assert.match((await stats(b)).layers.exact.detail, /shared cache unavailable/);
    // Clear cannot reach Redis: the page says so instead of a 204 that cleared nothing.
    const cleared = await clearThroughSavingsPage(b);
    assert.equal(cleared.status, 503);
    assert.match(((await cleared.json()) as { error: { message: string } }).error.message, /could not clear/);
  } finally {
    redis.child.kill('SIGCONT');
  }
  await until(async () => (await ask(b, 'asked before the freeze')).layer === 'l1a', 'hits again after the freeze');
  assert.equal((await stats(b)).store.available, true);
});

test('Redis killed and restarted mid-load: no request fails, the replicas reconnect by themselves', async () => {
  fake.reset();
  // Only this outage counts: A's follower may have logged the freeze of the test before.
  const logBefore = a.stderr().length;
  const questions = Array.from({ length: 8 }, (_, i) => `load question ${i}`);
  const failures: string[] = [];
  let sent = 0;
  let stopLoad = false;
  const load = async (replica: Replica, offset: number): Promise<void> => {
    for (let i = offset; !stopLoad; i++) {
      sent++;
      await ask(replica, questions[i % questions.length]!).catch((error: unknown) => failures.push(String(error)));
    }
  };
  const running = [load(a, 0), load(b, 3), load(a, 5), load(b, 7)];
  await until(async () => sent > 20, 'load before the kill');
  await redis.kill();
  await until(async () => sent > 60, 'load while Redis is down');
  redis = await startRedis(redis.port);
  await until(async () => (await stats(a)).store.available === true && (await stats(b)).store.available === true, 'both replicas reconnected');
  const afterRestart = sent;
  await until(async () => sent > afterRestart + 20, 'load after the restart');
  stopLoad = true;
  await Promise.all(running);
  assert.deepEqual(failures, []);
  // The restarted Redis is empty; an answer stored through A now is a hit on B again.
  await ask(a, 'after the restart');
  assert.equal((await ask(b, 'after the restart')).layer, 'l1a');
  const logged = a.stderr().slice(logBefore);
  assert.match(logged, /shared cache unavailable/);
  assert.equal(logged.match(/shared cache unavailable/g)!.length, 1, `the outage is logged once:\n${logged}`);
  assert.match(logged, /shared cache back/);
});
