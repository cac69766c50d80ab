/**
 * The official Anthropic SDK against the proxy and a fake upstream: plain and streamed messages,
 * verbatim headers (anthropic-version, anthropic-beta), tool_use round trips, L1a replays.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ANTHROPIC_KEY, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const MODEL = 'claude-sonnet-5-5';

test('a plain message is forwarded with the client bytes and headers and answered from l3', async () => {
  const client = stack.anthropic({ defaultHeaders: { 'anthropic-beta': 'prompt-caching-2024-07-31', 'anthropic-version': '2023-06-01' } });
  const request = {
    model: MODEL,
    max_tokens: 256,
    system: [{ type: 'text' as const, text: 'You are terse.', cache_control: { type: 'ephemeral' as const } }],
    messages: [{ role: 'user' as const, content: 'plain hello' }],
  };
  const { data, response } = await client.messages.create(request).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  const block = data.content[0]!;
  assert.equal(block.type, 'text');
  assert.match(block.type === 'text' ? block.text : '', /to: plain hello$/);
  const received = stack.fake.requests.at(-1)!;
  assert.equal(received.path, '/v1/messages');
  assert.equal(received.rawBody.toString('utf8'), JSON.stringify(request));
  // This SDK sends its key as a bearer token; whichever header it used arrives untouched.
  assert.ok(received.headers['x-api-key'] === ANTHROPIC_KEY || received.headers['authorization'] === `Bearer ${ANTHROPIC_KEY}`);
  assert.equal(received.headers['anthropic-version'], '2023-06-01');
  assert.equal(received.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
});

test('a streamed message passes through event by event and the SDK builds the final message', async () => {
  const stream = stack.anthropic().messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'stream me' }] });
  const deltas: string[] = [];
  stream.on('text', (text) => deltas.push(text));
  const final = await stream.finalMessage();
  assert.ok(deltas.length > 2, 'several text deltas');
  const block = final.content[0]!;
  assert.equal(block.type === 'text' ? block.text : '', deltas.join(''));
  assert.equal(final.stop_reason, 'end_turn');
});

test('a repeat is served from L1a, plain after plain and streamed after plain', async () => {
  const request = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'repeat me' }] };
  const first = await stack.anthropic().messages.create(request);
  const calls = stack.fake.requests.length;
  const second = await stack.anthropic().messages.create(request).withResponse();
  assert.equal(second.response.headers.get('x-isartor-layer'), 'l1a');
  assert.deepEqual(second.data, first);
  const { data: stream, response } = await stack.anthropic().messages.create({ ...request, stream: true }).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l1a');
  const types: string[] = [];
  let text = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  }
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(text, first.content[0]!.type === 'text' ? first.content[0]!.text : '');
  assert.equal(stack.fake.requests.length, calls);
});

test('an answer stored from a stream serves a later plain request', async () => {
  const request = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: 'streamed first' }] };
  const streamed = await stack.anthropic().messages.stream(request).finalMessage();
  const calls = stack.fake.requests.length;
  const plain = await stack.anthropic().messages.create(request).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l1a');
  assert.deepEqual(plain.data.content, streamed.content);
  assert.equal(stack.fake.requests.length, calls);
});

test('tool_use round trip: tools forwarded, tool_result sent back, the tool_use answer replays from L1a streamed', async () => {
  const tools = [{ name: 'search', description: 'Search the docs', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] } }];
  stack.fake.enqueue({ text: 'Let me search.', toolCalls: [{ id: 'toolu_s1', name: 'search', arguments: { q: 'isartor', limit: 3 } }] });
  const request = { model: MODEL, max_tokens: 200, tools, tool_choice: { type: 'auto' as const }, messages: [{ role: 'user' as const, content: 'Find isartor docs' }] };
  const first = await stack.anthropic().messages.stream(request).finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  const toolUse = first.content.find((block) => block.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  assert.deepEqual(toolUse.input, { q: 'isartor', limit: 3 });
  assert.deepEqual(stack.fake.requests.at(-1)!.json.tools, tools);
  assert.deepEqual(stack.fake.requests.at(-1)!.json.tool_choice, { type: 'auto' });

  const followUp = [
    ...request.messages,
    { role: 'assistant' as const, content: first.content },
    { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_s1', content: 'Isartor is a prompt firewall.' }] },
  ];
  const answer = await stack.anthropic().messages.create({ ...request, messages: followUp });
  assert.equal(answer.stop_reason, 'end_turn');
  assert.deepEqual(stack.fake.requests.at(-1)!.json.messages[2].content[0].tool_use_id, 'toolu_s1');

  const calls = stack.fake.requests.length;
  const replay = await stack.anthropic().messages.stream(request).finalMessage();
  assert.deepEqual(replay.content, first.content);
  assert.equal(stack.fake.requests.length, calls, 'the replay did not reach the upstream');
});

test('count_tokens and models are forwarded in the Anthropic shape', async () => {
  const counted = await stack.anthropic().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'count me' }] });
  assert.ok(counted.input_tokens > 0);
  assert.equal(stack.fake.requests.at(-1)!.path, '/v1/messages/count_tokens');
  const models = [];
  for await (const model of stack.anthropic().models.list()) models.push(model.id);
  assert.deepEqual(models, ['fake-claude']);
});
