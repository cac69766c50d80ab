/**
 * Single flight through the real proxy with the official SDKs: identical requests in flight share
 * one upstream call, a streamed answer reaches every follower from its first chunk (framed for each
 * follower's own request), and an upstream failure reaches every waiting request as it was.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { APIError } from 'openai';
import { startStack, waitForInFlight, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

/** A promise with its resolver, to hold the fake upstream mid-stream. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

test('a follower of a streamed chat answer gets its first chunk while the leader\'s stream is still paused, with its own usage framing', async () => {
  const pause = latch();
  stack.fake.enqueue({ text: 'one two three four five six seven', pause: { events: 3, until: pause.promise } });
  const before = stack.fake.requests.length;
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'share this stream' }], stream: true as const };
  // The leader asks for usage, the follower does not (the other way round, see the next test).
  const leaderStream = await stack.openai().chat.completions.create({ ...request, stream_options: { include_usage: true } });
  const leaderChunks: string[] = [];
  let leaderEnded = false;
  let leaderUsage: unknown;
  const leaderDone = (async () => {
    for await (const chunk of leaderStream) {
      leaderChunks.push(chunk.choices[0]?.delta.content ?? '');
      if (chunk.usage) leaderUsage = chunk.usage;
    }
    leaderEnded = true;
  })();
  await stack.fake.waitForRequests(before + 1);

  const { data: followerStream, response } = await stack.openai().chat.completions.create(request).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l1a');
  const iterator = followerStream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);
  assert.equal(leaderEnded, false, 'the follower\'s first chunk came before the leader\'s stream ended');
  assert.equal(first.value.usage, undefined, 'no usage field on the chunks of a follower that did not ask for usage');

  pause.open();
  let followerText = first.value.choices[0]?.delta.content ?? '';
  let usage: unknown;
  for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
    followerText += step.value.choices[0]?.delta.content ?? '';
    if (step.value.usage) usage = step.value.usage;
  }
  await leaderDone;
  assert.equal(followerText, leaderChunks.join(''));
  assert.equal(followerText, 'one two three four five six seven');
  assert.equal(usage, undefined, 'and no usage chunk');
  assert.ok(leaderUsage && typeof leaderUsage === 'object' && (leaderUsage as { completion_tokens: number }).completion_tokens > 0, 'the leader gets its usage chunk');
  assert.equal(stack.fake.requests.length, before + 1, 'one upstream call');
});

test('a follower that asks for usage the leader\'s stream does not carry makes its own call, and gets the provider\'s usage, not an estimate', async () => {
  const pause = latch();
  // The fake's usage: its rule (text / 4) differs from Isartor's estimate for this text and request.
  const text = 'usage is the provider\'s word, never a guess passed off as it';
  stack.fake.enqueue({ text, pause: { events: 3, until: pause.promise } }, { text });
  const before = stack.fake.requests.length;
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'do not share an estimate' }], stream: true as const };
  const leaderStream = await stack.openai().chat.completions.create(request);
  const leaderDone = (async () => {
    for await (const _chunk of leaderStream) {
      // read to the end
    }
  })();
  await stack.fake.waitForRequests(before + 1);
  const follower = await stack.openai().chat.completions.create({ ...request, stream_options: { include_usage: true } }).withResponse();
  assert.equal(follower.response.headers.get('x-isartor-layer'), 'l3', 'its own upstream call');
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  for await (const chunk of follower.data) if (chunk.usage) usage = chunk.usage;
  pause.open();
  await leaderDone;
  assert.equal(stack.fake.requests.length, before + 2);
  const own = stack.fake.requests.at(-1)!;
  assert.deepEqual(usage && [usage.prompt_tokens, usage.completion_tokens], [Math.ceil(own.rawBody.length / 4), Math.ceil(text.length / 4)], "the provider's figures");
});

test('followers of streamed Messages and Responses answers stream too, byte for byte what the leader gets', async () => {
  const pause = latch();
  stack.fake.enqueue({ text: 'alpha beta gamma delta', pause: { events: 4, until: pause.promise } });
  const before = stack.fake.requests.length;
  const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'shared messages' }] };
  const leader = stack.anthropic().messages.stream(params);
  await stack.fake.waitForRequests(before + 1);
  const follower = stack.anthropic().messages.stream(params);
  const firstText = new Promise<string>((resolve) => follower.once('text', resolve));
  assert.equal(await firstText, 'alpha', 'the follower reads text while the upstream is paused');
  pause.open();
  const [leaderMessage, followerMessage] = await Promise.all([leader.finalMessage(), follower.finalMessage()]);
  assert.deepEqual(followerMessage, leaderMessage);
  assert.equal(stack.fake.requests.length, before + 1);

  const pauseResponses = latch();
  stack.fake.enqueue({ text: 'red green blue', pause: { events: 4, until: pauseResponses.promise } });
  const input = { model: 'gpt-5-mini', input: 'shared responses' };
  const leaderResponse = stack.openai().responses.stream(input);
  await stack.fake.waitForRequests(before + 2);
  const followerResponse = stack.openai().responses.stream(input);
  const firstEvent = new Promise<string>((resolve) => followerResponse.once('response.created', (event) => resolve(event.type)));
  assert.equal(await firstEvent, 'response.created');
  pauseResponses.open();
  const [a, b] = await Promise.all([leaderResponse.finalResponse(), followerResponse.finalResponse()]);
  assert.deepEqual(b, a);
  assert.equal(stack.fake.requests.length, before + 2);
});

test('a follower of a stream the upstream cut mid-event sees the cut, not the error frame run into the partial event', async () => {
  const pause = latch();
  stack.fake.enqueue({ pause: { events: 2, until: pause.promise }, breakMidEvent: 4 });
  const before = stack.fake.requests.length;
  const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'shared and cut mid-event' }] };
  const read = async (): Promise<unknown> => {
    try {
      for await (const _event of await stack.anthropic().messages.create({ ...params, stream: true })) { /* read to the end */ }
      return undefined;
    } catch (error) {
      return error;
    }
  };
  const log = console.error;
  console.error = () => undefined; // the SDK logs an event it cannot parse before throwing
  try {
    const leader = read();
    await stack.fake.waitForRequests(before + 1);
    const follower = read();
    await waitForInFlight(stack.proxy, 2);
    pause.open();
    for (const failure of await Promise.all([leader, follower])) {
      assert.ok(failure instanceof Error && !(failure instanceof SyntaxError), String(failure));
      assert.match(failure.message, /terminated|Connection error/);
    }
  } finally {
    console.error = log;
  }
  assert.equal(stack.fake.requests.length, before + 1, 'the two requests shared one upstream call');
});

