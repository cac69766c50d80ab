/**
 * Responses: for each output shape (reasoning with encrypted content and a summary, function and
 * custom tool calls, web and file search calls, text with annotations, several items at once), what
 * the official `openai` client sees from the L1a replay is what it saw from the miss: `create`, the
 * raw event sequence with its `sequence_number`s, and `responses.stream().finalResponse()`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeReply } from '../../src/bench/fakeUpstream';
import { startStack, type Stack } from './helpers';
import { numbered, typedStreamReply } from './replay-shapes-helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Json = Record<string, any>;

/**
 * What a raw event stream tells a client that reads it event by event: the kinds of events in
 * order (runs of one kind as one: how text is cut is the provider's), the text each delta kind adds
 * up to per place, every item as announced and as finished, and the final response.
 */
function foldEvents(events: Json[]): Json {
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i), 'sequence numbers run 0, 1, 2…');
  const kinds = events.map((e) => e.type).filter((type, i, all) => type !== all[i - 1]);
  const texts: Record<string, string> = {};
  const items: Json[] = [];
  let final: Json | undefined;
  for (const { type, sequence_number: _n, ...event } of events) {
    if (type.endsWith('.delta')) {
      const place = `${type} ${event.output_index}/${event.content_index ?? event.summary_index ?? ''}`;
      texts[place] = (texts[place] ?? '') + event.delta;
    } else if (type === 'response.output_item.added') items.push({ type, item: announced(event.item) });
    else if (type === 'response.output_item.done') items.push({ type, item: event.item });
    else if (type.endsWith('.done') || type.endsWith('.added') || type.includes('_call.')) items.push({ type, ...event });
    if (type === 'response.completed') final = event.response;
  }
  return { kinds, texts, items, final };
}

/**
 * A hosted search call as `output_item.added` announces it, without what the search finds out
 * (its query, its results): a replay has only the finished item, so it cannot say what the
 * provider had filled in by then; a client reads them from `output_item.done`.
 */
function announced(item: Json): Json {
  if (item.type === 'web_search_call') return { ...item, action: undefined };
  if (item.type === 'file_search_call') return { ...item, queries: undefined, results: undefined };
  return item;
}

let serial = 0;

async function twice(mode: 'plain' | 'raw' | 'helper', reply: FakeReply): Promise<{ layers: string[]; results: unknown[]; upstreamCalls: number }> {
  const request = { model: 'gpt-5', input: `shape ${++serial}` };
  let upstreamCalls = 0;
  const layers: string[] = [];
  const results: unknown[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      stack.fake.enqueue(reply);
      const asked = stack.fake.requests.length;
      if (mode === 'plain') results.push(await stack.openai().responses.create(request as never));
      else if (mode === 'raw') {
        const events: Json[] = [];
        for await (const event of await stack.openai().responses.create({ ...request, stream: true } as never) as unknown as AsyncIterable<Json>) events.push(event);
        results.push(foldEvents(events));
      } else results.push(await stack.openai().responses.stream(request as never).finalResponse());
      upstreamCalls += stack.fake.requests.length - asked;
      layers.push(stack.fake.requests.length > asked ? 'l3' : 'l1a');
      stack.fake.reset(); // a hit leaves its reply queued
    }
    return { layers, results, upstreamCalls };
  } finally {
    stack.fake.reset();
  }
}

const base = {
  id: 'resp_shape', object: 'response', created_at: 1_765_000_000, status: 'completed', background: false, error: null,
  incomplete_details: null, instructions: null, max_output_tokens: null, model: 'gpt-5-2025-08-07', parallel_tool_calls: true,
  previous_response_id: null, reasoning: { effort: 'medium', summary: 'auto' }, service_tier: 'default', store: true,
  temperature: 1, text: { format: { type: 'text' }, verbosity: 'medium' }, tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled',
  usage: { input_tokens: 300, input_tokens_details: { cached_tokens: 128 }, output_tokens: 90, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 390 },
  user: null, metadata: {}, prompt_cache_key: null, safety_identifier: null,
};

