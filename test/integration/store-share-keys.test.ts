/**
 * `store.shareAcrossKeys`: off by default, two API keys never share an answer; switched on for a
 * namespace, a teammate with another key gets the answer the first one paid for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './helpers';

const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'shared team question' }] };

test('by default an answer stored for one key is a miss for another', async () => {
  const stack = await startStack();
  try {
    await stack.openai({ apiKey: 'sk-alice-key-000000001' }).chat.completions.create(request);
    const other = await stack.openai({ apiKey: 'sk-bob-key-00000000002' }).chat.completions.create(request).withResponse();
    assert.equal(other.response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests.length, 2);
  } finally {
    await stack.close();
  }
});

test('with store.shareAcrossKeys the other key gets a hit', async () => {
  const stack = await startStack((config) => {
    config.store = { namespace: 'isartor', shareAcrossKeys: true, timeoutMs: 100 };
  });
  try {
    await stack.openai({ apiKey: 'sk-alice-key-000000001' }).chat.completions.create(request);
    const other = await stack.openai({ apiKey: 'sk-bob-key-00000000002' }).chat.completions.create(request).withResponse();
    assert.equal(other.response.headers.get('x-isartor-layer'), 'l1a');
    assert.equal(stack.fake.requests.length, 1);
  } finally {
    await stack.close();
  }
});
