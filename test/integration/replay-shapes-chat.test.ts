/**
 * Chat completions: for each answer shape a provider sends (parallel tool calls, arguments in many
 * pieces, logprobs, n > 1 streamed interleaved, url citations, audio, DeepSeek/vLLM
 * `reasoning_content`, usage details), what the official `openai` client sees from the L1a replay
 * is what it saw from the miss: plain, raw stream, and the stream helper's final completion.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeReply } from '../../src/bench/fakeUpstream';
import { startStack, type Stack } from './helpers';
import { chatStreamReply } from './replay-shapes-helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Json = Record<string, any>;

/** Folds deltas as the API means them: text appends, lists append, objects merge, names are set once. */
function fold(target: Json, delta: Json): void {
  for (const [key, value] of Object.entries(delta)) {
    // A null delta field says nothing (the SDK reads it as absent): a replay may send it or not.
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') {
      target[key] = ['id', 'type', 'name', 'role'].includes(key) || typeof target[key] !== 'string' ? value : target[key] + value;
    } else if (Array.isArray(value)) {
      target[key] = [...(Array.isArray(target[key]) ? target[key] : []), ...value];
    } else if (typeof value === 'object') {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      fold(target[key], value);
    } else target[key] = value;
  }
}

/** What a raw chunk stream adds up to: each choice's message, tool calls by index, logprobs, finish; heads; usage. */
function foldChunks(chunks: Json[]): Json {
  const choices: Record<number, Json> = {};
  const heads = new Set<string>();
  const usages: unknown[] = [];
  for (const chunk of chunks) {
    const { choices: parts, usage, obfuscation: _noise, ...head } = chunk;
    heads.add(JSON.stringify(head));
    if (usage) usages.push(usage);
    for (const { index, delta, logprobs, finish_reason, ...own } of parts as Json[]) {
      const choice = (choices[index] ??= { message: {}, tool_calls: [], logprobs: {}, finish: null });
      // A provider's own choice fields describe the chunk they come in; the SDK keeps the last.
      for (const [key, value] of Object.entries(own)) if (value !== null) choice[key] = value;
      const { tool_calls: calls, ...rest } = delta ?? {};
      fold(choice.message, rest);
      for (const { index: at, ...call } of calls ?? []) fold((choice.tool_calls[at] ??= {}), call);
      if (logprobs) fold(choice.logprobs, logprobs);
      if (finish_reason) choice.finish = finish_reason;
    }
  }
  return { choices, heads: [...heads].sort(), usages };
}

let serial = 0;

/** Sends `params` twice as asked (plain, raw stream, stream helper), the first answered by `reply`. */
async function twice(mode: 'plain' | 'raw' | 'helper', params: Json, reply: FakeReply): Promise<{ layers: Array<string | null>; results: unknown[]; upstreamCalls: number }> {
  const request = { model: 'gpt-4o-mini', ...params, messages: [{ role: 'user', content: `shape ${++serial}` }] };
  const before = stack.fake.requests.length;
  stack.fake.enqueue(reply);
  const layers: Array<string | null> = [];
  const results: unknown[] = [];
  try {
  for (let round = 0; round < 2; round++) {
    if (mode === 'plain') {
      const { data, response } = await stack.openai().chat.completions.create(request as never).withResponse();
      layers.push(response.headers.get('x-isartor-layer'));
      results.push(data);
    } else if (mode === 'raw') {
      const { data, response } = await stack.openai().chat.completions.create({ ...request, stream: true } as never).withResponse();
      layers.push(response.headers.get('x-isartor-layer'));
      const chunks: Json[] = [];
      for await (const chunk of data as unknown as AsyncIterable<Json>) chunks.push(chunk);
      results.push(foldChunks(chunks));
    } else {
      // The helper hides the response headers: the upstream's request count tells the layer.
      const asked = stack.fake.requests.length;
      results.push(await stack.openai().chat.completions.stream(request as never).finalChatCompletion());
      layers.push(stack.fake.requests.length > asked ? 'l3' : 'l1a');
    }
    // The second round may go upstream too (an unstored answer): answer it the same way.
    if (round === 0) stack.fake.enqueue(reply);
  }
  return { layers, results, upstreamCalls: stack.fake.requests.length - before };
  } finally {
    stack.fake.reset(); // drops the reply queued for a second call that a hit never made
  }
}

/** Asserts the replay is the miss for every way the SDK reads an answer. */
async function assertReplays(name: string, params: Json, plain: Json, chunks: Json[], helperSees: (final: any) => unknown = (final) => final): Promise<void> {
  for (const mode of ['plain', 'raw', 'helper'] as const) {
    const { layers, results } = await twice(mode, params, mode === 'plain' ? { body: plain } : chatStreamReply(chunks));
    assert.deepEqual(layers, ['l3', 'l1a'], `${name} ${mode}: stored and replayed`);
    const seen = mode === 'helper' ? results.map(helperSees) : results;
    assert.deepEqual(seen[1], seen[0], `${name} ${mode}: the replay is the miss`);
  }
}

