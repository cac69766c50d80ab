/**
 * The OpenAI Responses API through the proxy with the official SDK (`responses.create`,
 * `responses.stream`) against a fake upstream that speaks the Responses wire format: forwarding,
 * L1a replays in both modes, tools, structured output, and the requests that must never be cached.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type OpenAI from 'openai';
import { OPENAI_KEY, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const client = (): OpenAI => stack.openai();

/** Every event of an SDK response stream, and the final response it rebuilt. */
async function streamAll(params: Parameters<OpenAI['responses']['stream']>[0]) {
  const stream = client().responses.stream(params);
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  return { types, final: await stream.finalResponse() };
}

test('a plain response is forwarded with every field and the client headers, answered from l3, then from L1a', async () => {
  const request = {
    model: 'gpt-5-mini',
    instructions: 'Answer briefly.',
    input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text: 'plain responses hello' }] }],
    reasoning: { effort: 'low' as const },
    include: ['reasoning.encrypted_content' as const],
    max_output_tokens: 200,
  };
  const before = stack.fake.requests.length;
  const first = await client().responses.create(request).withResponse();
  assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
  assert.match(first.data.output_text, /to: plain responses hello$/);
  const received = stack.fake.requests[before]!;
  assert.equal(received.path, '/v1/responses');
  assert.deepEqual(received.json, request);
  assert.equal(received.headers['authorization'], `Bearer ${OPENAI_KEY}`);

  const second = await client().responses.create(request).withResponse();
  assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(stack.fake.requests.length, before + 1, 'the repeat did not reach the upstream');
  assert.deepEqual(second.data, first.data);
});

