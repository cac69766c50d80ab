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
    const overrides = {
      'gpt-4o': { input: 1, output: 2, cachedInput: 0.5 },
      'my-local-model': { input: 0.5, output: 0.5 },
      'Claude-Sonnet-4': { input: 9, output: 9, cachedInput: 1, cacheWrite: 10 },
    };
    assert.deepEqual(priceFor('gpt-4o', overrides), { input: 1, output: 2, cachedInput: 0.5 });
    assert.deepEqual(priceFor('gpt-4o-2024-11-20', overrides), { input: 1, output: 2, cachedInput: 0.5 });
    assert.deepEqual(priceFor('my-local-model', overrides), { input: 0.5, output: 0.5 });
    const longContext = BUILT_IN_PRICES['claude-sonnet-4']!.longContext;
    assert.deepEqual(priceFor('claude-sonnet-4-20250514', overrides), { input: 9, output: 9, cachedInput: 1, cacheWrite: 10, longContext }, "keeps Anthropic's long-context tier");
    assert.equal(priceFor('claude-sonnet-4-5', overrides), BUILT_IN_PRICES['claude-sonnet-4-5'], 'a more specific built-in family still wins');
    assert.equal(priceFor('gpt-4o-mini', overrides), BUILT_IN_PRICES['gpt-4o-mini']);
  });

  it('never prices a model as another size or variant of its family (QA round 4)', () => {
    assert.deepEqual(priceFor('o1-mini'), { input: 1.1, output: 4.4, cachedInput: 0.55 }, 'o1-mini is not o1 (15/60)');
    assert.deepEqual(priceFor('o1-mini-2024-09-12'), { input: 1.1, output: 4.4, cachedInput: 0.55 });
    assert.deepEqual(priceFor('o3-mini-2025-01-31'), { input: 1.1, output: 4.4, cachedInput: 0.55 });
    assert.equal(priceFor('gpt-5-codex-mini'), undefined, 'not gpt-5');
    assert.equal(priceFor('gpt-4o-audio-preview'), undefined, 'not gpt-4o');
    assert.equal(priceFor('gpt-4o-realtime-preview-2024-12-17'), undefined);
    assert.equal(priceFor('gpt-4.1-turbo'), undefined);
    assert.equal(priceFor('gpt-5-chat-latest'), undefined, '-chat is a variant, -latest alone is not enough');
    assert.equal(priceFor('openrouter/anthropic/claude-sonnet-4.5:free'), undefined, 'an other offer is not the list price');
    assert.equal(priceFor('claude-opus-4-5x'), undefined);
  });

  it('prices the first gpt-4o snapshot at its own 5/15 and later snapshots at the current price', () => {
    assert.deepEqual(priceFor('gpt-4o-2024-05-13'), { input: 5, output: 15 });
    assert.equal(priceFor('gpt-4o-2024-08-06'), BUILT_IN_PRICES['gpt-4o']);
    assert.equal(priceFor('gpt-4o-2024-11-20'), BUILT_IN_PRICES['gpt-4o']);
  });

  it('accepts the snapshot spellings of Anthropic, Vertex AI, Bedrock and a -latest alias', () => {
    assert.equal(priceFor('claude-3-5-sonnet-v2@20241022'), BUILT_IN_PRICES['claude-3-5-sonnet']);
    assert.equal(priceFor('anthropic.claude-3-5-sonnet-20241022-v2:0'), BUILT_IN_PRICES['claude-3-5-sonnet']);
    assert.equal(priceFor('claude-3-7-sonnet-latest'), BUILT_IN_PRICES['claude-3-7-sonnet']);
    assert.equal(priceFor('claude-opus-4-1-20250805'), BUILT_IN_PRICES['claude-opus-4-1']);
  });

  it('reads OpenRouter-style names: a provider prefix and dotted Claude versions', () => {
    assert.equal(priceFor('anthropic/claude-sonnet-4.5'), BUILT_IN_PRICES['claude-sonnet-4-5']);
    assert.equal(priceFor('anthropic/claude-3.5-haiku'), BUILT_IN_PRICES['claude-3-5-haiku']);
    assert.equal(priceFor('claude-opus-4.1'), BUILT_IN_PRICES['claude-opus-4-1']);
    assert.equal(priceFor('openai/gpt-4.1'), BUILT_IN_PRICES['gpt-4.1'], 'OpenAI dots are versions of their own');
    assert.equal(priceFor('openai/gpt-4-1'), undefined);
  });

  it('gives an override without cache rates the provider discount, not the full input rate', () => {
    const overrides = {
      'claude-sonnet-4-5': { input: 6, output: 30 },
      'claude-next': { input: 4, output: 20 },
      'gpt-4o': { input: 5, output: 15 },
      'gpt-5': { input: 2, output: 16, cachedInput: 1 },
      'deepseek-v9': { input: 1, output: 2 },
      'my-model': { input: 1, output: 4 },
      'o1-pro': { input: 100, output: 400 },
    };
    assert.deepEqual(priceFor('claude-sonnet-4-5-20250929', overrides), { input: 6, output: 30, cachedInput: 0.6, cacheWrite: 7.5, longContext: BUILT_IN_PRICES['claude-sonnet-4-5']!.longContext });
    assert.deepEqual(priceFor('claude-next', overrides), { input: 4, output: 20, cachedInput: 0.4, cacheWrite: 5 }, "Anthropic's 0.1x / 1.25x");
    assert.deepEqual(priceFor('gpt-4o', overrides), { input: 5, output: 15, cachedInput: 2.5 }, "the table entry's 0.5x");
    assert.deepEqual(priceFor('gpt-5', overrides), { input: 2, output: 16, cachedInput: 1 }, 'a given rate is kept');
    assert.deepEqual(priceFor('deepseek-v9', overrides), { input: 1, output: 2, cachedInput: 0.1 });
    assert.deepEqual(priceFor('my-model', overrides), { input: 1, output: 4 }, 'no provider known: no guess');
    assert.deepEqual(priceFor('o1-pro', overrides), { input: 100, output: 400 }, 'a model without a cache discount gets none');
    const cost = costUsd(priceFor('claude-next', overrides)!, usage(1_000_000, 0, 1_000_000, 0));
    assert.ok(Math.abs(cost - 0.4) < 1e-12, `cache reads billed at 0.1x input, got ${cost}`);
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

  it("bills Anthropic's 1-hour cache writes at 2x input and 5-minute ones at cacheWrite", () => {
    // 10k input: 1k plain at 3, 4k 5-minute writes at 3.75, 5k 1-hour writes at 6.
    const expected = (1000 * 3 + 4000 * 3.75 + 5000 * 6) / 1e6;
    const got = costUsd(price, { ...usage(10_000, 0, 0, 9000), cacheWrite1hTokens: 5000 });
    assert.ok(Math.abs(got - expected) < 1e-12, `expected ${expected}, got ${got}`);
    // More 1-hour tokens than writes (inconsistent usage) never bills more than every write at 2x.
    assert.ok(costUsd(price, { ...usage(1000, 0, 0, 1000), cacheWrite1hTokens: 5000 }) <= (1000 * 6) / 1e6 + 1e-12);
  });

  it('falls back to the input rate when a model has no cache rates', () => {
    assert.equal(costUsd({ input: 2, output: 8 }, usage(1_000_000, 0, 400_000, 100_000)), 2);
  });

  it('never goes negative on inconsistent usage', () => {
    assert.ok(costUsd(price, usage(10, 0, 50, 0)) >= 0);
    assert.equal(costUsd(price, usage(-5, -5)), 0);
  });
});

