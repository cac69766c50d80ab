/**
 * Which failure the client gets when no provider of the chain succeeds: a real HTTP answer from
 * any provider beats a connection failure; among HTTP failures, the earliest provider's (the
 * primary's); only a chain where nobody answered ends in the proxy's own error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { text } from 'node:stream/consumers';
import { startFakeUpstream } from '../../src/bench/fakeUpstream';
import { silentLogger } from '../../src/core/logger';
import type { UpstreamTarget } from '../../src/core/request';
import { createUpstreamClient } from '../../src/core/upstream/client';
import { UpstreamUnreachableError } from '../../src/core/upstream/errors';

const REFUSING = 'http://127.0.0.1:9/v1';
const body = Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}]}');

async function sendAlong(providers: UpstreamTarget[], retries: number) {
  const client = createUpstreamClient({ providers, timeoutMs: 5_000, retries, maxBackoffMs: 10 }, silentLogger);
  try {
    const response = await client.send({ providers, endpoint: 'chat', model: 'm', method: 'POST', headers: {}, body, signal: new AbortController().signal });
    return { status: response.status, provider: response.provider.name, retryAfter: response.headers['retry-after'], text: await text(response.body) };
  } finally {
    await client.close();
  }
}

test("the primary's 429 beats a fallback's 503 and a fallback that refuses the connection", async () => {
  const primary = await startFakeUpstream();
  const fallback = await startFakeUpstream();
  try {
    const providers: UpstreamTarget[] = [
      { name: 'primary', kind: 'openai', baseUrl: primary.openaiBase, apiKey: 'sk-p' },
      { name: 'fallback-503', kind: 'openai', baseUrl: fallback.openaiBase, apiKey: 'sk-f' },
      { name: 'fallback-down', kind: 'openai', baseUrl: REFUSING, apiKey: 'sk-d' },
    ];
    primary.enqueue({ status: 429, headers: { 'retry-after': '3600' }, body: { error: { message: 'primary over quota', type: 'rate_limit_error' } } });
    fallback.enqueue({ status: 503, body: { error: { message: 'fallback overloaded', type: 'server_error' } } });
    const answer = await sendAlong(providers, 0);
    assert.deepEqual(answer, { status: 429, provider: 'primary', retryAfter: '3600', text: '{"error":{"message":"primary over quota","type":"rate_limit_error"}}' });
    assert.equal(fallback.requests.length, 1, 'the fallback was tried');
  } finally {
    await primary.close();
    await fallback.close();
  }
});

test("a provider's 429 beats its own retry that timed out", async () => {
  const primary = await startFakeUpstream();
  try {
    const providers: UpstreamTarget[] = [{ name: 'primary', kind: 'openai', baseUrl: primary.openaiBase, apiKey: 'sk-p' }];
    primary.enqueue({ status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'slow down', type: 'rate_limit_error' } } }, { delayMs: 2_000 });
    const client = createUpstreamClient({ providers, timeoutMs: 300, retries: 1, maxBackoffMs: 10 }, silentLogger);
    try {
      const response = await client.send({ providers, endpoint: 'chat', model: 'm', method: 'POST', headers: {}, body, signal: new AbortController().signal });
      assert.equal(response.status, 429);
      assert.match(await text(response.body), /slow down/);
      assert.equal(primary.requests.length, 2, 'the retry was made, and timed out');
    } finally {
      await client.close();
    }
  } finally {
    await primary.close();
  }
});

test('a chain where no provider answered still ends in UpstreamUnreachableError', async () => {
  const providers: UpstreamTarget[] = [
    { name: 'down-1', kind: 'openai', baseUrl: REFUSING, apiKey: 'sk-1' },
    { name: 'down-2', kind: 'openai', baseUrl: REFUSING, apiKey: 'sk-2' },
  ];
  await assert.rejects(sendAlong(providers, 0), UpstreamUnreachableError);
});
