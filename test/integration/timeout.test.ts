/**
 * Upstream time limits: a non-streamed answer may take up to upstream.timeoutMs to start, a stream
 * must start within upstream.firstByteTimeoutMs, and a started body may pause for at most
 * upstream.idleTimeoutMs. A timed-out provider is not retried: the next provider gets the request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, type Stack } from './helpers';

let stack: Stack;
const releases: Array<() => void> = [];
const held = (): Promise<void> => new Promise<void>((resolve) => releases.push(resolve));
before(async () => {
  stack = await startStack((config) => {
    config.upstream.timeoutMs = 6_000;
    config.upstream.firstByteTimeoutMs = 300;
    config.upstream.idleTimeoutMs = 300;
    // Proxy retries on, to show a timeout is not multiplied by them.
    config.upstream.retries = 2;
  });
});
after(async () => {
  for (const release of releases) release();
  await stack.close();
});

/** An SDK client that does not announce retries of its own, so the proxy's retry policy applies. */
const noClientRetries = { 'x-stainless-retry-count': null as unknown as string };

test('upstream timeout: 504 in the OpenAI shape naming upstream.timeoutMs, then the proxy serves again', async () => {
  stack.fake.enqueue({ hold: held() });
  await assert.rejects(
    stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] }),
    (error: unknown) => error instanceof OpenAI.APIError && error.status === 504 && /did not answer within 6000 ms.*upstream\.timeoutMs/.test(error.message),
  );
  const ok = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fast' }] });
  assert.match(ok.choices[0]!.message.content ?? '', /fast/);
});

test('a non-streamed answer slower than the first-byte limit is still served: the two limits are separate', async () => {
  stack.fake.enqueue({ delayMs: 700 });
  const answer = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'think for a while' }] });
  assert.match(answer.choices[0]!.message.content ?? '', /think for a while/);
});

test('a stream that does not start within firstByteTimeoutMs: 504 after one attempt, not one per retry', async () => {
  const calls = stack.fake.requests.length;
  stack.fake.enqueue({ hold: held() });
  const started = performance.now();
  await assert.rejects(
    stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hang before the stream' }], stream: true }),
    (error: unknown) => error instanceof OpenAI.APIError && error.status === 504 && /within 300 ms.*upstream\.firstByteTimeoutMs/.test(error.message),
  );
  assert.ok(performance.now() - started < 5_000, 'answered well before the non-stream limit');
  assert.equal(stack.fake.requests.length, calls + 1, 'the hung provider was not retried');
});

test('a stream that goes silent for idleTimeoutMs ends in an error the SDK throws, and is not cached', async () => {
  const request = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'go quiet mid-stream' }] };
  stack.fake.enqueue({ stallAfterEvents: 3 });
  const aborts = stack.fake.aborted.length;
  const started = performance.now();
  await assert.rejects(stack.anthropic().messages.stream(request).finalMessage(), (error: unknown) => error instanceof Anthropic.APIError && /broke off/.test(error.message));
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 5_000, `cut after the idle limit, not the non-stream one (${Math.round(elapsed)} ms)`);
  await stack.fake.waitForAborts(aborts + 1);
  const retry = await stack.anthropic().messages.create(request).withResponse();
  assert.equal(retry.response.headers.get('x-isartor-layer'), 'l3');
});
