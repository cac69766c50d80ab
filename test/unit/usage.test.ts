// normaliseUsage: one TokenUsage shape from OpenAI and Anthropic usage objects, 1-hour cache writes kept apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { costUsd } from '../../src/core/prices';
import { normaliseUsage } from '../../src/core/stream/usage';

describe('normaliseUsage', () => {
  it('counts Anthropic cache reads and writes into inputTokens', () => {
    assert.deepEqual(normaliseUsage('anthropic.messages', { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 100, cache_creation_input_tokens: 50 }), {
      inputTokens: 160,
      outputTokens: 3,
      cachedInputTokens: 100,
      cacheWriteTokens: 50,
    });
  });

  it("keeps Anthropic's 1-hour cache writes apart so they are billed at 2x input, not 1.25x", () => {
    const usage = normaliseUsage('anthropic.messages', {
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 3000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
    });
    assert.equal(usage?.cacheWriteTokens, 3000);
    assert.equal(usage?.cacheWrite1hTokens, 2000);
    const price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };
    assert.ok(Math.abs(costUsd(price, usage!) - (1000 * 3.75 + 2000 * 6) / 1e6) < 1e-12);
  });

  it('reads OpenAI chat and responses usage with cached tokens', () => {
    assert.deepEqual(normaliseUsage('openai.chat', { prompt_tokens: 10, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } }), {
      inputTokens: 10,
      outputTokens: 3,
      cachedInputTokens: 4,
      cacheWriteTokens: 0,
    });
    assert.deepEqual(normaliseUsage('openai.responses', { input_tokens: 10, output_tokens: 3, input_tokens_details: { cached_tokens: 4 } }), {
      inputTokens: 10,
      outputTokens: 3,
      cachedInputTokens: 4,
      cacheWriteTokens: 0,
    });
    assert.equal(normaliseUsage('openai.chat', null), undefined);
  });
});
