/**
 * The upstream layer under failure: fallback to the next provider, Retry-After, streams that break
 * mid-way (an error the SDK throws, never cached) and clients that hang up (the upstream call ends).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { startStack, waitForInFlight, type Stack } from './helpers';

let stack: Stack;
let backup: FakeUpstream;
/** SDK clients announce their own retries; removing the header lets the proxy's retry policy show. */
const noClientRetries = { 'x-stainless-retry-count': null as unknown as string };
before(async () => {
  backup = await startFakeUpstream();
  stack = await startStack((config) => {
    config.upstream.retries = 1;
    config.upstream.maxBackoffMs = 5_000;
  });
});
after(async () => {
  await stack.close();
  await backup.close();
});

test('a 503 from the first provider (after its retry) falls back to the second, with its own key only', async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'no-key-elsewhere', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' },
      { name: 'secondary', kind: 'openai', baseUrl: backup.openaiBase, apiKey: 'sk-secondary-own-key' },
    ],
  });
  const primaryCalls = stack.fake.requests.length;
  stack.fake.enqueue({ status: 503, headers: { 'retry-after-ms': '0' } }, { status: 503, headers: { 'retry-after-ms': '0' } });
  const { data, response } = await stack
    .openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, defaultHeaders: noClientRetries })
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fall back' }] })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(stack.fake.requests.length, primaryCalls + 2, 'the primary was tried twice (retries: 1)');
  assert.equal(backup.requests.length, 1);
  assert.match(data.choices[0]!.message.content ?? '', /^Answer 1 to: fall back$/, 'the answer came from the secondary');
  // The client's key was meant for the primary: a provider on another origin never sees it, and one
  // without a key of its own (port 9 here) is not tried at all.
  assert.equal(backup.requests[0]!.headers['authorization'], 'Bearer sk-secondary-own-key');
  assert.notEqual(stack.fake.requests.at(-1)!.headers['authorization'], 'Bearer sk-secondary-own-key');
});

test('a fallback on another origin sees none of the secrets the client meant for the primary: gateway keys, cookies, ?key=', async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'secondary', kind: 'openai', baseUrl: backup.openaiBase, apiKey: 'sk-secondary-own-key' },
    ],
  });
  // What gateways and vendors authenticate with besides Authorization / x-api-key / api-key.
  const secrets = {
    'x-goog-api-key': 'AIzaSy-client-google-key-000000000000000',
    'ocp-apim-subscription-key': 'client-azure-apim-subscription-key-01',
    'cf-aig-authorization': 'Bearer client-cloudflare-gateway-token',
    'helicone-auth': 'Bearer client-helicone-key',
    'x-portkey-api-key': 'client-portkey-key',
    cookie: 'session=client-session-cookie',
  };
  const backupCalls = backup.requests.length;
  stack.fake.enqueue({ status: 503, headers: { 'retry-after-ms': '0' } }, { status: 503, headers: { 'retry-after-ms': '0' } });
  const client = new OpenAI({
    apiKey: 'sk-client-own-key-for-the-primary', baseURL: `${stack.proxy.url}/r/${route.id}/v1`, maxRetries: 0,
    defaultHeaders: { ...noClientRetries, ...secrets, 'x-kept-header': 'kept' },
    defaultQuery: { key: 'AIzaSy-client-query-key-0000000000000', beta: 'true' },
  });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fall back, keep my secrets' }] }).withResponse();
  assert.equal(response.status, 200);
  assert.equal(backup.requests.length, backupCalls + 1, 'the secondary answered');
  const primarySaw = stack.fake.requests.at(-1)!;
  const fallbackSaw = backup.requests.at(-1)!;
  for (const [name, value] of Object.entries(secrets)) {
    assert.equal(primarySaw.headers[name], value, `the primary, whom the client addressed, gets ${name}`);
    assert.equal(fallbackSaw.headers[name], undefined, `the fallback on another origin does not get ${name}`);
  }
  assert.match(primarySaw.url, /[?&]key=AIzaSy-client-query-key/);
  assert.doesNotMatch(fallbackSaw.url, /client-query-key/, 'nor a key in the query string');
  assert.match(fallbackSaw.url, /[?&]beta=true/, 'the rest of the query still goes');
  assert.equal(fallbackSaw.headers['x-kept-header'], 'kept', 'other headers still go');
  assert.equal(fallbackSaw.headers['authorization'], 'Bearer sk-secondary-own-key');
  stack.fake.reset();
});