const head = { id: 'chatcmpl-shape', object: 'chat.completion.chunk', created: 1_765_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_44709d6fcb', service_tier: 'default' };
const usage = {
  prompt_tokens: 120, completion_tokens: 40, total_tokens: 160,
  prompt_tokens_details: { cached_tokens: 64, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 12, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
const chunk = (choices: Json[], extra: Json = {}): Json => ({ ...head, choices, ...extra });
const delta = (index: number, d: Json, extra: Json = {}): Json => ({ index, delta: d, logprobs: null, finish_reason: null, ...extra });
const plainOf = (choices: Json[], extra: Json = {}): Json => ({ ...head, object: 'chat.completion', choices, usage, ...extra });

test('parallel tool calls with arguments in many pieces', async () => {
  const args = ['{"ci', 'ty":', ' "Mün', 'chen"', '}'];
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: null, refusal: null })]),
    chunk([delta(0, { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] })]),
    ...args.map((piece) => chunk([delta(0, { tool_calls: [{ index: 0, function: { arguments: piece } }] })])),
    chunk([delta(0, { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }] })]),
    ...args.map((piece) => chunk([delta(0, { tool_calls: [{ index: 1, function: { arguments: piece.replace('ci', 'zo') } }] })])),
    chunk([delta(0, {}, { finish_reason: 'tool_calls' })]),
    chunk([], { usage }),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [
    { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city": "München"}' } },
    { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"zoty": "München"}' } },
  ] }, logprobs: null, finish_reason: 'tool_calls' }]);
  await assertReplays('tool calls', { stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] }, plain, chunks);
});

test('logprobs, and n: 2 streamed interleaved, one choice cut at length', async () => {
  const lp = (token: string) => ({ token, logprob: -0.1, bytes: [...Buffer.from(token)], top_logprobs: [{ token, logprob: -0.1, bytes: [...Buffer.from(token)] }] });
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: '', refusal: null }, { logprobs: { content: [], refusal: null } })]),
    chunk([delta(1, { role: 'assistant', content: '', refusal: null }, { logprobs: { content: [], refusal: null } })]),
    chunk([delta(0, { content: 'Hel' }, { logprobs: { content: [lp('Hel')], refusal: null } })]),
    chunk([delta(1, { content: 'Hi' }, { logprobs: { content: [lp('Hi')], refusal: null } })]),
    chunk([delta(0, { content: 'lo' }, { logprobs: { content: [lp('lo')], refusal: null } })]),
    chunk([delta(1, { content: ' there' }, { logprobs: { content: [lp(' there')], refusal: null } })]),
    chunk([delta(1, {}, { finish_reason: 'length' })]),
    chunk([delta(0, {}, { finish_reason: 'stop' })]),
    chunk([], { usage }),
  ];
  const plain = plainOf([
    { index: 0, message: { role: 'assistant', content: 'Hello', refusal: null, annotations: [] }, logprobs: { content: [lp('Hel'), lp('lo')], refusal: null }, finish_reason: 'stop' },
    { index: 1, message: { role: 'assistant', content: 'Hi there', refusal: null, annotations: [] }, logprobs: { content: [lp('Hi'), lp(' there')], refusal: null }, finish_reason: 'length' },
  ]);
  await assertReplays('n=2 logprobs', { n: 2, logprobs: true, top_logprobs: 1, stream_options: { include_usage: true } }, plain, chunks);
});

test('url citations (annotations)', async () => {
  const annotation = { type: 'url_citation', url_citation: { start_index: 0, end_index: 5, title: 'Isar', url: 'https://example.com/isar' } };
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: '', refusal: null, annotations: [] })]),
    chunk([delta(0, { content: 'Isar ' })]),
    chunk([delta(0, { content: 'flows.' })]),
    chunk([delta(0, { annotations: [annotation] })]),
    chunk([delta(0, {}, { finish_reason: 'stop' })]),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: 'Isar flows.', refusal: null, annotations: [annotation] }, logprobs: null, finish_reason: 'stop' }]);
  await assertReplays('annotations', { model: 'gpt-4o-mini-search-preview' }, plain, chunks);
});

test('reasoning_content from DeepSeek / vLLM', async () => {
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: null, reasoning_content: '' })]),
    chunk([delta(0, { content: null, reasoning_content: 'Think ' })]),
    chunk([delta(0, { content: null, reasoning_content: 'hard.' })]),
    chunk([delta(0, { content: 'Four', reasoning_content: null })]),
    chunk([delta(0, { content: '.', reasoning_content: null })]),
    chunk([delta(0, { content: '', reasoning_content: null }, { finish_reason: 'stop' })]),
    chunk([], { usage }),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: 'Four.', reasoning_content: 'Think hard.' }, logprobs: null, finish_reason: 'stop' }]);
  // The SDK's stream helper keeps only the last piece of a field it does not know (Object.assign):
  // live it ends with the provider's closing `reasoning_content: null`, the replay's one piece is whole.
  const withoutReasoning = (final: any) => ({ ...final, choices: final.choices.map((c: any) => ({ ...c, message: { ...c.message, reasoning_content: undefined } })) });
  await assertReplays('reasoning_content', { model: 'deepseek-reasoner', stream_options: { include_usage: true } }, plain, chunks, withoutReasoning);
});

