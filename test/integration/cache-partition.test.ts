/**
 * What may share a cache entry and what may not: partitions, cache directives, single flight under
 * concurrency, and persistence across a restart on the same data dir.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitForInFlight, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

async function layerOf(promise: Promise<{ response: Response }>): Promise<string | null> {
  return (await promise).response.headers.get('x-isartor-layer');
}

test('requests in another partition or with other answer-changing fields miss', async () => {
  const base = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'partition probe' }], temperature: 0 };
  const tool = { type: 'function' as const, function: { name: 'probe', parameters: { type: 'object', properties: {} } } };
  assert.equal(await layerOf(stack.openai().chat.completions.create(base).withResponse()), 'l3');
  assert.equal(await layerOf(stack.openai().chat.completions.create(base).withResponse()), 'l1a');
  assert.equal(await layerOf(stack.openai().chat.completions.create({ ...base, model: 'gpt-4o' }).withResponse()), 'l3', 'other model');
  assert.equal(await layerOf(stack.openai({ apiKey: 'sk-another-key-0002' }).chat.completions.create(base).withResponse()), 'l3', 'other key');
  assert.equal(await layerOf(stack.openai().chat.completions.create({ ...base, tools: [tool] }).withResponse()), 'l3', 'other tools');
  assert.equal(await layerOf(stack.openai().chat.completions.create({ ...base, temperature: 0.7 }).withResponse()), 'l3', 'other temperature');
  assert.equal(await layerOf(stack.openai().chat.completions.create({ ...base, user: 'someone', stream: false }).withResponse()), 'l1a', 'user is answer-neutral');
});

test('a JSON schema whose properties come in another order is another request (tools, structured output)', async () => {
  // The model writes a tool call's arguments and a structured output in the schema's order, and a
  // schema with "reasoning" before "answer" makes it reason first: not the same answer reordered.
  const schema = (order: string[]) => ({ type: 'object', properties: Object.fromEntries(order.map((name) => [name, { type: 'string' }])) });
  const chat = (order: string[]) =>
    stack.openai().chat.completions.create({
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Is 1009 prime?' }], tools: [{ type: 'function', function: { name: 'verdict', parameters: schema(order) } }],
    }).withResponse();
  assert.equal(await layerOf(chat(['reasoning', 'answer'])), 'l3');
  assert.equal(await layerOf(chat(['reasoning', 'answer'])), 'l1a');
  assert.equal(await layerOf(chat(['answer', 'reasoning'])), 'l3', 'tool parameters in another order');

  const responses = (order: string[]) =>
    stack.openai().responses.create({ model: 'gpt-4o-mini', input: 'Is 1013 prime?', text: { format: { type: 'json_schema', name: 'verdict', schema: schema(order) } } }).withResponse();
  assert.equal(await layerOf(responses(['reasoning', 'answer'])), 'l3');
  assert.equal(await layerOf(responses(['answer', 'reasoning'])), 'l3', 'a structured output schema in another order');

  const messages = (order: string[]) =>
    stack.anthropic().messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Is 1019 prime?' }],
      tools: [{ name: 'verdict', input_schema: { type: 'object', properties: schema(order).properties } }],
    }).withResponse();
  assert.equal(await layerOf(messages(['reasoning', 'answer'])), 'l3');
  assert.equal(await layerOf(messages(['answer', 'reasoning'])), 'l3', 'an Anthropic input_schema in another order');
  // Key order elsewhere is still only serialisation: the same schema written with its keywords swapped hits.
  const swapped = { properties: schema(['reasoning', 'answer']).properties, type: 'object' };
  const again = await stack.openai().chat.completions.create({
    model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Is 1009 prime?' }], tools: [{ function: { parameters: swapped, name: 'verdict' }, type: 'function' }],
  }).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l1a');
});

test("every credential header, OpenAI's organisation and project, and the query string partition the caches", async () => {
  // A client that sends a placeholder bearer token beside its real x-api-key (some gateways want
  // both; the SDK sends one, so this one is raw HTTP).
  const ask = async (apiKey: string): Promise<string | null> => {
    const response = await fetch(`${stack.proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer placeholder', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'whose answer is this?' }] }),
    });
    await response.arrayBuffer();
    return response.headers.get('x-isartor-layer');
  };
  assert.equal(await ask('sk-ant-victim-0001'), 'l3');
  assert.equal(await ask('sk-ant-victim-0001'), 'l1a');
  assert.equal(await ask('sk-ant-other-0002'), 'l3', 'another x-api-key behind the same bearer token');

  const base = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'organisation probe' }] };
  assert.equal(await layerOf(stack.openai().chat.completions.create(base).withResponse()), 'l3');
  assert.equal(await layerOf(stack.openai({ defaultHeaders: { 'openai-organization': 'org-a' } }).chat.completions.create(base).withResponse()), 'l3', 'another organisation');
  assert.equal(await layerOf(stack.openai({ defaultHeaders: { 'openai-project': 'proj-b' } }).chat.completions.create(base).withResponse()), 'l3', 'another project');
  assert.equal(await layerOf(stack.openai().chat.completions.create(base).withResponse()), 'l1a', 'no organisation: the first entry');

  const withQuery = stack.openai({ baseURL: `${stack.proxy.url}/v1` });
  assert.equal(await layerOf(withQuery.chat.completions.create(base, { query: { 'api-version': '2025-01-01' } }).withResponse()), 'l3', 'a query string the upstream sees');
  assert.equal(await layerOf(withQuery.chat.completions.create(base, { query: { 'api-version': '2025-01-01' } }).withResponse()), 'l1a');
  assert.equal(await layerOf(withQuery.chat.completions.create(base, { query: { 'api-version': '2024-10-21' } }).withResponse()), 'l3', 'another query string');
});

test('Cache-Control: no-cache skips the lookup and no-store skips storing', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'directives' }] };
  const client = stack.openai();
  assert.equal(await layerOf(client.chat.completions.create(request, { headers: { 'cache-control': 'no-store' } }).withResponse()), 'l3');
  assert.equal(await layerOf(client.chat.completions.create(request).withResponse()), 'l3', 'no-store stored nothing');
  assert.equal(await layerOf(client.chat.completions.create(request, { headers: { 'cache-control': 'no-cache' } }).withResponse()), 'l3', 'no-cache looked nothing up');
  assert.equal(await layerOf(client.chat.completions.create(request).withResponse()), 'l1a');
});

test('20 concurrent identical requests make one upstream call (single flight), streams included', async () => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  const before = stack.fake.requests.length;
  stack.fake.enqueue({ hold });
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'stampede' }] };
  const client = stack.openai();
  const pending = Array.from({ length: 20 }, (_, i) =>
    i % 2 === 0
      ? client.chat.completions.create(request).then((c) => c.choices[0]!.message.content)
      : client.chat.completions.create({ ...request, stream: true }).then(async (stream) => {
          let text = '';
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        }),
  );
  await stack.fake.waitForRequests(before + 1);
  await waitForInFlight(stack.proxy, 20);
  release();
  const answers = await Promise.all(pending);
  assert.equal(stack.fake.requests.length, before + 1, 'exactly one upstream call');
  assert.equal(new Set(answers).size, 1, 'everyone got the same answer');
  assert.match(answers[0]!, /to: stampede$/);
});

test('answers survive a proxy restart on the same data dir', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'remember me' }] };
  const first = await stack.openai().chat.completions.create(request);
  await stack.restart();
  const calls = stack.fake.requests.length;
  const again = await stack.openai().chat.completions.create(request).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l1a');
  assert.deepEqual(again.data, first);
  assert.equal(stack.fake.requests.length, calls);
});