test("a fallback vendor's answer reaches the client but is not cached as the primary's", async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'secondary', kind: 'openai', baseUrl: backup.openaiBase, apiKey: 'sk-secondary-own-key' },
    ],
  });
  const client = stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, defaultHeaders: noClientRetries });
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'who answers?' }] };
  const backupCalls = backup.requests.length;
  stack.fake.enqueue({ status: 503, headers: { 'retry-after-ms': '0' } }, { status: 503, headers: { 'retry-after-ms': '0' } });
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(backup.requests.length, backupCalls + 1, 'the secondary answered');
  // The primary is back: it answers, and its answer is the one cached.
  const primaryCalls = stack.fake.requests.length;
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, primaryCalls + 1);
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l1a');
  stack.fake.reset();
});

test('Retry-After on a 429 is honoured before retrying the same provider', async () => {
  const calls = stack.fake.requests.length;
  stack.fake.enqueue({ status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down', type: 'rate_limit_error' } } });
  const started = performance.now();
  const answer = await stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'rate limited' }] });
  assert.match(answer.choices[0]!.message.content ?? '', /rate limited/);
  assert.equal(stack.fake.requests.length, calls + 2);
  // Without Retry-After the first backoff step is at most 500 ms; the proxy waited the full second.
  assert.ok(performance.now() - started >= 1000, 'waited at least the Retry-After second');
});

test('a Retry-After longer than the backoff cap is not retried early: the next provider, or the client at once', async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'secondary', kind: 'openai', baseUrl: backup.openaiBase, apiKey: 'sk-secondary-own-key' },
    ],
  });
  const hourLong = { status: 429, headers: { 'retry-after': '3600' }, body: { error: { message: 'come back in an hour', type: 'rate_limit_error' } } };
  const primaryCalls = stack.fake.requests.length;
  const backupCalls = backup.requests.length;
  stack.fake.enqueue(hourLong);
  let started = performance.now();
  const { response } = await stack
    .openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, defaultHeaders: noClientRetries })
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'an hour is too long' }] })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(stack.fake.requests.length, primaryCalls + 1, 'the primary was not retried');
  assert.equal(backup.requests.length, backupCalls + 1, 'the secondary answered');
  assert.ok(performance.now() - started < 2_000, 'without waiting out a backoff');

  // The last provider: the client gets the 429 and its Retry-After at once.
  stack.fake.enqueue(hourLong);
  started = performance.now();
  await assert.rejects(
    stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'an hour, alone' }] }),
    (error: unknown) => error instanceof OpenAI.RateLimitError && error.headers?.get('retry-after') === '3600',
  );
  assert.ok(performance.now() - started < 2_000, 'at once, not after the retries');
  stack.fake.reset();
});

test('a 429 on the last attempt reaches the client with the upstream status and body', async () => {
  stack.fake.enqueue(
    { status: 429, headers: { 'retry-after-ms': '0' }, body: { error: { message: 'quota exceeded', type: 'insufficient_quota' } } },
    { status: 429, headers: { 'retry-after-ms': '0' }, body: { error: { message: 'quota exceeded', type: 'insufficient_quota' } } },
  );
  await assert.rejects(
    stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'over quota' }] }),
    (error: unknown) => error instanceof OpenAI.RateLimitError && /quota exceeded/.test(error.message),
  );
});

