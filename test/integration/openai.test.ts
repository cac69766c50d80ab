/**
 * The official OpenAI SDK against the proxy and a fake upstream: plain and streamed answers,
 * verbatim forwarding, tool-call round trips, L1a replays in both streaming modes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPENAI_KEY, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

test('a plain chat completion is forwarded byte for byte with the client headers, and answered from l3', async () => {
  const client = stack.openai({ defaultHeaders: { 'OpenAI-Organization': 'org-test', 'X-Custom-Trace': 'abc' } });
  const before = stack.fake.requests.length;
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain hello' }], temperature: 0.2, seed: 7 })
    .withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(response.headers.get('x-isartor-deflected'), 'false');
  assert.match(data.choices[0]!.message.content ?? '', /to: plain hello$/);
  const received = stack.fake.requests[before]!;
  assert.equal(received.path, '/v1/chat/completions');
  assert.deepEqual(received.json, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'plain hello' }], temperature: 0.2, seed: 7 });
  assert.equal(received.headers['authorization'], `Bearer ${OPENAI_KEY}`);
  assert.equal(received.headers['openai-organization'], 'org-test');
  assert.equal(received.headers['x-custom-trace'], 'abc');
});

test('the exact bytes the client sent reach the upstream, including key order and whitespace', async () => {
  const raw = '{ "messages": [ {"content":"bytes matter","role":"user"} ],\n  "model":"gpt-4o-mini", "n": 1 }';
  const before = stack.fake.requests.length;
  const res = await postRaw(`${stack.proxy.url}/v1/chat/completions`, raw, { authorization: `Bearer ${OPENAI_KEY}` });
  assert.equal(res.status, 200);
  assert.equal(stack.fake.requests[before]!.rawBody.toString('utf8'), raw);
});

test('a streamed answer arrives chunk by chunk and the SDK accumulates it', async () => {
  const stream = await client().chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream me' }], stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let usage: unknown;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks > 3, `expected several chunks, got ${chunks}`);
  assert.match(text, /to: stream me$/);
  assert.ok(usage, 'the usage chunk passes through');
});

function client() {
  return stack.openai();
}

test('a repeat is served from L1a, plain and streamed, parsed by the SDK', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'repeat me' }] };
  const first = await client().chat.completions.create(request).withResponse();
  const upstreamCalls = stack.fake.requests.length;
  const second = await client().chat.completions.create(request).withResponse();
  assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(second.response.headers.get('x-isartor-deflected'), 'true');
  assert.deepEqual(second.data, first.data);
  assert.equal(stack.fake.requests.length, upstreamCalls, 'the repeat did not reach the upstream');

  // The same request streamed: a hit on the entry the plain request stored.
  const { data: stream, response } = await client().chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l1a');
  let text = '';
  let usage: unknown;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, first.data.choices[0]!.message.content);
  assert.deepEqual(usage, first.data.usage);
  assert.equal(stack.fake.requests.length, upstreamCalls);
});

test('an answer stored from a stream serves a later plain request, and the SDK stream helper replays it', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'stored from a stream' }] };
  let streamed = '';
  // With the provider's usage: a stream without it stores an estimate, never replayed as usage (replay-usage.test.ts).
  for await (const chunk of await client().chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })) streamed += chunk.choices[0]?.delta.content ?? '';
  const calls = stack.fake.requests.length;
  const plain = await client().chat.completions.create(request).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(plain.data.choices[0]!.message.content, streamed);
  const helper = await client().chat.completions.stream(request).finalChatCompletion();
  assert.equal(helper.choices[0]!.message.content, streamed);
  assert.equal(stack.fake.requests.length, calls);
});

test('tool calls round-trip: tools and tool_choice forwarded, tool results sent back, replay from L1a', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  stack.fake.enqueue({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: { city: 'Munich' } }] });
  const first = await client().chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Munich?' }], tools, tool_choice: 'auto', parallel_tool_calls: false, stream: true,
    // The provider's usage, so the plain replay below reports it (an estimate is never replayed as usage).
    stream_options: { include_usage: true },
  });
  const calls: Record<number, { id?: string; name?: string; args: string }> = {};
  for await (const chunk of first) {
    for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
      const slot = (calls[call.index] ??= { args: '' });
      slot.id ??= call.id;
      slot.name ??= call.function?.name;
      slot.args += call.function?.arguments ?? '';
    }
  }
  assert.deepEqual(calls[0], { id: 'call_w1', name: 'get_weather', args: '{"city":"Munich"}' });
  const sent = stack.fake.requests.at(-1)!.json;
  assert.deepEqual(sent.tools, tools);
  assert.equal(sent.tool_choice, 'auto');
  assert.equal(sent.parallel_tool_calls, false);

  const followUp = [
    { role: 'user' as const, content: 'Weather in Munich?' },
    { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_w1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Munich"}' } }] },
    { role: 'tool' as const, tool_call_id: 'call_w1', content: '{"temp_c":21}' },
  ];
  const answer = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: followUp, tools });
  assert.match(answer.choices[0]!.message.content ?? '', /^Answer/);
  assert.deepEqual(stack.fake.requests.at(-1)!.json.messages, followUp);

  // The tool-call answer replays from L1a as a plain response with the same tool call.
  const replay = await client().chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Munich?' }], tools, tool_choice: 'auto', parallel_tool_calls: false })
    .withResponse();
  assert.equal(replay.response.headers.get('x-isartor-layer'), 'l1a');
  const call = replay.data.choices[0]!.message.tool_calls![0]!;
  assert.equal(call.id, 'call_w1');
  assert.equal(call.type === 'function' ? call.function.arguments : '', '{"city":"Munich"}');
  assert.equal(replay.data.choices[0]!.finish_reason, 'tool_calls');
});

test('legacy completions are answered and replayed from L1a', async () => {
  const first = await client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'def add(a, b):', max_tokens: 20 }).withResponse();
  assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
  const second = await client().completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'def add(a, b):', max_tokens: 20, stream: true }).withResponse();
  assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
  let text = '';
  for await (const chunk of second.data) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, first.data.choices[0]!.text);
});

test('embeddings and models are forwarded', async () => {
  const embedding = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'vector me' }).withResponse();
  assert.deepEqual(embedding.data.data[0]!.embedding, [0.5, 0.25, -1]);
  assert.equal(embedding.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.at(-1)!.path, '/v1/embeddings');
  const models = [];
  for await (const model of client().models.list()) models.push(model.id);
  assert.deepEqual(models, ['fake-gpt']);
});
