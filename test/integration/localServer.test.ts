/**
 * L2 on a local OpenAI-compatible server through the real proxy, with the official SDKs: a second
 * fake upstream on loopback plays Ollama / LM Studio (triage from top_logprobs, answers over SSE)
 * and is scripted per test to hang, stall or run into the local cap. Whatever it does, the client
 * gets either a well-formed local answer, the cloud's answer, or an error frame: never a hang.
 */
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { after, before, beforeEach, test } from 'node:test';
import { startFakeUpstream } from '../../src/bench/fakeUpstream';
import type { FakeReply, FakeUpstream, RecordedRequest } from '../../src/bench/fakeUpstream';
import { ANTHROPIC_KEY, OPENAI_KEY, startStack } from './helpers';
import type { Stack } from './helpers';

/** Short deadlines, so a stuck local server is given up on quickly; a hang fails the test by its own timeout. */
const FIRST_TOKEN_MS = 500;
const IDLE_MS = 500;
const LOCAL_CAP = 40;
const HANG_GUARD = { timeout: 30_000 };

let local: FakeUpstream;
let stack: Stack;
/** How the local server answers the next generation requests (triage always says SIMPLE). */
let generation: (request: RecordedRequest) => FakeReply;

const triageReply: FakeReply = {
  body: {
    id: 'triage', object: 'chat.completion', model: 'fake-local',
    choices: [{ index: 0, message: { role: 'assistant', content: 'SIMPLE' }, logprobs: { content: [{ token: 'SIMPLE', logprob: -0.01, top_logprobs: [{ token: 'SIMPLE', logprob: -0.01 }, { token: 'COMPLEX', logprob: -5 }] }] }, finish_reason: 'length' }],
  },
};

const neverSettles = new Promise<never>(() => {});

/** An SSE answer in `pieces` ending with `finish`, as a local server streams it. */
function sseAnswer(pieces: string[], finish: string): FakeReply {
  const frame = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
  const chunk = (delta: object, finishReason: string | null = null): string => frame({ id: 'local', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }] });
  const body = chunk({ role: 'assistant', content: '' }) + pieces.map((piece) => chunk({ content: piece })).join('') + chunk({}, finish)
    + frame({ id: 'local', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 17, completion_tokens: pieces.length } }) + 'data: [DONE]\n\n';
  return { headers: { 'content-type': 'text/event-stream' }, body };
}

before(async () => {
  local = await startFakeUpstream();
  local.respondWith((request) => (request.json?.stream === true ? generation(request) : triageReply));
  stack = await startStack((config) => {
    config.exact.enabled = false;
    config.local = {
      ...config.local,
      enabled: true,
      backendUrl: local.openaiBase,
      backendModel: 'fake-local',
      triageBudgetMs: 10_000,
      firstTokenTimeoutMs: FIRST_TOKEN_MS,
      idleTimeoutMs: IDLE_MS,
      maxAnswerTokens: LOCAL_CAP,
    };
  });
});
after(async () => {
  await stack.close();
  await local.close();
});
beforeEach(() => {
  generation = () => ({ text: 'The capital of France is Paris.' });
  local.reset();
  local.respondWith((request) => (request.json?.stream === true ? generation(request) : triageReply));
  stack.fake.reset();
});