test("the primary's 429 reaches the client when the fallback cannot be connected to, not a 502", async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'refusing', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-fallback-own-key' },
    ],
  });
  const client = stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, defaultHeaders: noClientRetries });
  const rateLimited = (retryAfter: string, message: string) => ({ status: 429, headers: { 'retry-after': retryAfter }, body: { error: { message, type: 'rate_limit_error', code: 'rate_limit_exceeded' } } });
  const isThe429 = (retryAfter: string, message: string) => (error: unknown) =>
    error instanceof OpenAI.RateLimitError && error.message.includes(message) && error.code === 'rate_limit_exceeded' && error.headers?.get('retry-after') === retryAfter;

  // A Retry-After beyond the backoff cap: the fallback is tried at once, and refuses the connection.
  stack.fake.enqueue(rateLimited('3600', 'come back in an hour'));
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'limited, fallback down' }] }), isThe429('3600', 'come back in an hour'));

  // The primary's retries used up (retries: 1), then the fallback refuses: the last 429 the primary sent.
  const primaryCalls = stack.fake.requests.length;
  stack.fake.enqueue(rateLimited('0', 'first 429'), rateLimited('0', 'second 429'));
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'limited twice, fallback down' }] }), isThe429('0', 'second 429'));
  assert.equal(stack.fake.requests.length, primaryCalls + 2);

  // The same in the Messages API's own error shape.
  const anthropicRoute = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'anthropic', baseUrl: stack.fake.anthropicBase },
      { name: 'refusing', kind: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-ant-fallback-own-key' },
    ],
  });
  stack.fake.enqueue({ status: 429, headers: { 'retry-after': '3600' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'anthropic says later' } } });
  await assert.rejects(
    stack.anthropic({ baseURL: `${stack.proxy.url}/r/${anthropicRoute.id}`, defaultHeaders: noClientRetries }).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'limited, fallback down' }] }),
    (error: unknown) => error instanceof Anthropic.RateLimitError && /anthropic says later/.test(error.message) && error.headers?.get('retry-after') === '3600',
  );
  stack.fake.reset();
});

test('when no provider of the chain can be connected to, the client still gets a 502', async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'refusing-primary', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' },
      { name: 'refusing-fallback', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v2', apiKey: 'sk-fallback-own-key' },
    ],
  });
  await assert.rejects(
    stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'nobody home' }] }),
    (error: unknown) => error instanceof OpenAI.APIError && error.status === 502 && /could not reach refusing-primary .*; refusing-fallback/.test(error.message),
  );
});