test('many identical requests against an upstream answering 503 cause one upstream call; each gets the 503 and its Retry-After', async () => {
  const count = 200;
  const held = latch();
  stack.fake.respondWith(async () => {
    await held.promise;
    return { status: 503, headers: { 'retry-after': '7' }, body: { error: { message: 'overloaded', type: 'server_error' } } };
  });
  const before = stack.fake.requests.length;
  const client = stack.openai();
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'everyone at once' }] };
  const pending = Array.from({ length: count }, () => client.chat.completions.create(request).then(() => undefined, (error: unknown) => error));
  await waitForInFlight(stack.proxy, count);
  held.open();
  const errors = await Promise.all(pending);
  stack.fake.respondWith(() => ({}));
  assert.equal(stack.fake.requests.length, before + 1, 'one upstream call for all of them');
  for (const error of errors) {
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.status, 503);
    assert.equal(error.headers?.get('retry-after'), '7');
    assert.equal(error.message, '503 overloaded');
  }
});

/** Waits until the proxy has noticed that all but `count` of its clients went away. */
function waitForClientsLeft(count: number): Promise<void> {
  return waitForInFlight(stack.proxy, count, (inFlight, wanted) => inFlight <= wanted);
}

test('when the client whose request started a shared stream goes away, the request sharing it still gets the whole answer, which is then stored', async () => {
  const pause = latch();
  stack.fake.enqueue({ text: 'one two three four five six seven', pause: { events: 3, until: pause.promise } });
  const before = stack.fake.requests.length;
  const aborts = stack.fake.aborted.length;
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'the first one leaves' }], stream: true as const };
  const leader = await stack.openai().chat.completions.create(request);
  await leader[Symbol.asyncIterator]().next();
  const follower = await stack.openai().chat.completions.create(request);
  const iterator = follower[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.done, false);

  leader.controller.abort();
  await waitForClientsLeft(1);
  pause.open();
  let text = first.value.choices[0]?.delta.content ?? '';
  for (let step = await iterator.next(); !step.done; step = await iterator.next()) text += step.value.choices[0]?.delta.content ?? '';
  assert.equal(text, 'one two three four five six seven');
  assert.equal(stack.fake.aborted.length, aborts, 'the upstream call was not cancelled');

  // Asked as a stream without usage: the stored answer's usage is an estimate (replay-usage.ts).
  const again = await stack.openai().chat.completions.create(request).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l1a', 'the complete answer was stored');
  let replayed = '';
  for await (const chunk of again.data) replayed += chunk.choices[0]?.delta.content ?? '';
  assert.equal(replayed, 'one two three four five six seven');
  assert.equal(stack.fake.requests.length, before + 1, 'one upstream call');
});

