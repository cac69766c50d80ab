/**
 * The body fields the exact key ignores, per API style: the delivery options and the caller's
 * labels go, every field that can change the answer stays.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerRelevantBody } from '../../src/core/request';

test('each API style drops exactly its answer-neutral fields and keeps the rest', () => {
  const body = {
    model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0, stream: true, stream_options: { include_usage: true },
    user: 'u', metadata: { a: 1 }, store: true, safety_identifier: 's', prompt_cache_key: 'k', prompt_cache_retention: '24h',
  };
  const kept = (api: Parameters<typeof answerRelevantBody>[0]): string[] => Object.keys(answerRelevantBody(api, body)).sort();
  assert.deepEqual(kept('openai.chat'), ['messages', 'model', 'prompt_cache_retention', 'temperature']);
  assert.deepEqual(kept('openai.completions'), ['messages', 'metadata', 'model', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'store', 'temperature']);
  assert.deepEqual(kept('anthropic.messages'), ['messages', 'model', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'store', 'stream_options', 'temperature', 'user']);
  assert.deepEqual(kept('openai.responses'), ['messages', 'model', 'store', 'temperature']);
  // Responses keep `store` as a yes or no: absent is the API's default, true.
  assert.equal(answerRelevantBody('openai.responses', { model: 'm', input: 'x' }).store, true);
  assert.equal(answerRelevantBody('openai.responses', { model: 'm', input: 'x', store: false }).store, false);
  // The kept values are the body's own, not copies.
  assert.equal(answerRelevantBody('openai.chat', body).messages, body.messages);
});
