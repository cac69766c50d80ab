/**
 * The shared store when Redis stalls (DEBUG SLEEP) or answers with errors, on a real redis-server:
 * a cut-short key walk never empties the L1b index, a clear fails loudly, a late lock is freed,
 * error replies are not outages, a stalled Redis costs nothing once it counts as down, and another
 * version's records are left alone; a cache's size in stats is its own.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { ClientSignal } from '../../src/core/clientSignal';
import { createLexicalEmbedder } from '../../src/core/embed/lexical';
import { createLogger, type Logger } from '../../src/core/logger';
import { ZERO_USAGE } from '../../src/core/outcome';
import { SemanticCache } from '../../src/core/semantic/cache';
import { openRedisStore } from '../../src/core/store/redis';
import { openSharedRedis, type SharedRedis } from '../../src/core/store/redisConnection';
import { createRedisFlight } from '../../src/core/store/redisFlight';
import { startRedis, type TestRedis } from './redis-helpers';

const BUDGET_MS = 100;
let redis: TestRedis;
let direct: ReturnType<typeof createClient>;
const opened: SharedRedis[] = [];
let namespaces = 0;

before(async () => {
  redis = await startRedis({ args: ['--enable-debug-command', 'local'] });
  direct = createClient({ url: redis.url });
  await direct.connect();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((shared) => shared.close()));
  await direct.configSet({ maxmemory: '0', 'maxmemory-policy': 'noeviction' });
});

after(async () => {
  await direct?.close();
  await redis?.stop();
});

/** A connection with the default budget in a namespace of its own, and the lines it logs. */
async function connect(): Promise<{ shared: SharedRedis; lines: string[]; logger: Logger }> {
  const lines: string[] = [];
  const logger: Logger = createLogger((line) => lines.push(line), 'info');
  const shared = await openSharedRedis({ url: redis.url, namespace: `stall-${++namespaces}`, shareAcrossKeys: false, timeoutMs: BUDGET_MS }, logger);
  opened.push(shared);
  return { shared, lines, logger };
}

/** Freezes Redis for `ms` from a connection of its own; resolves once it answers again. */
async function stall(ms: number): Promise<{ over: Promise<void> }> {
  const sleeper = createClient({ url: redis.url });
  await sleeper.connect();
  const over = sleeper.sendCommand(['DEBUG', 'SLEEP', String(ms / 1000)]).then(() => sleeper.close());
  // Let the DEBUG SLEEP reach Redis before the commands under test.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { over: over.then(() => undefined) };
}

const answer = { api: 'openai.chat' as const, body: {}, usage: ZERO_USAGE, createdAt: 1 };

test('F3: a key walk cut short by a stall removes nothing from the L1b index', async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'semantic', { maxEntries: 0, ttlSeconds: 0 }, { logger: logger });
  const embedder = createLexicalEmbedder();
  const cache = await SemanticCache.open({ store, embedder, threshold: embedder.defaultThreshold, logger: logger, deferEmbedding: false });
  try {
    for (let i = 0; i < 20; i++) await cache.insert('p', `what is the price of plan number ${i}`, answer);
    assert.equal(cache.size, 20);
    const { over } = await stall(500);
    await cache.reconcile();
    await over;
    assert.equal(cache.size, 20, 'the index kept every entry');
    // Once Redis answers again, a walk sees them all and the index still agrees with the store.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const { removed } = await cache.reconcile();
    assert.equal(removed, 0);
    assert.equal(cache.size, 20);
  } finally {
    await cache.close();
    await store.close();
  }
});

test('F4: clearing while Redis counts as down fails at once and loudly instead of clearing nothing', async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger });
  await store.set('a', Buffer.from('answer a'));
  const { over } = await stall(800);
  // Three commands out of time: Redis counts as unavailable.
  for (let i = 0; i < 3; i++) await store.get('a');
  const started = performance.now();
  await assert.rejects(store.clear(), /unavailable/);
  assert.ok(performance.now() - started < BUDGET_MS, 'refused at once');
  await over;
  assert.equal(await direct.exists(`${shared.prefix}exact:a`), 1, 'nothing was cleared');
});