test('a client that retries itself (x-stainless-retry-count) gets one attempt per provider, fallback still allowed', async () => {
  const route = stack.proxy.addRoute({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: stack.fake.openaiBase },
      { name: 'secondary', kind: 'openai', baseUrl: backup.openaiBase, apiKey: 'sk-secondary-own-key' },
    ],
  });
  const primaryCalls = stack.fake.requests.length;
  const backupCalls = backup.requests.length;
  stack.fake.enqueue({ status: 503, headers: { 'retry-after-ms': '0' } }, { status: 503, headers: { 'retry-after-ms': '0' } });
  const { response } = await stack
    .openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1` })
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'the sdk retries' }] })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(stack.fake.requests.length, primaryCalls + 1, 'the primary saw the attempt once, not once per proxy retry');
  assert.equal(stack.fake.requests.at(-1)!.headers['x-stainless-retry-count'], '0');
  assert.equal(backup.requests.length, backupCalls + 1, 'and the next provider took it');
  stack.fake.reset();
});

test('the official SDK retrying a 503 three times causes three upstream calls, not nine', async () => {
  const calls = stack.fake.requests.length;
  stack.fake.respondWith(() => ({ status: 503, headers: { 'retry-after-ms': '0' } }));
  try {
    const client = new OpenAI({ apiKey: 'sk-test-openai-key-0001', baseURL: `${stack.proxy.url}/v1`, maxRetries: 2 });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'always 503' }] }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 503);
    assert.equal(stack.fake.requests.length - calls, 3);
    assert.deepEqual(stack.fake.requests.slice(calls).map((request) => request.headers['x-stainless-retry-count']), ['0', '1', '2']);
  } finally {
    stack.fake.reset();
  }
});

test('a complete OpenAI stream without [DONE] ends cleanly for the client, and is not cached', async () => {
  // "All done." streams as: the role chunk, "All", " done.", the finish chunk, then [DONE], left out.
  const reply = { text: 'All done.', endAfterEvents: 4 };
  stack.fake.enqueue(reply, reply);
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'a server without the end marker' }], stream: true as const };
  const { data, response } = await stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create(request).withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'All done.');
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  const again = await stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create(request).withResponse();
  for await (const _chunk of again.data) { /* read to the end */ }
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l3', 'without its end marker the answer was not stored');
});

test('an OpenAI stream that breaks mid-way ends in an error the SDK throws, and is not cached', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'break the stream please' }], stream: true as const };
  stack.fake.enqueue({ breakAfterEvents: 3 });
  const calls = stack.fake.requests.length;
  let received = '';
  await assert.rejects(async () => {
    for await (const chunk of await stack.openai().chat.completions.create(request)) received += chunk.choices[0]?.delta.content ?? '';
  }, (error: unknown) => error instanceof OpenAI.APIError && /broke off/.test(error.message));
  assert.ok(received.length > 0, 'the first chunks reached the client before the failure');
  const retry = await stack.openai().chat.completions.create({ ...request, stream: false }).withResponse();
  assert.equal(retry.response.headers.get('x-isartor-layer'), 'l3', 'the broken answer was not cached');
  assert.equal(stack.fake.requests.length, calls + 2);
});

test('an Anthropic stream that breaks mid-way ends in an error event the SDK throws, and is not cached', async () => {
  const request = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'break this stream too' }] };
  stack.fake.enqueue({ breakAfterEvents: 4 });
  await assert.rejects(stack.anthropic().messages.stream(request).finalMessage(), (error: unknown) => error instanceof Anthropic.APIError && /broke off/.test(error.message));
  const retry = await stack.anthropic().messages.create(request).withResponse();
  assert.equal(retry.response.headers.get('x-isartor-layer'), 'l3');
});

test('a stream that ends cleanly before [DONE] or message_stop reaches the SDK as an error, and is not cached', async () => {
  const openaiRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'end my stream early' }], stream: true as const };
  stack.fake.enqueue({ endAfterEvents: 3 });
  let received = '';
  await assert.rejects(async () => {
    for await (const chunk of await stack.openai().chat.completions.create(openaiRequest)) received += chunk.choices[0]?.delta.content ?? '';
  }, (error: unknown) => error instanceof OpenAI.APIError && /ended before the answer was complete/.test(error.message));
  assert.ok(received.length > 0, 'the chunks before the cut reached the client');
  const openaiRetry = await stack.openai().chat.completions.create({ ...openaiRequest, stream: false }).withResponse();
  assert.equal(openaiRetry.response.headers.get('x-isartor-layer'), 'l3', 'the truncated answer was not cached');

  const anthropicRequest = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'end this one early too' }] };
  stack.fake.enqueue({ endAfterEvents: 4 });
  await assert.rejects(stack.anthropic().messages.stream(anthropicRequest).finalMessage(), (error: unknown) => error instanceof Anthropic.APIError && /ended before the answer was complete/.test(error.message));
  const anthropicRetry = await stack.anthropic().messages.create(anthropicRequest).withResponse();
  assert.equal(anthropicRetry.response.headers.get('x-isartor-layer'), 'l3');
});

test('a stream sent with a Content-Length that ends early gets its error frame without corrupting the connection', async () => {
  // Some servers send a stream in one piece with its length. The proxy's error frame goes past
  // that length: with the upstream's Content-Length copied, the client stops reading before the
  // frame, and takes the frame's bytes for the start of its next response on the connection.
  const chunk = (text: string) => `data: ${JSON.stringify({ id: 'chatcmpl-len', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
  stack.fake.enqueue({ body: chunk('cut ') + chunk('short'), headers: { 'content-type': 'text/event-stream' } });
  const client = stack.openai({ defaultHeaders: noClientRetries });
  let received = '';
  await assert.rejects(async () => {
    for await (const part of await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a stream with a length' }], stream: true })) received += part.choices[0]?.delta.content ?? '';
  }, (error: unknown) => error instanceof OpenAI.APIError && /ended before the answer was complete/.test(error.message));
  assert.equal(received, 'cut short');
  // The same client (its keep-alive connection) goes on working.
  const next = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'the next request' }] });
  assert.match(next.choices[0]!.message.content ?? '', /the next request/);
});

test('a stream the upstream compressed although asked for identity reaches the SDK whole, and is not cached', async () => {
  // The proxy cannot read it for the caches, so it must not judge it either: no error frame, no cut.
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'a compressed stream' }], stream: true as const };
  for (const expectedLayer of ['l3', 'l3']) {
    stack.fake.enqueue({ text: 'squeezed but whole', gzip: true });
    const { data, response } = await stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create(request).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'squeezed but whole');
    assert.equal(response.headers.get('x-isartor-layer'), expectedLayer);
    assert.equal(stack.fake.requests.at(-1)!.headers['accept-encoding'], 'identity');
  }
});

