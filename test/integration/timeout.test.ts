/**
 * An upstream that never sends response headers within upstream.timeoutMs gets a 504.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, type Stack } from './helpers';

let stack: Stack;
let release!: () => void;
before(async () => {
  stack = await startStack((config) => {
    config.upstream.timeoutMs = 300;
  });
});
after(async () => {
  release();
  await stack.close();
});

test('upstream timeout: 504 in the OpenAI shape, then the proxy serves again', async () => {
  stack.fake.enqueue({ hold: new Promise<void>((resolve) => (release = resolve)) });
  await assert.rejects(
    stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] }),
    (error: unknown) => error instanceof OpenAI.APIError && error.status === 504 && /did not answer within 300 ms/.test(error.message),
  );
  const ok = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'fast' }] });
  assert.match(ok.choices[0]!.message.content ?? '', /fast/);
});