/** One output item: as finished, and the events a live stream sends for it between added and done. */
interface LiveItem {
  item: Json;
  added: Json;
  middle: (at: { output_index: number; item_id: string }) => Json[];
}

/** A response and its live event stream. */
function shape(items: LiveItem[], extra: Json = {}): { body: Json; events: Json[] } {
  const body = { ...base, ...extra, output: items.map((i) => i.item) };
  const pending = { ...body, status: 'in_progress', output: [], usage: null };
  const events: Json[] = [{ type: 'response.created', response: pending }, { type: 'response.in_progress', response: pending }];
  items.forEach(({ item, added, middle }, output_index) => {
    events.push({ type: 'response.output_item.added', output_index, item: added });
    events.push(...middle({ output_index, item_id: item.id }));
    events.push({ type: 'response.output_item.done', output_index, item });
  });
  events.push({ type: 'response.completed', response: body });
  return { body, events: numbered(events) };
}

/** A message item with one output_text part streamed in `pieces`, then its annotations. */
function message(id: string, pieces: string[], annotations: Json[] = []): LiveItem {
  const text = pieces.join('');
  const part = { type: 'output_text', text, annotations, logprobs: [] };
  return {
    item: { id, type: 'message', status: 'completed', role: 'assistant', content: [part] },
    added: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    middle: (at) => {
      const where = { ...at, content_index: 0 };
      return [
        { type: 'response.content_part.added', ...where, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } },
        ...pieces.map((delta) => ({ type: 'response.output_text.delta', ...where, delta, logprobs: [] })),
        ...annotations.map((annotation, annotation_index) => ({ type: 'response.output_text.annotation.added', ...where, annotation_index, annotation })),
        { type: 'response.output_text.done', ...where, text, logprobs: [] },
        { type: 'response.content_part.done', ...where, part },
      ];
    },
  };
}

function reasoning(id: string, summary: string[]): LiveItem {
  const text = summary.join('');
  const item = { id, type: 'reasoning', summary: [{ type: 'summary_text', text }], encrypted_content: 'gAAAAABo-encrypted' };
  return {
    item,
    added: { id, type: 'reasoning', summary: [], encrypted_content: 'gAAAAABo-encrypted' },
    middle: (at) => {
      const where = { ...at, summary_index: 0 };
      return [
        { type: 'response.reasoning_summary_part.added', ...where, part: { type: 'summary_text', text: '' } },
        ...summary.map((delta) => ({ type: 'response.reasoning_summary_text.delta', ...where, delta })),
        { type: 'response.reasoning_summary_text.done', ...where, text },
        { type: 'response.reasoning_summary_part.done', ...where, part: { type: 'summary_text', text } },
      ];
    },
  };
}

function functionCall(id: string, pieces: string[]): LiveItem {
  const args = pieces.join('');
  const item = { id, type: 'function_call', status: 'completed', arguments: args, call_id: `call_${id}`, name: 'get_weather' };
  return {
    item,
    added: { ...item, status: 'in_progress', arguments: '' },
    middle: (at) => [
      ...pieces.map((delta) => ({ type: 'response.function_call_arguments.delta', ...at, delta })),
      { type: 'response.function_call_arguments.done', ...at, arguments: args },
    ],
  };
}

function customToolCall(id: string, pieces: string[]): LiveItem {
  const input = pieces.join('');
  const item = { id, type: 'custom_tool_call', status: 'completed', call_id: `call_${id}`, input, name: 'apply_patch' };
  return {
    item,
    added: { ...item, status: 'in_progress', input: '' },
    middle: (at) => [
      ...pieces.map((delta) => ({ type: 'response.custom_tool_call_input.delta', ...at, delta })),
      { type: 'response.custom_tool_call_input.done', ...at, input },
    ],
  };
}

/** A hosted search call (`web_search_call`, `file_search_call`): announced in progress, its lifecycle events, then finished. */
function searchCall(kind: 'web_search_call' | 'file_search_call', item: Json, added: Json): LiveItem {
  return {
    item,
    added,
    middle: (at) => ['in_progress', 'searching', 'completed'].map((step) => ({ type: `response.${kind}.${step}`, ...at })),
  };
}