/**
 * What a client reading an SDK stream got: its text, and what it threw. The SDKs log an event they
 * cannot parse before throwing a SyntaxError; that is the failure looked for here, so it is muted.
 */
async function readStream(events: () => Promise<AsyncIterable<unknown>>): Promise<unknown> {
  const log = console.error;
  console.error = () => undefined;
  try {
    for await (const _event of await events()) { /* read to the end */ }
    return undefined;
  } catch (error) {
    return error;
  } finally {
    console.error = log;
  }
}

test('a stream that stops mid-event reaches the SDK as a cut connection, not as an event its parser chokes on, in every API', async () => {
  // An upstream that broke off mid-line, and one whose last event lacks its blank line: the
  // proxy's error frame, appended there, became the rest of that event (data that is no JSON).
  stack.fake.enqueue({ breakMidEvent: 3 }, { breakMidEvent: 3 }, { breakMidEvent: 3 }, { noFinalBlankLine: true });
  const failures = [
    await readStream(() => stack.openai({ defaultHeaders: noClientRetries }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cut mid-line' }], stream: true })),
    await readStream(() => stack.openai({ defaultHeaders: noClientRetries }).responses.create({ model: 'gpt-5-mini', input: 'cut mid-line', stream: true })),
    await readStream(() => stack.anthropic().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'cut mid-line' }], stream: true })),
    await readStream(() => stack.anthropic().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'no last blank line' }], stream: true })),
  ];
  for (const [index, failure] of failures.entries()) {
    assert.ok(failure instanceof Error, `stream ${index} ended in an error`);
    assert.ok(!(failure instanceof SyntaxError), `stream ${index}: ${failure.message}`);
    assert.match(failure.message, /terminated|Connection error/, `stream ${index} was cut, as a direct client's would be`);
  }
  const retry = await stack.anthropic().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'no last blank line' }] }).withResponse();
  assert.equal(retry.response.headers.get('x-isartor-layer'), 'l3', 'the unfinished answer was not cached');
});

/** The ledger records written from now on; `next(n)` resolves with the first n of them. */
function recordsFromNow(): { next(count: number): Promise<LedgerRecord[]> } {
  const records: LedgerRecord[] = [];
  const waiters: Array<() => void> = [];
  const subscription = stack.proxy.onRecord((record) => {
    records.push(record);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async next(count) {
      while (records.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      subscription.dispose();
      return records.slice(0, count);
    },
  };
}

const BROKEN = { layer: 'error', status: 502, error: 'upstream_stream_broken' };
const outcomeOf = (record: LedgerRecord) => ({ layer: record.layer, status: record.status, error: record.error });

test('a stream the upstream cut mid-way is recorded as failed, not as a 200 answer, in every API', async () => {
  const ledger = recordsFromNow();
  stack.fake.enqueue({ breakAfterEvents: 2 }, { breakAfterEvents: 2 }, { breakAfterEvents: 3 }, { endAfterEvents: 2 });
  const failedBefore = stack.proxy.stats().ledger.byLayer.error?.requests ?? 0;
  await assert.rejects(async () => {
    for await (const _chunk of await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'cut chat for the ledger' }], stream: true })) {
      // read to the error
    }
  }, OpenAI.APIError);
  await assert.rejects(stack.anthropic().messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'cut messages for the ledger' }] }).finalMessage(), Anthropic.APIError);
  await assert.rejects(stack.openai().responses.stream({ model: 'gpt-5-mini', input: 'cut responses for the ledger' }).finalResponse());
  await assert.rejects(async () => {
    for await (const _chunk of await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ended early for the ledger' }], stream: true })) {
      // read to the error
    }
  }, OpenAI.APIError);
  const records = await ledger.next(4);
  assert.deepEqual(records.map(outcomeOf), [BROKEN, BROKEN, BROKEN, BROKEN]);
  assert.equal(stack.proxy.stats().ledger.byLayer.error?.requests, failedBefore + 4, 'counted as failed');

  // A whole stream is still a 200 from l3.
  const whole = recordsFromNow();
  for await (const _chunk of await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'whole chat for the ledger' }], stream: true })) {
    // read to the end
  }
  assert.deepEqual((await whole.next(1)).map(outcomeOf), [{ layer: 'l3', status: 200, error: undefined }]);
});