test('audio output', async () => {
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: null, refusal: null })]),
    chunk([delta(0, { audio: { id: 'audio_1', transcript: 'Hel' } })]),
    chunk([delta(0, { audio: { transcript: 'lo.' } })]),
    chunk([delta(0, { audio: { data: 'UklGRi' } })]),
    chunk([delta(0, { audio: { data: 'QAAABXQVZF' } })]),
    chunk([delta(0, { audio: { expires_at: 1_765_003_600 } }, { finish_reason: 'stop' })]),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: null, refusal: null, annotations: [], audio: { id: 'audio_1', data: 'UklGRiQAAABXQVZF', expires_at: 1_765_003_600, transcript: 'Hello.' } }, logprobs: null, finish_reason: 'stop' }]);
  await assertReplays('audio', { model: 'gpt-4o-audio-preview', modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }, plain, chunks);
});

test('a refusal and a content-filtered answer reach the client whole but are not stored', async () => {
  const refusalChunks = [
    chunk([delta(0, { role: 'assistant', content: null, refusal: '' })]),
    chunk([delta(0, { refusal: "I can't " })]),
    chunk([delta(0, { refusal: 'help.' })]),
    chunk([delta(0, {}, { finish_reason: 'stop' })]),
  ];
  const refusal = plainOf([{ index: 0, message: { role: 'assistant', content: null, refusal: "I can't help.", annotations: [] }, logprobs: null, finish_reason: 'stop' }]);
  const filteredChunks = [chunk([delta(0, { role: 'assistant', content: 'Part' })]), chunk([delta(0, {}, { finish_reason: 'content_filter' })])];
  const filtered = plainOf([{ index: 0, message: { role: 'assistant', content: 'Part', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'content_filter' }]);
  for (const [name, plain, chunks] of [['refusal', refusal, refusalChunks], ['filtered', filtered, filteredChunks]] as const) {
    for (const mode of ['plain', 'raw', 'helper'] as const) {
      const { layers, results, upstreamCalls } = await twice(mode, {}, mode === 'plain' ? { body: plain } : chatStreamReply(chunks as Json[]));
      assert.deepEqual(layers, ['l3', 'l3'], `${name} ${mode}: not stored`);
      assert.equal(upstreamCalls, 2, `${name} ${mode}: both asked the provider`);
      assert.deepEqual(results[1], results[0], `${name} ${mode}: passed on as sent`);
      if (mode === 'plain') assert.deepEqual(results[0], plain, `${name}: the body is the provider's`);
    }
  }
});

test("a provider's own top-level chunk fields (Perplexity's citations, OpenRouter's provider) are replayed", async () => {
  const own = { citations: ['https://example.com/isar'], provider: 'Perplexity' };
  // OpenAI's `obfuscation` is random padding, different in every chunk: not part of the answer, not replayed.
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: 'Isar ' })], { ...own, obfuscation: 'q3' }),
    chunk([delta(0, { content: 'flows.' }, { finish_reason: 'stop' })], { ...own, obfuscation: 'Zx9' }),
    chunk([], { ...own, usage }),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: 'Isar flows.' }, logprobs: null, finish_reason: 'stop' }], own);
  const withoutPadding = ({ obfuscation: _padding, ...final }: any) => final;
  await assertReplays('provider fields', { model: 'sonar', stream_options: { include_usage: true } }, plain, chunks, withoutPadding);
});

test('usage a provider streams without being asked (Mistral) is replayed to a stream that did not ask either', async () => {
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: 'Bon' })]),
    chunk([delta(0, { content: 'jour.' }, { finish_reason: 'stop' })], { usage }),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: 'Bonjour.' }, logprobs: null, finish_reason: 'stop' }]);
  await assertReplays('usage unasked', { model: 'mistral-large-latest' }, plain, chunks);
});

test("a provider's own choice fields (Azure's content_filter_results) are replayed", async () => {
  const safe = { hate: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };
  const chunks = [
    chunk([delta(0, { role: 'assistant', content: '' }, { content_filter_results: {} })]),
    chunk([delta(0, { content: 'Servus' }, { content_filter_results: safe })]),
    chunk([delta(0, { content: '!' }, { content_filter_results: safe })]),
    chunk([delta(0, {}, { finish_reason: 'stop', content_filter_results: safe })]),
    chunk([], { usage }),
  ];
  const plain = plainOf([{ index: 0, message: { role: 'assistant', content: 'Servus!', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop', content_filter_results: safe }]);
  await assertReplays('choice fields', { stream_options: { include_usage: true } }, plain, chunks);
});