describe("Anthropic's long-context pricing (Sonnet 4 and 4.5, input over 200K tokens)", () => {
  const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

  it('bills the whole request at $6 input and $22.50 output once its input passes 200K tokens', () => {
    for (const model of ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-20250514', 'anthropic/claude-sonnet-4.5']) {
      const price = priceFor(model)!;
      close(costUsd(price, usage(200_000, 1_000)), (200_000 * 3 + 1_000 * 15) / 1e6);
      close(costUsd(price, usage(200_001, 1_000)), (200_001 * 6 + 1_000 * 22.5) / 1e6);
    }
  });

  it('counts cache reads and writes toward the threshold and scales their rates from the long-context input price', () => {
    const price = priceFor('claude-sonnet-4-5')!;
    // 50K plain + 120K read + 40K written (10K of them 1-hour) = 210K input: the long-context tier.
    const long = { inputTokens: 210_000, outputTokens: 2_000, cachedInputTokens: 120_000, cacheWriteTokens: 40_000, cacheWrite1hTokens: 10_000 };
    close(costUsd(price, long), (50_000 * 6 + 120_000 * 0.6 + 30_000 * 7.5 + 10_000 * 12 + 2_000 * 22.5) / 1e6);
  });

  it('leaves other models, and overrides of a Sonnet 4 id, priced as before or in the override’s own tier', () => {
    close(costUsd(priceFor('claude-opus-4-1')!, usage(300_000, 0)), (300_000 * 15) / 1e6);
    close(costUsd(priceFor('gpt-4.1')!, usage(300_000, 0)), (300_000 * 2) / 1e6);
    const overridden = priceFor('claude-sonnet-4-5', { 'claude-sonnet-4-5': { input: 2, output: 10 } })!;
    close(costUsd(overridden, usage(300_000, 1_000)), (300_000 * 4 + 1_000 * 15) / 1e6);
  });
});
