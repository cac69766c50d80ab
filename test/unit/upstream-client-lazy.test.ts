/**
 * The upstream client loads undici on its first request when nothing prepared it (a miss that is
 * the very first request after a start), and a closed client never creates a pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { text } from 'node:stream/consumers';
import { startFakeUpstream } from '../../src/bench/fakeUpstream';
import { silentLogger } from '../../src/core/logger';
import { createUpstreamClient } from '../../src/core/upstream/client';
import { undiciIfLoaded } from '../../src/core/upstream/undici';

test('the first send loads undici and creates the pool, with nothing prepared before', async () => {
  const fake = await startFakeUpstream();
  const providers = [{ name: 'fake', kind: 'openai' as const, baseUrl: fake.openaiBase, apiKey: 'sk-lazy-0001' }];
  const client = createUpstreamClient({ providers, timeoutMs: 5_000, retries: 0, maxBackoffMs: 10 }, silentLogger);
  try {
    assert.equal(undiciIfLoaded(), undefined, 'nothing in this process loaded undici yet');
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'first' }] }));
    const response = await client.send({ providers, endpoint: 'chat', model: 'gpt-4o-mini', method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: new AbortController().signal });
    assert.equal(response.status, 200);
    assert.match(await text(response.body), /chat\.completion/);
    assert.ok(undiciIfLoaded());
    assert.equal(fake.requests.length, 1);
  } finally {
    await client.close();
    await fake.close();
  }
});

test('a client closed before its first request creates no pool and refuses to send', async () => {
  const providers = [{ name: 'nowhere', kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-lazy-0002' }];
  const client = createUpstreamClient({ providers, timeoutMs: 1_000, retries: 0, maxBackoffMs: 10 }, silentLogger);
  await client.close();
  // Destroyed, not unreachable: the pool was never created, so nothing tried port 9.
  await assert.rejects(client.send({ providers, endpoint: 'chat', model: 'm', method: 'POST', headers: {}, body: Buffer.from('{}'), signal: new AbortController().signal }), /destroyed/);
});
