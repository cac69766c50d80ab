/**
 * The shared cache on a Redis that speaks only TLS and wants a password (`rediss://user:pass@…`), as
 * a team runs it on a network: replicas that trust the Redis's private CA (`NODE_EXTRA_CA_CERTS`)
 * share answers and the password shows up nowhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { makeCertificates, startRedis, startReplica, type Replica, type TestCertificates, type TestRedis } from './redis-helpers';

const PASSWORD = 'tls-team-s3cret-4242';
let fake: FakeUpstream;
let certificates: TestCertificates;
let redis: TestRedis;
let configDir: string;
let args: string[];
let a: Replica;
let b: Replica;

async function ask(replica: Replica, content: string): Promise<{ layer: string | null; text: string }> {
  const client = new OpenAI({ apiKey: 'sk-team-tls-key-0001', baseURL: `${replica.url}/v1`, maxRetries: 0, timeout: 20_000 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }).withResponse();
  return { layer: response.headers.get('x-isartor-layer'), text: data.choices[0]?.message.content ?? '' };
}

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
  let second = await ask(b, 'How do I pin a TLS certificate in Node?');
  // The store lands just after A's answer; give it a moment rather than racing it.
  for (let attempt = 0; second.layer !== 'l1a' && attempt < 40; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    second = await ask(b, 'How do I pin a TLS certificate in Node?');
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