test('F4: a clear that meets a stall longer than the request budget waits it out and clears everything', async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger });
  for (let i = 0; i < 20; i++) await store.set(`k${i}`, Buffer.from('an answer'));
  const { over } = await stall(500);
  await store.clear();
  await over;
  assert.deepEqual(await direct.keys(`${shared.prefix}exact:*`), []);
});

test('F5: a lock attempt that ran out of time during a stall leaves no lock behind', async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger: logger });
  const flight = createRedisFlight(store);
  const { over } = await stall(400);
  const turn = await flight.take('late-lock', new ClientSignal());
  assert.equal(turn.kind, 'alone');
  await over;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await direct.exists(`${shared.prefix}lock:late-lock`), 0, 'the late SET NX was undone');
});

test('F6: error replies from a working Redis are not an outage, and are logged once per kind with a hint', async () => {
  const { shared, lines, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger: logger });
  await direct.hSet(`${shared.prefix}exact:hash`, 'field', 'value');
  for (let i = 0; i < 5; i++) assert.equal(await store.get('hash'), undefined);
  await direct.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
  for (let i = 0; i < 5; i++) await store.set(`k${i}`, Buffer.from('an answer'));
  await direct.configSet({ maxmemory: '0' });
  assert.equal(shared.available(), true);
  assert.equal(shared.status().available, true);
  assert.equal(lines.filter((line) => /unavailable|back/.test(line)).length, 0, lines.join('\n'));
  assert.equal(lines.filter((line) => line.includes('WRONGTYPE')).length, 1, lines.join('\n'));
  const oom = lines.filter((line) => line.includes('OOM'));
  assert.equal(oom.length, 1, lines.join('\n'));
  assert.match(oom[0]!, /maxmemory-policy/);
});

test('F8: once a stalled Redis counts as down, commands answer at once, and Redis is used again when it is back', async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger: logger });
  await store.set('a', Buffer.from('answer a'));
  const { over } = await stall(1500);
  for (let i = 0; i < 3; i++) await store.get('a');
  assert.equal(shared.available(), false);
  const started = performance.now();
  for (let i = 0; i < 5; i++) assert.equal(await store.get('a'), undefined);
  const tookMs = performance.now() - started;
  assert.ok(tookMs < BUDGET_MS, `5 reads during the stall took ${tookMs.toFixed(0)} ms`);
  await over;
  const deadline = Date.now() + 3000;
  while (!shared.available() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(shared.available(), true, 'back within a probe interval or two');
  // Back means a fresh start: one slow command right after is not another outage.
  const { over: again } = await stall(300);
  assert.equal(await store.get('a'), undefined);
  await again;
  assert.equal(shared.available(), true);
  assert.equal(String(await store.get('a')), 'answer a');
});

test("F9: another version's record is a miss and stays; a torn record of this version is removed", async () => {
  const { shared, logger } = await connect();
  const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger: logger });
  await direct.set(`${shared.prefix}exact:newer`, Buffer.concat([Buffer.from('ISR2'), Buffer.alloc(40, 1)]));
  await direct.set(`${shared.prefix}exact:torn`, Buffer.concat([Buffer.from('ISR1'), Buffer.alloc(40, 1)]));
  assert.equal(await store.get('newer'), undefined);
  assert.equal(await store.get('torn'), undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await direct.exists(`${shared.prefix}exact:newer`), 1);
  assert.equal(await direct.exists(`${shared.prefix}exact:torn`), 0);
});

test("F11: a cache's size in stats is its own keys' memory, not all of Redis's", async () => {
  const { shared, logger } = await connect();
  const writer = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger });
  for (let i = 0; i < 50; i++) await writer.set(`k${i}`, Buffer.alloc(1000, i));
  // Another namespace's 8 MB is not this cache's.
  await direct.set('someone-else:big', Buffer.alloc(8 * 1024 * 1024, 1));
  // A store opened now counts the keys (its first figures are taken when it opens).
  const reader = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 0 }, { logger });
  const deadline = Date.now() + 3000;
  while (reader.size() !== 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await reader.close();
  assert.equal(reader.size(), 50);
  const bytes = reader.byteSize();
  assert.ok(bytes >= 50 * 1000 && bytes < 500 * 1000, `estimated ${bytes} bytes for 50 values of 1 KB`);
  await direct.del('someone-else:big');
});