test('a shared upstream call is cancelled once the last request reading it goes away, and nothing is stored', async () => {
  stack.fake.enqueue({ text: 'never finished here', stallAfterEvents: 3 });
  const aborts = stack.fake.aborted.length;
  const before = stack.fake.requests.length;
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'everyone leaves' }], stream: true as const };
  const leader = await stack.openai().chat.completions.create(request);
  await leader[Symbol.asyncIterator]().next();
  const follower = await stack.openai().chat.completions.create(request);
  await follower[Symbol.asyncIterator]().next();

  leader.controller.abort();
  await waitForClientsLeft(1);
  assert.equal(stack.fake.aborted.length, aborts, 'still read by the follower');
  follower.controller.abort();
  await stack.fake.waitForAborts(aborts + 1);

  stack.fake.enqueue({ text: 'a fresh answer' });
  const again = await stack.openai().chat.completions.create({ ...request, stream: false }).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l3', 'nothing partial was stored');
  assert.equal(stack.fake.requests.length, before + 2);
});

test('a waiting request gets the answer of the shared call when the client that started it went away before the upstream answered', async () => {
  const held = latch();
  stack.fake.enqueue({ text: 'worth the wait', hold: held.promise });
  const before = stack.fake.requests.length;
  const aborts = stack.fake.aborted.length;
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'left before the answer' }] };
  const controller = new AbortController();
  const leader = stack.openai().chat.completions.create(request, { signal: controller.signal });
  await stack.fake.waitForRequests(before + 1);
  const follower = stack.openai().chat.completions.create(request).withResponse();
  await waitForInFlight(stack.proxy, 2);

  controller.abort();
  await assert.rejects(leader);
  await waitForClientsLeft(1);
  held.open();
  const { data, response } = await follower;
  assert.equal(data.choices[0]?.message.content, 'worth the wait');
  assert.equal(response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(stack.fake.requests.length, before + 1, 'one upstream call');
  assert.equal(stack.fake.aborted.length, aborts, 'the upstream call was not cancelled');
});

test('a Responses stream shared with a request in flight echoes that request\'s own store, metadata and user, as a replay would', async () => {
  const pause = latch();
  stack.fake.enqueue({ text: 'cyan magenta yellow', pause: { events: 4, until: pause.promise } });
  const before = stack.fake.requests.length;
  const input = { model: 'gpt-5-mini', input: 'whose metadata is this' };
  // store: true and no store are one request (true is the default); store: false would be another.
  const leader = stack.openai().responses.stream({ ...input, store: true, metadata: { session: 'leader' }, user: 'leader-user' });
  await stack.fake.waitForRequests(before + 1);
  const follower = stack.openai().responses.stream({ ...input, metadata: { session: 'follower' } });
  const firstCreated = await new Promise<Record<string, unknown>>((resolve) => follower.once('response.created', (event) => resolve(event.response as unknown as Record<string, unknown>)));
  assert.deepEqual([firstCreated.store, firstCreated.metadata], [true, { session: 'follower' }], 'response.created is the follower\'s');
  pause.open();
  const [leaderResponse, followerResponse] = (await Promise.all([leader.finalResponse(), follower.finalResponse()])) as unknown as Array<Record<string, unknown>>;
  assert.equal(stack.fake.requests.length, before + 1, 'one upstream call');
  assert.deepEqual([leaderResponse!.store, leaderResponse!.metadata, leaderResponse!.user], [true, { session: 'leader' }, 'leader-user']);
  assert.deepEqual([followerResponse!.store, followerResponse!.metadata, followerResponse!.user], [true, { session: 'follower' }, null], 'the follower\'s own, not the leader\'s user');
  assert.equal(followerResponse!.output_text, 'cyan magenta yellow');
  const { store: _a, metadata: _b, user: _c, ...leaderRest } = leaderResponse!;
  const { store: _d, metadata: _e, user: _f, ...followerRest } = followerResponse!;
  assert.deepEqual(followerRest, leaderRest, 'the rest is the leader\'s answer');
});