test("a stream that ends in the provider's own error event is recorded as failed, in every API", async () => {
  const ledger = recordsFromNow();
  stack.fake.enqueue(
    { errorAfterEvents: { events: 2, frame: `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error' } })}\n\n` } },
    { errorAfterEvents: { events: 3, frame: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n` } },
    { errorAfterEvents: { events: 3, frame: `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: 3, response: { id: 'resp_failed', object: 'response', status: 'failed', error: { code: 'server_error', message: 'failed' }, output: [] } })}\n\n` } },
  );
  await assert.rejects(async () => {
    for await (const _chunk of await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'provider error in chat' }], stream: true })) {
      // read to the error
    }
  }, OpenAI.APIError);
  await assert.rejects(stack.anthropic().messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'provider error in messages' }] }).finalMessage());
  // A failed response is an event the SDK hands over, not a thrown error.
  const types: string[] = [];
  for await (const event of await stack.openai().responses.create({ model: 'gpt-5-mini', input: 'provider error in responses', stream: true })) types.push(event.type);
  assert.equal(types.at(-1), 'response.failed');
  const records = await ledger.next(3);
  const failed = { layer: 'error', status: 502, error: 'upstream_stream_error' };
  assert.deepEqual(records.map(outcomeOf), [failed, failed, failed]);
});

test('a request sharing a stream the upstream cut is recorded as failed too, not as an l1a deflection', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  stack.fake.enqueue({ pause: { events: 2, until: gate }, breakAfterEvents: 3 });
  const ledger = recordsFromNow();
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'one cut stream, two readers' }], stream: true as const };
  const readAll = async (stream: AsyncIterable<unknown>): Promise<void> => {
    for await (const _chunk of stream) {
      // read to the error
    }
  };
  const leader = await stack.openai().chat.completions.create(request).withResponse();
  const follower = await stack.openai().chat.completions.create(request).withResponse();
  assert.equal(follower.response.headers.get('x-isartor-layer'), 'l1a', 'the second request shares the first one\'s stream');
  release();
  await assert.rejects(readAll(leader.data), OpenAI.APIError);
  await assert.rejects(readAll(follower.data), OpenAI.APIError);
  const records = await ledger.next(2);
  assert.deepEqual(records.map(outcomeOf), [BROKEN, BROKEN]);
  assert.ok(records.every((record) => record.savedTokens === 0));
});

test('a client that hangs up mid-stream aborts the upstream request, and nothing is cached', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'I will hang up' }], stream: true as const };
  stack.fake.enqueue({ stallAfterEvents: 2 });
  const aborts = stack.fake.aborted.length;
  const stream = await stack.openai().chat.completions.create(request);
  for await (const _chunk of stream) {
    stream.controller.abort();
    break;
  }
  await stack.fake.waitForAborts(aborts + 1);
  assert.equal(stack.fake.aborted.at(-1)!.json.messages[0].content, 'I will hang up');
  const retry = await stack.openai().chat.completions.create({ ...request, stream: false }).withResponse();
  assert.equal(retry.response.headers.get('x-isartor-layer'), 'l3');
});

test('a client that hangs up before the upstream answered aborts the upstream request and is recorded as closed', async () => {
  let release!: () => void;
  stack.fake.enqueue({ hold: new Promise<void>((resolve) => (release = resolve)) });
  const closedRecord = new Promise<{ status: number }>((resolve) => {
    const subscription = stack.proxy.onRecord((record) => {
      if (record.error !== 'client_closed') return;
      subscription.dispose();
      resolve(record);
    });
  });
  const aborts = stack.fake.aborted.length;
  const calls = stack.fake.requests.length;
  const controller = new AbortController();
  const pending = stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'gone before the answer' }] }, { signal: controller.signal });
  await stack.fake.waitForRequests(calls + 1);
  controller.abort();
  await assert.rejects(pending);
  await stack.fake.waitForAborts(aborts + 1);
  release();
  assert.equal((await closedRecord).status, 499);
  await waitForInFlight(stack.proxy, 0, (inFlight) => inFlight === 0);
});
