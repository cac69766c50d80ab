/**
 * Messages: for each answer shape (thinking with its signature, redacted thinking, a tool input in
 * pieces cut inside a character, server tools and their results, citations, every stop reason,
 * usage with its cache and server-tool breakdowns, a container), what `@anthropic-ai/sdk` sees from
 * the L1a replay is what it saw from the miss: `create`, the raw events, `stream().finalMessage()`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeReply } from '../../src/bench/fakeUpstream';
import { startStack, type Stack } from './helpers';
import { typedStreamReply } from './replay-shapes-helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Json = Record<string, any>;

/** What a raw event stream adds up to, read independently of the SDK's helper: the start, each block, the end. */
function foldEvents(events: Json[]): Json {
  const blocks: Json[] = [];
  let start: Json | undefined;
  const ends: Json[] = [];
  const types: string[] = [];
  for (const event of events) {
    if (event.type !== 'ping') types.push(event.type === 'content_block_delta' ? `delta:${event.delta.type}` : event.type);
    if (event.type === 'message_start') start = event.message;
    if (event.type === 'content_block_start') blocks[event.index] = { start: event.content_block, text: {}, citations: [], json: '' };
    if (event.type === 'content_block_delta') {
      const block = blocks[event.index]!;
      const { type, ...delta } = event.delta;
      if (type === 'input_json_delta') block.json += delta.partial_json;
      else if (type === 'citations_delta') block.citations.push(delta.citation);
      else if (type === 'signature_delta') block.signature = delta.signature;
      else for (const [key, value] of Object.entries(delta)) block.text[key] = (block.text[key] ?? '') + value;
    }
    if (event.type === 'message_delta') ends.push({ delta: event.delta, usage: event.usage });
  }
  for (const block of blocks) if (block.json !== '') block.json = JSON.parse(block.json);
  // Event kinds in order, with runs of the same kind as one: how the text is cut is the provider's.
  const kinds = types.filter((type, i) => type !== types[i - 1]);
  return { start, blocks, ends, kinds };
}

let serial = 0;

/** Sends the request twice in one mode; the first (and any second that misses) is answered by `reply`. */
async function twice(mode: 'plain' | 'raw' | 'helper', params: Json, reply: FakeReply): Promise<{ layers: string[]; results: unknown[]; upstreamCalls: number }> {
  const request = { model: 'claude-sonnet-4-5', max_tokens: 1024, ...params, messages: [{ role: 'user', content: `shape ${++serial}` }] };
  let upstreamCalls = 0;
  const layers: string[] = [];
  const results: unknown[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      stack.fake.enqueue(reply);
      const asked = stack.fake.requests.length;
      if (mode === 'plain') results.push(await stack.anthropic().messages.create(request as never));
      else if (mode === 'raw') {
        const events: Json[] = [];
        for await (const event of await stack.anthropic().messages.create({ ...request, stream: true } as never) as unknown as AsyncIterable<Json>) events.push(event);
        results.push(foldEvents(events));
      } else results.push(await stack.anthropic().messages.stream(request as never).finalMessage());
      upstreamCalls += stack.fake.requests.length - asked;
      layers.push(stack.fake.requests.length > asked ? 'l3' : 'l1a');
      stack.fake.reset(); // a hit leaves its reply queued
    }
    return { layers, results, upstreamCalls };
  } finally {
    stack.fake.reset();
  }
}

/** A message as the API returns it, and the events that stream it. */
interface Shape {
  message: Json;
  events: Json[];
}

async function assertReplays(name: string, shape: Shape, params: Json = {}, stored = true): Promise<void> {
  for (const mode of ['plain', 'raw', 'helper'] as const) {
    const { layers, results, upstreamCalls } = await twice(mode, params, mode === 'plain' ? { body: shape.message } : typedStreamReply(shape.events as never));
    assert.deepEqual(layers, stored ? ['l3', 'l1a'] : ['l3', 'l3'], `${name} ${mode}: ${stored ? 'stored and replayed' : 'never stored'}`);
    assert.equal(upstreamCalls, stored ? 1 : 2);
    assert.deepEqual(results[1], results[0], `${name} ${mode}: the replay is the miss`);
    if (mode === 'plain') assert.deepEqual(results[0], shape.message, `${name}: the body is the provider's`);
  }
}

const usage = {
  input_tokens: 2095, cache_creation_input_tokens: 2051, cache_read_input_tokens: 0, output_tokens: 503,
  cache_creation: { ephemeral_5m_input_tokens: 2051, ephemeral_1h_input_tokens: 0 },
  server_tool_use: { web_search_requests: 1 },
  service_tier: 'standard',
};

