// The price table: exact and family lookups, overrides, and the cost arithmetic with prompt-cache rates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILT_IN_PRICES, costUsd, priceFor, PRICES_AS_OF } from '../../src/core/prices';

const usage = (inputTokens: number, outputTokens: number, cachedInputTokens = 0, cacheWriteTokens = 0) => ({
  inputTokens,
  outputTokens,
  cachedInputTokens,
  cacheWriteTokens,
});

describe('priceFor', () => {
  it('finds a model by its exact id', () => {
    assert.equal(priceFor('gpt-4o'), BUILT_IN_PRICES['gpt-4o']);
    assert.equal(priceFor('deepseek-chat'), BUILT_IN_PRICES['deepseek-chat']);
  });

  it('finds dated and provider-specific ids by their longest family name', () => {
    assert.equal(priceFor('claude-sonnet-4-20250514'), BUILT_IN_PRICES['claude-sonnet-4']);
    assert.equal(priceFor('claude-sonnet-4-5-20250929'), BUILT_IN_PRICES['claude-sonnet-4-5']);
    assert.equal(priceFor('claude-opus-4-5-20251101'), BUILT_IN_PRICES['claude-opus-4-5']);
    assert.equal(priceFor('gpt-4o-mini-2024-07-18'), BUILT_IN_PRICES['gpt-4o-mini'], 'the longer family wins over gpt-4o');
    assert.equal(priceFor('claude-sonnet-4@20250514'), BUILT_IN_PRICES['claude-sonnet-4']);
    assert.equal(priceFor('us.anthropic.claude-haiku-4-5-20251001-v1:0'), BUILT_IN_PRICES['claude-haiku-4-5']);
    assert.equal(priceFor('openai/GPT-4.1-mini'), BUILT_IN_PRICES['gpt-4.1-mini']);
  });

  it('does not guess across versions: an unknown minor version or a dotted version is unknown', () => {
    assert.equal(priceFor('claude-opus-4-7'), undefined);
    assert.equal(priceFor('gpt-4.5-preview'), undefined);
    assert.equal(priceFor('gpt-4'), undefined);
    assert.equal(priceFor('llama3.2:3b'), undefined);
    assert.equal(priceFor(''), undefined);
  });

  it('applies overrides on top of the built-in table, for exact ids and families', () => {
    const overrides = { 'gpt-4o': { input: 1, output: 2 }, 'my-local-model': { input: 0.5, output: 0.5 }, 'Claude-Sonnet-4': { input: 9, output: 9 } };
    assert.deepEqual(priceFor('gpt-4o', overrides), { input: 1, output: 2 });
    assert.deepEqual(priceFor('gpt-4o-2024-11-20', overrides), { input: 1, output: 2 });
    assert.deepEqual(priceFor('my-local-model', overrides), { input: 0.5, output: 0.5 });
    assert.deepEqual(priceFor('claude-sonnet-4-20250514', overrides), { input: 9, output: 9 });
    assert.equal(priceFor('claude-sonnet-4-5', overrides), BUILT_IN_PRICES['claude-sonnet-4-5'], 'a more specific built-in family still wins');
    assert.equal(priceFor('gpt-4o-mini', overrides), BUILT_IN_PRICES['gpt-4o-mini']);
  });

  it('ignores override entries that are not usable prices', () => {
    const overrides = { 'gpt-4o': { input: -1, output: 2 }, 'x-model': { input: Number.NaN, output: 1 } } as Record<string, { input: number; output: number }>;
    assert.equal(priceFor('gpt-4o', overrides), BUILT_IN_PRICES['gpt-4o']);
    assert.equal(priceFor('x-model', overrides), undefined);
  });

  it('says when the prices were taken', () => {
    assert.match(PRICES_AS_OF, /^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('costUsd', () => {
  const price = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 };

  it('bills input and output per million tokens', () => {
    assert.equal(costUsd(price, usage(1_000_000, 0)), 3);
    assert.equal(costUsd(price, usage(0, 1_000_000)), 15);
    assert.equal(costUsd(price, usage(2000, 500)), (2000 * 3 + 500 * 15) / 1e6);
  });

  it('bills cached and cache-write input tokens (part of inputTokens) at their own rates', () => {
    // 10k input of which 6k cache reads and 3k cache writes: 1k at 3, 6k at 0.3, 3k at 3.75.
    const expected = (1000 * 3 + 6000 * 0.3 + 3000 * 3.75 + 100 * 15) / 1e6;
    assert.ok(Math.abs(costUsd(price, usage(10_000, 100, 6000, 3000)) - expected) < 1e-12);
  });

  it('falls back to the input rate when a model has no cache rates', () => {
    assert.equal(costUsd({ input: 2, output: 8 }, usage(1_000_000, 0, 400_000, 100_000)), 2);
  });

  it('never goes negative on inconsistent usage', () => {
    assert.ok(costUsd(price, usage(10, 0, 50, 0)) >= 0);
    assert.equal(costUsd(price, usage(-5, -5)), 0);
  });
});
