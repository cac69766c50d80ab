/**
 * The cross-replica single flight on a real Redis: who asks the upstream for a new question, and
 * that a replica arriving just after the leader stored its answer reads it instead of asking again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { ClientSignal } from '../../src/core/clientSignal';
import { silentLogger } from '../../src/core/logger';
import { openRedisStore, type RedisStore } from '../../src/core/store/redis';
import { openSharedRedis, type SharedRedis } from '../../src/core/store/redisConnection';
import { createRedisFlight, type ReplicaFailure, type ReplicaTurn } from '../../src/core/store/redisFlight';
import { startRedis, type TestRedis } from './redis-helpers';

let redis: TestRedis;
let shared: SharedRedis;
let store: RedisStore;

before(async () => {
  redis = await startRedis();
  // A generous budget: these tests are about the flight's decisions, not about a slow Redis.
  shared = await openSharedRedis({ url: redis.url, namespace: 'flight-test', shareAcrossKeys: false, timeoutMs: 2000 }, silentLogger);
  store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger: silentLogger });
});

after(async () => {
  await shared?.close();
  await redis?.stop();
});

async function lockHeld(key: string): Promise<boolean> {
  const direct = createClient({ url: redis.url });
  await direct.connect();
  try {
    return (await direct.exists(`${shared.prefix}lock:${key}`)) > 0;
  } finally {
    await direct.close();
  }
}

/** One replica takes the lead on `key`, a second asks after it and is left waiting; `release` frees the leader's lock. */
async function leaderAndWaitingFollower(key: string): Promise<{ release: (failure?: ReplicaFailure) => void; follower: Promise<ReplicaTurn> }> {
  const flight = createRedisFlight(store, { pollMs: 10 });
  const leader = await flight.take(key, new ClientSignal());
  assert.ok(leader.kind === 'lead', `the first to ask leads (got ${leader.kind})`);
  const follower = flight.take(key, new ClientSignal());
  await new Promise((resolve) => setTimeout(resolve, 40));
  return { release: leader.release, follower };
}

test('the first replica to ask leads; the next waits and reads the answer once it is stored', async () => {
  const { release, follower } = await leaderAndWaitingFollower('k-lead');
  await store.set('k-lead', Buffer.from('the answer'));
  release();
  assert.equal((await follower).kind, 'stored');
});

test('a replica that finds the lock free but the answer already stored reads it, and leaves no lock', async () => {
  // The leader stored its answer and freed the lock between this replica's read and its lock
  // attempt: asking the upstream again would pay for the same answer twice.
  await store.set('k-stored', Buffer.from('the answer'));
  const turn = await createRedisFlight(store).take('k-stored', new ClientSignal());
  assert.equal(turn.kind, 'stored');
  // The lock taken in the same step is freed at once (its release is not awaited by take()).
  for (let i = 0; i < 50 && (await lockHeld('k-stored')); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(await lockHeld('k-stored'), false);
});

test('a waiting replica leads when the leader gives up without an answer', async () => {
  const { release, follower } = await leaderAndWaitingFollower('k-giveup');
  release();
  assert.equal((await follower).kind, 'lead');
});

test('F1: a follower keeps waiting past the lock lifetime while the leader renews its lock', async () => {
  // A 300 ms lock: without renewal it would expire and the follower would ask the upstream itself.
  const flight = createRedisFlight(store, { lockMs: 300, pollMs: 10 });
  const leader = await flight.take('k-long', new ClientSignal());
  assert.ok(leader.kind === 'lead');
  let settled = false;
  const follower = flight.take('k-long', new ClientSignal()).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(settled, false, 'still waiting on the leader');
  await store.set('k-long', Buffer.from('a slow answer'));
  leader.release();
  assert.equal((await follower).kind, 'stored');
});

test("F1: a follower whose client streams waits at most streamWaitMs once the leader's answer streams, then goes alone", async () => {
  const flight = createRedisFlight(store, { lockMs: 1000, pollMs: 10, streamWaitMs: 200 });
  const leader = await flight.take('k-stream', new ClientSignal());
  assert.ok(leader.kind === 'lead');
  leader.release.streaming();
  const started = Date.now();
  const turn = await flight.take('k-stream', new ClientSignal(), { stream: true });
  const waitedMs = Date.now() - started;
  leader.release();
  assert.equal(turn.kind, 'alone');
  assert.ok(waitedMs >= 190 && waitedMs < 700, `waited ${waitedMs} ms`);
});

test("F1: a follower whose client streams keeps waiting while the leader's upstream has not started to answer", async () => {
  // Asking too would get no first byte sooner, and would pay for the same answer twice.
  const flight = createRedisFlight(store, { lockMs: 300, pollMs: 10, streamWaitMs: 100 });
  const leader = await flight.take('k-slow-start', new ClientSignal());
  assert.ok(leader.kind === 'lead');
  let settled = false;
  const follower = flight.take('k-slow-start', new ClientSignal(), { stream: true }).finally(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(settled, false, 'still waiting on the leader');
  await store.set('k-slow-start', Buffer.from('the answer'));
  leader.release();
  assert.equal((await follower).kind, 'stored');
});

test("F2: the replicas waiting on a leader get its upstream error response, later requests do not", async () => {
  const flight = createRedisFlight(store, { pollMs: 10 });
  const { release, follower } = await leaderAndWaitingFollower('k-fails');
  const response = { kind: 'upstream' as const, layer: 'l3' as const, provider: 'openai', status: 400, headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' }, upstreamLatencyMs: 7 };
  const bytes = Buffer.from('{"error":{"message":"bad request","type":"invalid_request_error"}}');
  release({ response, bytes });
  const turn = await follower;
  assert.ok(turn.kind === 'failed', `got ${turn.kind}`);
  assert.deepEqual(turn.failure.response, response);
  assert.deepEqual(turn.failure.bytes, bytes);
  // The failure answers only the flight it came from: a request after it asks again.
  const later = await flight.take('k-fails', new ClientSignal());
  assert.equal(later.kind, 'lead');
  if (later.kind === 'lead') later.release();
});
