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