test('a streamed response passes its typed events through, is stored, and replays as a stream the SDK rebuilds', async () => {
  const request = { model: 'gpt-5-mini', input: 'stream responses please' };
  const before = stack.fake.requests.length;
  const live = await streamAll(request);
  assert.deepEqual(live.types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
  assert.ok(live.types.filter((type) => type === 'response.output_text.delta').length > 1, 'text arrives in several deltas');
  assert.equal(live.types.at(-1), 'response.completed');
  assert.match(live.final.output_text, /to: stream responses please$/);

  const replay = await streamAll(request);
  assert.equal(stack.fake.requests.length, before + 1, 'the replay did not reach the upstream');
  assert.equal(replay.final.output_text, live.final.output_text);
  assert.deepEqual(replay.final.output, live.final.output);
  assert.deepEqual(replay.final.usage, live.final.usage);
  for (const type of ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']) {
    assert.ok(replay.types.includes(type), `the replay sends ${type}`);
  }

  // A plain request for the same input is answered from the entry the stream stored.
  const plain = await client().responses.create(request).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(plain.data.output_text, live.final.output_text);
});

/** The JSON payloads of an SSE text's events, in order. */
function ssePayloads(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n'))
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

test('a stream that breaks off or ends before response.completed ends in an error event numbered after the last event', async () => {
  for (const cut of [{ breakAfterEvents: 5 }, { endAfterEvents: 5 }]) {
    stack.fake.enqueue(cut);
    const response = await client().responses.create({ model: 'gpt-5-mini', input: `cut responses stream ${JSON.stringify(cut)}`, stream: true }).asResponse();
    const events = ssePayloads(await response.text());
    assert.equal(events.length, 6, `${JSON.stringify(cut)}: five upstream events and the proxy's error`);
    assert.equal(events.at(-1)!.type, 'error');
    assert.equal(events.at(-1)!.code, 'upstream_stream_broken');
    // Every Responses event carries its sequence number, the proxy's error event included.
    assert.deepEqual(events.map((event) => event.sequence_number), [0, 1, 2, 3, 4, 5], JSON.stringify(cut));
  }
});

/**
 * A live Responses stream with a reasoning item, written as OpenAI sends one: the item announced
 * with an empty summary, each summary part added, its text in deltas, done, then the message. With
 * `rawText`, as open-weight models (gpt-oss) send their chain of thought: `reasoning_text` content
 * parts streamed the same way, and no summary.
 */
function reasoningStream(model: string, rawText = false): string {
  const reasoning: { id: string; type: string; summary: { type: string; text: string }[]; content?: { type: string; text: string }[] } = rawText
    ? { id: 'rs_live_2', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Six sevens: 7+7+7+7+7+7 = 42.' }] }
    : { id: 'rs_live_1', type: 'reasoning', summary: [{ type: 'summary_text', text: '**Planning** Think it through.' }, { type: 'summary_text', text: 'Then answer briefly.' }] };
  const message = { id: 'msg_live_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Forty-two.', annotations: [], logprobs: [] }] };
  const response = (status: string, output: unknown[]) => ({
    id: 'resp_live_reasoning', object: 'response', created_at: 1_760_000_000, status, error: null, incomplete_details: null, model, output,
    reasoning: { effort: 'low', summary: 'auto' }, store: true, metadata: {}, tools: [], tool_choice: 'auto', parallel_tool_calls: true, text: { format: { type: 'text' } },
    usage: status === 'completed' ? { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 20 }, total_tokens: 42 } : null,
  });
  const at = { item_id: reasoning.id, output_index: 0 };
  const text = { item_id: message.id, output_index: 1, content_index: 0 };
  const events: Array<Record<string, unknown>> = [
    { type: 'response.created', response: response('in_progress', []) },
    { type: 'response.in_progress', response: response('in_progress', []) },
    { type: 'response.output_item.added', output_index: 0, item: { ...reasoning, summary: [], ...(reasoning.content ? { content: [] } : {}) } },
  ];
  (reasoning.content ?? []).forEach((part, contentIndex) => {
    const where = { ...at, content_index: contentIndex };
    events.push({ type: 'response.content_part.added', ...where, part: { type: 'reasoning_text', text: '' } });
    for (const delta of part.text.match(/.{1,8}/gs)!) events.push({ type: 'response.reasoning_text.delta', ...where, delta });
    events.push({ type: 'response.reasoning_text.done', ...where, text: part.text });
    events.push({ type: 'response.content_part.done', ...where, part });
  });
  reasoning.summary.forEach((part, summaryIndex) => {
    const where = { ...at, summary_index: summaryIndex };
    events.push({ type: 'response.reasoning_summary_part.added', ...where, part: { type: 'summary_text', text: '' } });
    for (const delta of part.text.match(/.{1,8}/gs)!) events.push({ type: 'response.reasoning_summary_text.delta', ...where, delta });
    events.push({ type: 'response.reasoning_summary_text.done', ...where, text: part.text });
    events.push({ type: 'response.reasoning_summary_part.done', ...where, part });
  });
  events.push(
    { type: 'response.output_item.done', output_index: 0, item: reasoning },
    { type: 'response.output_item.added', output_index: 1, item: { ...message, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', ...text, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } },
    { type: 'response.output_text.delta', ...text, delta: 'Forty-two.', logprobs: [] },
    { type: 'response.output_text.done', ...text, text: 'Forty-two.', logprobs: [] },
    { type: 'response.content_part.done', ...text, part: message.content[0] },
    { type: 'response.output_item.done', output_index: 1, item: message },
    { type: 'response.completed', response: response('completed', [reasoning, message]) },
  );
  return events.map((event, sequence) => `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`).join('');
}

/** Event types in order, a run of one delta type counted once: a provider chunks text as it likes, a replay sends each text in one delta. */
function typeSequence(types: string[]): string[] {
  return types.filter((type, i) => !(type.endsWith('.delta') && types[i - 1] === type));
}

test('a reasoning item with a summary replays as a live stream sends it: summary parts added, text deltas, done', async () => {
  const request = { model: 'gpt-5-mini', input: 'what is six times seven?', reasoning: { effort: 'low' as const, summary: 'auto' as const } };
  stack.fake.enqueue({ body: reasoningStream(request.model), headers: { 'content-type': 'text/event-stream' } });
  const before = stack.fake.requests.length;
  const live = await streamAll(request);
  const replay = await streamAll(request);
  assert.equal(stack.fake.requests.length, before + 1, 'the replay did not reach the upstream');
  assert.ok(live.types.includes('response.reasoning_summary_text.delta'), 'the live stream streamed its summary');
  assert.deepEqual(typeSequence(replay.types), typeSequence(live.types));
  assert.deepEqual(replay.final.output, live.final.output, 'the SDK rebuilds the same reasoning item and message');
});

test('a reasoning item with raw reasoning text (open-weight models) replays its text as deltas, not whole', async () => {
  const request = { model: 'gpt-oss-120b', input: 'what is six times seven, step by step?', reasoning: { effort: 'low' as const } };
  stack.fake.enqueue({ body: reasoningStream(request.model, true), headers: { 'content-type': 'text/event-stream' } });
  const before = stack.fake.requests.length;
  const live = await streamAll(request);
  const replay = await streamAll(request);
  assert.equal(stack.fake.requests.length, before + 1, 'the replay did not reach the upstream');
  assert.ok(live.types.includes('response.reasoning_text.delta'), 'the live stream streamed its reasoning text');
  assert.deepEqual(typeSequence(replay.types), typeSequence(live.types));
  assert.deepEqual(replay.final.output, live.final.output, 'the SDK rebuilds the same reasoning item and message');
});

test('function calls: tools forwarded, call items and outputs sent back as input items, replay streamed with the call', async () => {
  const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Weather for a city', strict: true, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } }];
  stack.fake.enqueue({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Munich' } }] });
  const ask = { model: 'gpt-5-mini', input: 'weather in Munich?', tools, tool_choice: 'auto' as const };
  const before = stack.fake.requests.length;
  const live = await streamAll(ask);
  const call = live.final.output.find((item) => item.type === 'function_call');
  assert.ok(call && call.type === 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Munich' });
  assert.ok(live.types.includes('response.function_call_arguments.delta'));
  assert.deepEqual(stack.fake.requests[before]!.json.tools, tools);

  const replay = await streamAll(ask);
  assert.equal(stack.fake.requests.length, before + 1);
  assert.deepEqual(replay.final.output, live.final.output, 'the SDK rebuilds the same call from the replayed events');
  assert.ok(replay.types.includes('response.function_call_arguments.delta'));

  const followUp = {
    model: 'gpt-5-mini',
    tools,
    input: [
      { role: 'user' as const, content: 'weather in Munich?' },
      { type: 'function_call' as const, call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output' as const, call_id: call.call_id, output: '{"temp":21}' },
    ],
  };
  const answer = await client().responses.create(followUp);
  assert.match(answer.output_text, /to: tool result$/);
  assert.deepEqual(stack.fake.requests.at(-1)!.json.input, followUp.input);
  const again = await client().responses.create(followUp).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l1a');
});

test('structured output: text.format is forwarded and part of the key; the SDK parses a replay', async () => {
  const format = { type: 'json_schema' as const, name: 'city', strict: true, schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } };
  const request = { model: 'gpt-5-mini', input: 'name a city', text: { format } };
  stack.fake.enqueue({ text: '{"name":"Munich"}' });
  const before = stack.fake.requests.length;
  const live = await client().responses.parse(request);
  assert.deepEqual(live.output_parsed, { name: 'Munich' });
  assert.deepEqual(stack.fake.requests[before]!.json.text, { format });
  const replay = await client().responses.parse(request);
  assert.deepEqual(replay.output_parsed, { name: 'Munich' });
  assert.equal(stack.fake.requests.length, before + 1);
  // Another schema is another question.
  await client().responses.create({ ...request, text: { format: { ...format, name: 'town' } } });
  assert.equal(stack.fake.requests.length, before + 2);
});

test('previous_response_id and conversation are never answered from a cache nor stored; store: true is the default, store: false another request', async () => {
  const before = stack.fake.requests.length;
  const chained = { model: 'gpt-5-mini', input: 'and then?', previous_response_id: 'resp_earlier_1' };
  const first = await client().responses.create(chained).withResponse();
  const second = await client().responses.create(chained).withResponse();
  assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(second.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, before + 2);
  assert.equal(stack.fake.requests.at(-1)!.json.previous_response_id, 'resp_earlier_1');

  const inConversation = { model: 'gpt-5-mini', input: 'hello conversation', conversation: 'conv_123' };
  await client().responses.create(inConversation);
  await client().responses.create(inConversation);
  assert.equal(stack.fake.requests.length, before + 4);
  // Nothing was stored either: the same input without the conversation is a miss.
  const alone = await client().responses.create({ model: 'gpt-5-mini', input: 'hello conversation' }).withResponse();
  assert.equal(alone.response.headers.get('x-isartor-layer'), 'l3');

  const stored = await client().responses.create({ model: 'gpt-5-mini', input: 'hello conversation', store: true }).withResponse();
  assert.equal(stored.response.headers.get('x-isartor-layer'), 'l1a', 'store: true hits the entry of the same request without it');
  assert.equal((stored.data as unknown as { store: boolean }).store, true);
  const unstored = await client().responses.create({ model: 'gpt-5-mini', input: 'hello conversation', store: false }).withResponse();
  assert.equal(unstored.response.headers.get('x-isartor-layer'), 'l3', 'a response the provider kept is not one it did not: another request');
  assert.equal((unstored.data as unknown as { store: boolean }).store, false);

  // The other way round matters more: an answer the provider never kept must not be handed to a
  // request that will continue it by its id.
  const unkept = { model: 'gpt-5-mini', input: 'not kept by the provider', store: false };
  assert.equal((await client().responses.create(unkept).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  assert.equal((await client().responses.create(unkept).withResponse()).response.headers.get('x-isartor-layer'), 'l1a');
  const kept = await client().responses.create({ ...unkept, store: true }).withResponse();
  assert.equal(kept.response.headers.get('x-isartor-layer'), 'l3', 'store: true never gets the id of a response stored with store: false');
  const byDefault = await client().responses.create({ model: 'gpt-5-mini', input: 'not kept by the provider' }).withResponse();
  assert.equal(byDefault.response.headers.get('x-isartor-layer'), 'l1a', 'store absent means true: the entry just stored');
});

test('background requests pass through uncached', async () => {
  const before = stack.fake.requests.length;
  const request = { model: 'gpt-5-mini', input: 'long job', background: true };
  await client().responses.create(request);
  const again = await client().responses.create(request).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, before + 2);
});

test('retrieve, delete, cancel and input_items pass through untouched, on the default route and a tool route', async () => {
  const before = stack.fake.requests.length;
  const retrieved = await client().responses.retrieve('resp_abc123', { include: ['reasoning.encrypted_content'] });
  assert.equal(retrieved.id, 'resp_abc123');
  await client().responses.delete('resp_abc123');
  const cancelled = await client().responses.cancel('resp_abc123');
  assert.equal(cancelled.status, 'cancelled');
  const items = await client().responses.inputItems.list('resp_abc123', { limit: 5 });
  assert.deepEqual(items.data, []);
  const seen = stack.fake.requests.slice(before).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(seen, [
    'GET /v1/responses/resp_abc123?include%5B%5D=reasoning.encrypted_content',
    'DELETE /v1/responses/resp_abc123',
    'POST /v1/responses/resp_abc123/cancel',
    'GET /v1/responses/resp_abc123/input_items?limit=5',
  ]);
  assert.ok(stack.fake.requests.slice(before).every((r) => r.headers['authorization'] === `Bearer ${OPENAI_KEY}`));

  // A body on a GET or DELETE is the client's business: it reaches the provider as sent.
  for (const method of ['GET', 'DELETE']) {
    // node:http, as fetch refuses a GET with a body.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${stack.proxy.url}/v1/responses/resp_abc123`, { method, headers: { authorization: `Bearer ${OPENAI_KEY}`, 'content-type': 'application/json', 'content-length': '15' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject).end('{"with":"body"}');
    });
    assert.equal(status, 200);
    assert.equal(stack.fake.requests.at(-1)!.method, method);
    assert.equal(stack.fake.requests.at(-1)!.rawBody.toString(), '{"with":"body"}', method);
  }

  const route = stack.proxy.addRoute({ providers: stack.config.upstream.providers, tool: 'codex' });
  const viaRoute = stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1` });
  assert.equal((await viaRoute.responses.retrieve('resp_route_1')).id, 'resp_route_1');
  const unknown = await fetch(`${stack.proxy.url}/r/${'0'.repeat(32)}/v1/responses/resp_x`, { headers: { authorization: `Bearer ${OPENAI_KEY}` } });
  assert.equal(unknown.status, 404);
});

test('bad Responses input gets an OpenAI-shaped 400', async () => {
  const res = await postRaw(`${stack.proxy.url}/v1/responses`, JSON.stringify({ model: 'gpt-5-mini', input: 42 }), { authorization: `Bearer ${OPENAI_KEY}` });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.param, 'input');
  const wrongMethod = await fetch(`${stack.proxy.url}/v1/responses/resp_1/cancel`, { headers: { authorization: `Bearer ${OPENAI_KEY}` } });
  assert.equal(wrongMethod.status, 405);
});
