/**
 * L1b across replicas on one Redis: a paraphrase of a question answered through replica A is an
 * L1b hit on replica B within a second (B follows A's entries through the Redis stream), and a
 * replica started later loads what the others stored while it was down.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { askReplica, startRedis, startReplica, type Replica, type ReplicaAnswer, type TestRedis } from './redis-helpers';

let fake: FakeUpstream;
let redis: TestRedis;
let configDir: string;
let args: string[];
let a: Replica;
let b: Replica;

const ask = (replica: Replica, content: string): Promise<ReplicaAnswer> => askReplica(replica, content, { system: 'Be brief.' });

async function semanticEntries(replica: Replica): Promise<number> {
  const report = (await (await fetch(`${replica.url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
  return report.caches.semantic?.entries ?? 0;
}

async function until(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

before(async () => {
  fake = await startFakeUpstream();
  redis = await startRedis();
  configDir = await mkdtemp(join(tmpdir(), 'isartor-team-l1b-'));
  const config = join(configDir, 'isartor.json');
  await writeFile(config, JSON.stringify({ local: { enabled: false } }));
  args = ['--upstream', fake.openaiBase, '--store', redis.url, '--config', config];
  [a, b] = await Promise.all([startReplica(args), startReplica(args)]);
});

after(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await redis?.stop();
  await fake?.close();
  await rm(configDir, { recursive: true, force: true });
});

test('a paraphrase answered through replica A is an L1b hit on replica B within a second', async () => {
  const first = await ask(a, 'How do I purchase the pro plan?');
  assert.equal(first.layer, 'l3');
  const stored = Date.now();
  await until(async () => (await semanticEntries(b)) >= 1, "A's entry in B's index", 1000);
  const followedMs = Date.now() - stored;
  const second = await ask(b, 'how do i BUY the pro plan');
  assert.equal(second.layer, 'l1b', `followed after ${followedMs} ms`);
  assert.equal(second.text, first.text);
  assert.equal(fake.requests.length, 1);
});

test('a replica started later loads the entries stored while it was down', async () => {
  await b.stop();
  const first = await ask(a, 'How do I sort a list in Python?');
  assert.equal(first.layer, 'l3');
  b = await startReplica(args);
  await until(async () => (await semanticEntries(b)) >= 2, 'the restarted replica loading the entries', 20_000);
  const second = await ask(b, 'How do I sort a list in python ?');
  assert.equal(second.layer, 'l1b');
  assert.equal(second.text, first.text);
});
