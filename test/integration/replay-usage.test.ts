// An answer stored from an OpenAI stream without stream_options.include_usage carries usage Isartor
// estimated. It is replayed only to clients that are handed no usage (streams without include_usage);
// a client that reads usage (a plain request, a stream with include_usage) gets a miss, and the
// provider's own answer, with the provider's usage, then replaces the entry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { startStack, type Stack } from './helpers';

let stack: Stack;

before(async () => {
  stack = await startStack((config) => {
    config.optimiser.enabled = false;
  });
});
after(async () => {
  await stack.close();
});

/** The fake's usage for its latest request: body bytes / 4 in, answer text / 4 out. */
const providerUsage = (text: string): [number, number] => [Math.ceil(stack.fake.requests.at(-1)!.rawBody.length / 4), Math.ceil(text.length / 4)];

test('an estimate is never replayed as usage: hits only for clients handed no usage, then the provider\'s usage replaces it', async () => {
  const text = 'an answer whose stream carried no usage at all';
  stack.fake.respondWith(() => ({ text }));
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'estimated once' }] };
  const records: LedgerRecord[] = [];
  const subscription = stack.proxy.onRecord((record) => records.push(record));
  const client = stack.openai();

  // 1. Stored from a stream without usage: the ledger marks the estimate.
  for await (const _chunk of await client.chat.completions.create({ ...request, stream: true })) {
    // read to the end
  }
  // 2. A stream that does not ask for usage is handed none: the stored answer serves it.
  const quiet = await client.chat.completions.create({ ...request, stream: true }).withResponse();
  let quietText = '';
  for await (const chunk of quiet.data) {
    assert.equal(chunk.usage, undefined);
    quietText += chunk.choices[0]?.delta.content ?? '';
  }
  assert.equal(quiet.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(quietText, text);
  assert.equal(stack.fake.requests.length, 1);

  // 3. A plain request reads usage: a miss, answered by the provider with its own figures.
  const plain = await client.chat.completions.create(request).withResponse();
  assert.equal(plain.response.headers.get('x-isartor-layer'), 'l3', 'not served the estimate');
  assert.equal(stack.fake.requests.length, 2);
  const usage = providerUsage(text);
  assert.deepEqual([plain.data.usage?.prompt_tokens, plain.data.usage?.completion_tokens], usage);

  // 4. That answer replaced the entry: a stream asking for usage now hits, with the provider's usage.
  const counted = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }).withResponse();
  let replayed: { prompt_tokens: number; completion_tokens: number } | undefined;
  for await (const chunk of counted.data) if (chunk.usage) replayed = chunk.usage;
  assert.equal(counted.response.headers.get('x-isartor-layer'), 'l1a');
  assert.deepEqual(replayed && [replayed.prompt_tokens, replayed.completion_tokens], usage);
  assert.equal(stack.fake.requests.length, 2);

  for (let i = 0; records.length < 4 && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  subscription.dispose();
  assert.deepEqual(records.map((record) => [record.layer, record.estimated]), [['l3', true], ['l1a', true], ['l3', false], ['l1a', false]]);
});
