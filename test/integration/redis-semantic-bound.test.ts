/**
 * L1b on one Redis with `semantic.maxEntries` 50: while replica A stores hundreds of answers, the
 * index of replica B (which follows them) never holds more than 50, its recent entries still hit,
 * an entry it evicted stays in Redis and comes back into its index when stored again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createClient } from 'redis';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { askReplica, startRedis, startReplica, type Replica, type ReplicaAnswer, type TestRedis } from './redis-helpers';

const MAX_ENTRIES = 50;
const WRITTEN = 300;

let fake: FakeUpstream;
let redis: TestRedis;
let configDir: string;
let a: Replica;
let b: Replica;

/** Question `n`: each has its own number, so the gates keep them apart. */
const question = (n: number): string => `Which port does service number ${n} listen on?`;
/** The same question in other words: an L1b hit, never an exact one. */
const paraphrase = (n: number): string => `which port does service number ${n} listen on?`;

/** Asks without storing on a miss: a probe changes nothing in the cache. */
const probe = (replica: Replica, content: string): Promise<ReplicaAnswer> => askReplica(replica, content, { system: 'Be brief.', noStore: true });

async function semanticEntries(replica: Replica): Promise<number> {
  const report = (await (await fetch(`${replica.url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
  return report.caches.semantic?.entries ?? 0;
}

async function until(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** L1b entries in Redis, counted by a direct client as an operator would. */
async function entriesInRedis(): Promise<number> {
  const direct = createClient({ url: redis.url });
  await direct.connect();
  try {
    let count = 0;
    for await (const keys of direct.scanIterator({ MATCH: 'isartor:semantic:l1b:*', COUNT: 1000 })) count += keys.length;
    return count;
  } finally {
    await direct.close();
  }
}

before(async () => {
  fake = await startFakeUpstream();
  redis = await startRedis();
  configDir = await mkdtemp(join(tmpdir(), 'isartor-team-bound-'));
  const config = join(configDir, 'isartor.json');
  await writeFile(config, JSON.stringify({ local: { enabled: false }, semantic: { maxEntries: MAX_ENTRIES } }));
  const args = ['--upstream', fake.openaiBase, '--store', redis.url, '--config', config];
  [a, b] = await Promise.all([startReplica(args), startReplica(args)]);
});

after(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redis?.stop();
  await fake?.close();
  await rm(configDir, { recursive: true, force: true });
});

test(`a follower's L1b index holds at most semantic.maxEntries (${MAX_ENTRIES}) while another replica stores ${WRITTEN}; recent entries hit`, { timeout: 120_000 }, async () => {
  // B's index size, read all along while A stores.
  let largestOnB = 0;
  let writing = true;
  const watch = (async () => {
    while (writing) {
      largestOnB = Math.max(largestOnB, await semanticEntries(b));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    for (let n = 0; n < WRITTEN; n += 4) {
      const answers = await Promise.all([0, 1, 2, 3].map((i) => askReplica(a, question(n + i), { system: 'Be brief.' })));
      for (const answer of answers) assert.equal(answer.layer, 'l3');
    }
    // B has followed A to the end once A's last entry is a hit there.
    await until(async () => (await probe(b, paraphrase(WRITTEN - 1))).layer === 'l1b', "B following A's last entry", 10_000);
  } finally {
    writing = false;
    await watch;
  }
  largestOnB = Math.max(largestOnB, await semanticEntries(b));
  assert.ok(largestOnB <= MAX_ENTRIES, `B's index reached ${largestOnB} entries`);
  assert.ok((await semanticEntries(a)) <= MAX_ENTRIES, "A's own index is bounded too");
  assert.ok(largestOnB >= MAX_ENTRIES - 5, `B's index filled up to its bound (${largestOnB})`);

  // The most recent entries are still hits on B.
  for (let n = WRITTEN - 10; n < WRITTEN; n++) assert.equal((await probe(b, paraphrase(n))).layer, 'l1b', `recent entry ${n}`);

  // The oldest left B's index but not Redis (other replicas may still hold it): a miss on B.
  assert.equal(await entriesInRedis(), WRITTEN, 'local eviction deleted nothing from Redis');
  assert.equal((await probe(b, paraphrase(0))).layer, 'l3', 'the oldest entry left B\'s index');

  // Stored again by A (a client that skips lookups), it comes back into B's index.
  const client = new OpenAI({ apiKey: 'sk-team-test-key-0001', baseURL: `${a.url}/v1`, maxRetries: 0, timeout: 20_000 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question(0) }] }, { headers: { 'cache-control': 'no-cache' } });
  await until(async () => (await probe(b, paraphrase(0))).layer === 'l1b', 'the entry stored again back in B\'s index', 10_000);
  assert.ok((await semanticEntries(b)) <= MAX_ENTRIES);
});