/** Builds a shape from its final blocks and, per block, the deltas a live stream cuts it into. */
function shape(blocks: Array<{ block: Json; start: Json; deltas: Json[] }>, end: Json, extra: Json = {}): Shape {
  const message = { id: 'msg_shape', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: blocks.map((b) => b.block), stop_reason: end.stop_reason, stop_sequence: end.stop_sequence ?? null, stop_details: null, usage, ...extra, ...('container' in end ? { container: end.container } : {}) };
  const startUsage = { ...usage, output_tokens: 1 };
  const events: Json[] = [
    { type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, stop_details: null, usage: startUsage, ...('container' in end ? { container: null } : {}) } },
    { type: 'ping' },
  ];
  blocks.forEach(({ start, deltas }, index) => {
    events.push({ type: 'content_block_start', index, content_block: start });
    for (const delta of deltas) events.push({ type: 'content_block_delta', index, delta });
    events.push({ type: 'content_block_stop', index });
  });
  // The API's message_delta says how the message ended: its stop fields and its container.
  events.push({ type: 'message_delta', delta: { stop_reason: end.stop_reason, stop_sequence: end.stop_sequence ?? null, stop_details: null, ...('container' in end ? { container: end.container } : {}) }, usage: { ...usage } });
  events.push({ type: 'message_stop' });
  return { message, events };
}

const text = (value: string, pieces: string[] = [value]) => ({ block: { type: 'text', text: value }, start: { type: 'text', text: '' }, deltas: pieces.map((t) => ({ type: 'text_delta', text: t })) });

test('thinking with its signature, then a tool input cut inside a character', async () => {
  const input = { city: 'Zürich 😀', days: [1, 2] };
  const json = JSON.stringify(input);
  const cut = json.indexOf('😀') + 1; // between the two UTF-16 halves of the emoji
  const pieces = [json.slice(0, 5), json.slice(5, cut), json.slice(cut, cut + 3), json.slice(cut + 3)];
  const thinking = { block: { type: 'thinking', thinking: 'Let me check.', signature: 'EqQBCkYIBxgCKkA' }, start: { type: 'thinking', thinking: '', signature: '' }, deltas: [{ type: 'thinking_delta', thinking: 'Let me ' }, { type: 'thinking_delta', thinking: 'check.' }, { type: 'signature_delta', signature: 'EqQBCkYIBxgCKkA' }] };
  const tool = { block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input }, start: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }, deltas: [{ type: 'input_json_delta', partial_json: '' }, ...pieces.map((p) => ({ type: 'input_json_delta', partial_json: p }))] };
  await assertReplays('thinking + tool_use', shape([thinking, text('Checking.'), tool], { stop_reason: 'tool_use' }), { thinking: { type: 'enabled', budget_tokens: 1024 } });
});

test('redacted thinking, cut at max_tokens', async () => {
  const redacted = { block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' }, start: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' }, deltas: [] };
  await assertReplays('redacted_thinking', shape([redacted, text('The answer is', ['The ', 'answer is'])], { stop_reason: 'max_tokens' }));
});

test('web search: server_tool_use, its result, and text with citations', async () => {
  const search = { block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'isar length' } }, start: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }, deltas: [{ type: 'input_json_delta', partial_json: '{"query": "isar' }, { type: 'input_json_delta', partial_json: ' length"}' }] };
  const resultBlock = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', title: 'Isar', url: 'https://example.com/isar', encrypted_content: 'EqgfCioIARgBIiQ3', page_age: 'April 30, 2025' }] };
  const result = { block: resultBlock, start: resultBlock, deltas: [] };
  const citation = { type: 'web_search_result_location', url: 'https://example.com/isar', title: 'Isar', encrypted_index: 'Eo8BCioIAhgBIiQy', cited_text: 'The Isar is 295 km long.' };
  const cited = { block: { type: 'text', text: 'It is 295 km long.', citations: [citation] }, start: { type: 'text', text: '', citations: [] }, deltas: [{ type: 'citations_delta', citation }, { type: 'text_delta', text: 'It is 295 ' }, { type: 'text_delta', text: 'km long.' }] };
  await assertReplays('web search', shape([text('Let me search.'), search, result, cited], { stop_reason: 'end_turn' }), { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }] });
});

test('pause_turn, stop_sequence with its sequence, and a container', async () => {
  await assertReplays('pause_turn', shape([text('Searching on.')], { stop_reason: 'pause_turn' }));
  await assertReplays('stop_sequence', shape([text('One, two', ['One,', ' two'])], { stop_reason: 'stop_sequence', stop_sequence: '###' }), { stop_sequences: ['###'] });
  const container = { id: 'container_011CPR5CNjB747bTd36fQLFk', expires_at: '2025-12-08T01:00:00Z' };
  const code = { block: { type: 'server_tool_use', id: 'srvtoolu_2', name: 'code_execution', input: { code: 'print(1)' } }, start: { type: 'server_tool_use', id: 'srvtoolu_2', name: 'code_execution', input: {} }, deltas: [{ type: 'input_json_delta', partial_json: '{"code": "print(1)"}' }] };
  const resultBlock = { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_2', content: { type: 'code_execution_result', stdout: '1\n', stderr: '', return_code: 0, content: [] } };
  await assertReplays('container', shape([code, { block: resultBlock, start: resultBlock, deltas: [] }, text('It printed 1.')], { stop_reason: 'end_turn', container }), { tools: [{ type: 'code_execution_20250522', name: 'code_execution' }] });
});

test('a refusal reaches the client whole but is not stored', async () => {
  await assertReplays('refusal', shape([text('I can')], { stop_reason: 'refusal' }), {}, false);
});