const openai = (): OpenAI => new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${stack.proxy.url}/v1`, maxRetries: 0, timeout: 20_000 });
const anthropic = (): Anthropic => new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: stack.proxy.url, maxRetries: 0, timeout: 20_000 });
const ask = <T extends object = object>(extra?: T) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is the capital of France?' }], ...extra }) as { model: string; messages: Array<{ role: 'user'; content: string }> } & T;

/** The generation requests the local server received, and how many of them the proxy aborted. */
function localGenerations(): { asked: number; aborted: number } {
  return { asked: local.requests.filter((r) => r.json?.stream === true).length, aborted: local.aborted.filter((r) => r.json?.stream === true).length };
}

async function readOpenAIStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = '';
  let finish: string | null = null;
  const ids = new Set<string>();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish, ids: [...ids] };
}

void test('a local server that answers normally: the answer is L2 (sanity check of the fixture)', HANG_GUARD, async () => {
  const { data, response } = await openai().chat.completions.create(ask()).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l2');
  assert.equal(data.choices[0]!.message.content, 'The capital of France is Paris.');
  assert.equal(stack.fake.requests.length, 0);
});

void test('a local server that never starts its answer: plain and streamed requests get the cloud answer, and the local request is aborted', HANG_GUARD, async () => {
  generation = () => ({ hold: neverSettles });
  const plain = await openai().chat.completions.create(ask()).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l3');
  assert.match(plain.data.choices[0]!.message.content ?? '', /^Answer 1 to: What is the capital/);

  const streamed = await openai().chat.completions.create(ask({ stream: true as const })).withResponse();
  assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l3');
  assert.match((await readOpenAIStream(streamed.data)).text, /^Answer 2 to: What is the capital/);

  const message = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, 3, 'every request reached the cloud');
  await local.waitForAborts(3);
  assert.deepEqual(localGenerations(), { asked: 3, aborted: 3 });
});

void test('a local server that stalls before the answer is committed: the cloud answers, nothing local reaches the client', HANG_GUARD, async () => {
  // Role chunk and one short piece, then silence: under the streamed head, and the plain answer is unfinished.
  generation = () => ({ text: 'The capital of France is Paris.', stallAfterEvents: 2 });
  const plain = await openai().chat.completions.create(ask({ max_tokens: 20 })).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l3');
  const streamed = await openai().chat.completions.create(ask({ max_tokens: 20, stream: true as const })).withResponse();
  assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l3');
  assert.match((await readOpenAIStream(streamed.data)).text, /^Answer 2 to:/);
  await local.waitForAborts(2);
  assert.deepEqual(localGenerations(), { asked: 2, aborted: 2 });
});

void test('a local server that stalls after the answer is committed: the stream ends with an error in the API shape', HANG_GUARD, async () => {
  // About 100 characters in short pieces, then silence: past the 64-character head.
  const long = 'Paris is the capital and most populous city of France, on the Seine, with museums and a tower. More';
  generation = () => ({ text: long, stallAfterEvents: 1 + long.split(' ').length - 1 });
  const streamed = await openai().chat.completions.create(ask({ max_tokens: 20, stream: true as const })).withResponse();
  assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l2');
  let text = '';
  await assert.rejects(
    (async () => {
      for await (const chunk of streamed.data) text += chunk.choices[0]?.delta.content ?? '';
    })(),
    (error: Error) => error instanceof OpenAI.APIError && /local model stalled for 500 ms/.test(error.message),
  );
  assert.ok(text.length >= 64 && long.startsWith(text), `the committed part arrived: ${JSON.stringify(text)}`);

  const message = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l2');
  await assert.rejects(
    (async () => {
      for await (const _event of message.data) void _event;
    })(),
    (error: Error) => error instanceof Anthropic.APIError && /local model stalled for 500 ms/.test(error.message),
  );
  assert.equal(stack.fake.requests.length, 0, 'a committed answer does not go to the cloud');
  await local.waitForAborts(2);
  assert.deepEqual(localGenerations(), { asked: 2, aborted: 2 });
});

void test('a streamed answer the local cap cut goes to the cloud, as a plain one does; within the client\'s own limit it ends in length', HANG_GUARD, async () => {
  // The local server writes until the token limit it was given, then says "length".
  generation = (request) => sseAnswer(Array.from({ length: Number(request.json.max_tokens) }, () => 'word '), 'length');
  for (const extra of [{}, { max_tokens: LOCAL_CAP + 1 }]) {
    const before = stack.fake.requests.length;
    const plain = await openai().chat.completions.create(ask(extra)).withResponse();
    assert.equal(plain.response.headers.get('x-isartor-layer'), 'l3', `plain ${JSON.stringify(extra)}`);
    const streamed = await openai().chat.completions.create(ask({ ...extra, stream: true as const })).withResponse();
    assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l3', `streamed ${JSON.stringify(extra)}`);
    const { text, finish } = await readOpenAIStream(streamed.data);
    assert.match(text, /^Answer \d+ to: What is the capital/);
    assert.equal(finish, 'stop');
    assert.equal(stack.fake.requests.length, before + 2);
  }
  const message = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l3');
  for await (const _event of message.data) void _event;

  const limited = await openai().chat.completions.create(ask({ max_tokens: 30, stream: true as const })).withResponse();
  assert.equal(limited.response.headers.get('x-isartor-layer'), 'l2');
  const { text, finish } = await readOpenAIStream(limited.data);
  assert.equal(text, 'word '.repeat(30));
  assert.equal(finish, 'length', 'the limit the client asked for');
});

void test('requests with stop sequences go to the cloud, streamed or not, on both APIs: a local server cannot report the stop correctly', HANG_GUARD, async () => {
  // This local server ignores `stop` and says "stop" either way, as some do.
  generation = () => ({ text: 'The capital of France is Paris. END It has a famous tower.' });
  const plain = await openai().chat.completions.create(ask({ stop: ['END'] })).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l3');
  const streamed = await openai().chat.completions.create(ask({ stop: 'END', stream: true as const })).withResponse();
  assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l3');
  await readOpenAIStream(streamed.data);

  const request = { model: 'claude-haiku-4-5', max_tokens: 100, stop_sequences: ['END'], messages: [{ role: 'user' as const, content: 'What is the capital of France?' }] };
  const message = await anthropic().messages.create(request).withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(message.data.stop_reason, 'end_turn', "the cloud's own answer");
  const events = await anthropic().messages.create({ ...request, stream: true }).withResponse();
  assert.equal(events.response.headers.get('x-isartor-layer'), 'l3');
  for await (const _event of events.data) void _event;

  assert.equal(stack.fake.requests.length, 4);
  assert.deepEqual(stack.fake.requests.map((r) => r.json.stop ?? r.json.stop_sequences), [['END'], 'END', ['END'], ['END']], 'forwarded as sent');
  assert.equal(local.requests.length, 0, 'the local model was not even asked to triage');
});

void test('store: true and service_tier go to the cloud through the SDKs; metadata without store stays local', HANG_GUARD, async () => {
  const stored = await openai().chat.completions.create(ask({ store: true, metadata: { ticket: '42' } })).withResponse();
  assert.equal(stored.response.headers.get('x-isartor-layer'), 'l3');
  const tiered = await openai().chat.completions.create(ask({ service_tier: 'flex' as const, stream: true as const })).withResponse();
  assert.equal(tiered.response.headers.get('x-isartor-layer'), 'l3');
  await readOpenAIStream(tiered.data);
  const anthropicTier = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, service_tier: 'standard_only', messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
  assert.equal(anthropicTier.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, 3);

  const tagged = await openai().chat.completions.create(ask({ metadata: { ticket: '42' } })).withResponse();
  assert.equal(tagged.response.headers.get('x-isartor-layer'), 'l2');
});

void test('the local model reads Anthropic system blocks as separate instructions', HANG_GUARD, async () => {
  const message = await anthropic()
    .messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, system: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: 'Be brief.' }], messages: [{ role: 'user', content: 'What is the capital of France?' }] })
    .withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l2');
  const answerRequest = local.requests.find((r) => r.json?.stream === true);
  assert.deepEqual(answerRequest?.json.messages[0], { role: 'system', content: 'Answer in French.\n\nBe brief.' });
});

void test('local answers carry ids in their API\'s style, streamed or not, and echo the requested model', HANG_GUARD, async () => {
  const plain = await openai().chat.completions.create(ask()).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l2');
  assert.match(plain.data.id, /^chatcmpl-isartor-l2-[0-9a-f]{24}$/);
  assert.equal(plain.data.model, 'gpt-4o-mini');
  assert.equal(plain.response.headers.get('x-isartor-local-model'), 'fake-local');

  const streamed = await openai().chat.completions.create(ask({ stream: true as const, stream_options: { include_usage: true } })).withResponse();
  assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l2');
  const models = new Set<string>();
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of streamed.data) {
    chunks.push(chunk);
    models.add(chunk.model);
  }
  const ids = [...new Set(chunks.map((chunk) => chunk.id))];
  assert.equal(ids.length, 1, `one id for every chunk: ${ids.join(', ')}`);
  assert.match(ids[0]!, /^chatcmpl-isartor-l2-[0-9a-f]{24}$/);
  assert.deepEqual([...models], ['gpt-4o-mini']);

  const message = await anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
  assert.equal(message.response.headers.get('x-isartor-layer'), 'l2');
  assert.match(message.data.id, /^msg_isartor_l2_[0-9a-f]{24}$/);
  const stream = anthropic().messages.stream({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'What is the capital of France?' }] });
  const final = await stream.finalMessage();
  assert.match(final.id, /^msg_isartor_l2_[0-9a-f]{24}$/);
  assert.equal(final.model, 'claude-haiku-4-5');
  assert.equal(stack.fake.requests.length, 0);
});