async function assertReplays(name: string, live: { body: Json; events: Json[] }, stored = true): Promise<void> {
  for (const mode of ['plain', 'raw', 'helper'] as const) {
    const { layers, results, upstreamCalls } = await twice(mode, mode === 'plain' ? { body: live.body } : typedStreamReply(live.events as never));
    assert.deepEqual(layers, stored ? ['l3', 'l1a'] : ['l3', 'l3'], `${name} ${mode}: ${stored ? 'stored and replayed' : 'never stored'}`);
    assert.equal(upstreamCalls, stored ? 1 : 2);
    assert.deepEqual(results[1], results[0], `${name} ${mode}: the replay is the miss`);
  }
}

const citation = { type: 'url_citation', start_index: 0, end_index: 4, title: 'Isar', url: 'https://example.com/isar' };

test('reasoning with encrypted content and a summary, a function call and a message: several items', async () => {
  await assertReplays('reasoning + call + message', shape([
    reasoning('rs_1', ['**Weighing** ', 'the options.']),
    functionCall('fc_1', ['{"ci', 'ty": "Mün', 'chen"}']),
    message('msg_1', ['Calling ', 'the tool.']),
  ]));
});

test('a custom tool call streams its input', async () => {
  await assertReplays('custom_tool_call', shape([customToolCall('ctc_1', ['*** Begin Patch\n', '*** End Patch\n'])]));
});

test('a web search call, then text with url citations', async () => {
  const done = { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'isar river' } };
  await assertReplays('web search', shape([
    searchCall('web_search_call', done, { id: 'ws_1', type: 'web_search_call', status: 'in_progress', action: { type: 'search' } }),
    message('msg_2', ['Isar ', 'flows north.'], [citation]),
  ], { tools: [{ type: 'web_search', search_context_size: 'medium' }] }));
});

test('a file search call with its results', async () => {
  const done = { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['isar'], results: [{ file_id: 'file-1', filename: 'isar.md', score: 0.9, text: 'The Isar…', attributes: {} }] };
  const cite = { type: 'file_citation', index: 3, file_id: 'file-1', filename: 'isar.md' };
  await assertReplays('file search', shape([
    searchCall('file_search_call', done, { id: 'fs_1', type: 'file_search_call', status: 'in_progress', queries: [], results: null }),
    message('msg_3', ['See ', 'the file.'], [cite]),
  ]));
});

test('a refusal and an incomplete answer reach the client whole but are not stored', async () => {
  const refusalPart = { type: 'refusal', refusal: "I can't help." };
  const refusal: LiveItem = {
    item: { id: 'msg_r', type: 'message', status: 'completed', role: 'assistant', content: [refusalPart] },
    added: { id: 'msg_r', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    middle: (at) => [
      { type: 'response.content_part.added', ...at, content_index: 0, part: { type: 'refusal', refusal: '' } },
      { type: 'response.refusal.delta', ...at, content_index: 0, delta: "I can't help." },
      { type: 'response.refusal.done', ...at, content_index: 0, refusal: "I can't help." },
      { type: 'response.content_part.done', ...at, content_index: 0, part: refusalPart },
    ],
  };
  await assertReplays('refusal', shape([refusal]), false);
  const cut = shape([message('msg_i', ['Half an ', 'answer'])], { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  cut.events.at(-1)!.type = 'response.incomplete';
  await assertReplays('incomplete', cut, false);
});

test('an answer from a server that sends no store, metadata or user (vLLM) replays without them', async () => {
  const live = shape([message('msg_v', ['Served ', 'by vLLM.'])]);
  for (const field of ['store', 'metadata', 'user', 'prompt_cache_key', 'safety_identifier']) {
    delete live.body[field];
    for (const event of live.events) if (event.response) delete event.response[field];
  }
  await assertReplays('no echoed fields', live);
});
