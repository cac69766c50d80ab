/**
 * Which upstream answers the caches keep: an empty answer, a refusal and a filtered one reach their
 * client but are never stored, so one glitch does not become the answer to that question for good;
 * an ordinary answer and a tool call are stored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const chatBody = (message: Record<string, unknown>, finishReason = 'stop') => ({
  id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: finishReason }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

async function layersOf(question: string, stream = false): Promise<(string | null)[]> {
  const layers: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: question }] };
    if (stream) {
      const { response, data } = await stack.openai().chat.completions.create({ ...request, stream: true }).withResponse();
      for await (const _chunk of data) { /* read to the end */ }
      layers.push(response.headers.get('x-isartor-layer'));
    } else {
      layers.push((await stack.openai().chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'));
    }
  }
  return layers;
}

test('an empty answer, a refusal and a content-filtered answer are passed on but not stored', async () => {
  stack.fake.enqueue({ body: chatBody({ content: '' }) }, { body: chatBody({ content: '' }) });
  assert.deepEqual(await layersOf('say nothing'), ['l3', 'l3'], 'empty');
  stack.fake.enqueue({ body: chatBody({ content: null, refusal: "I can't help with that." }) }, { body: chatBody({ content: 'Here it is.' }) });
  assert.deepEqual(await layersOf('refuse me once'), ['l3', 'l3'], 'refusal');
  stack.fake.enqueue({ body: chatBody({ content: 'partial' }, 'content_filter') }, { body: chatBody({ content: 'whole' }) });
  assert.deepEqual(await layersOf('filter me once'), ['l3', 'l3'], 'filtered');
  // A streamed empty answer is not stored either.
  stack.fake.enqueue({ text: '' }, { text: '' });
  assert.deepEqual(await layersOf('stream nothing', true), ['l3', 'l3'], 'empty stream');
});

test('an ordinary answer and a tool call are stored', async () => {
  assert.deepEqual(await layersOf('say something'), ['l3', 'l1a']);
  stack.fake.enqueue({ toolCalls: [{ name: 'read_file', arguments: { path: 'a.ts' } }] });
  assert.deepEqual(await layersOf('call a tool'), ['l3', 'l1a']);
});

test('an Anthropic refusal is not stored', async () => {
  const refusal = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'I will not.' }], stop_reason: 'refusal', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 3 } };
  stack.fake.enqueue({ body: refusal }, { body: refusal });
  const layers: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const { response } = await stack.anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'refuse me' }] }).withResponse();
    layers.push(response.headers.get('x-isartor-layer'));
  }
  assert.deepEqual(layers, ['l3', 'l3']);
});

test('an answer of thousands of parts reaches its client whole but is not stored: each replay would hold the proxy', async () => {
  // Under 1 MB, yet replaying 30,000 one-letter content blocks as a stream held the proxy's
  // thread for 80-200 ms on every hit (a replay renders each part as frames of its own).
  const blocks = Array.from({ length: 5_000 }, (_, i) => ({ type: 'text', text: `b${i}` }));
  const many = { id: 'msg_many', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: blocks, stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 5_000 } };
  stack.fake.enqueue({ body: many }, { body: many });
  const layers: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const { data, response } = await stack.anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'answer in five thousand blocks' }] }).withResponse();
    assert.equal(data.content.length, 5_000);
    layers.push(response.headers.get('x-isartor-layer'));
  }
  assert.deepEqual(layers, ['l3', 'l3'], 'content blocks');
  // Streamed: 2,000 tool calls.
  const calls = Array.from({ length: 2_000 }, (_, i) => ({ name: 'read_file', arguments: { path: `f${i}.ts` } }));
  stack.fake.enqueue({ toolCalls: calls }, { toolCalls: calls });
  assert.deepEqual(await layersOf('call two thousand tools', true), ['l3', 'l3'], 'tool calls');
  // A few dozen parts are stored as ever.
  stack.fake.enqueue({ toolCalls: calls.slice(0, 40) });
  assert.deepEqual(await layersOf('call forty tools', true), ['l3', 'l1a'], 'forty tool calls');
});

test('an answer of very many JSON pieces reaches its client whole but is not stored: each hit would parse it on the proxy', async () => {
  // A tool call whose input has 60,000 keys (880 KB, under the size limit): parsing the stored
  // answer back took the proxy's thread 35-100 ms on every hit.
  const input = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i]));
  const wide = { id: 'msg_wide', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'tool_use', id: 'toolu_1', name: 'write', input }], stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 9 } };
  stack.fake.enqueue({ body: wide }, { body: wide });
  const layers: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const { data, response } = await stack.anthropic().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'write sixty thousand keys' }] }).withResponse();
    assert.equal(Object.keys((data.content[0] as { input: object }).input).length, 60_000);
    layers.push(response.headers.get('x-isartor-layer'));
  }
  assert.deepEqual(layers, ['l3', 'l3']);
  // The same keys in a JSON string (tool call arguments) are one piece: stored as ever.
  stack.fake.enqueue({ toolCalls: [{ name: 'write', arguments: input }] });
  assert.deepEqual(await layersOf('write them as arguments', true), ['l3', 'l1a']);
});
