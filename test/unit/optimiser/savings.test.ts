/** Money the optimiser saves under the price table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withOptimiserSavings } from '../../../src/core/optimiser/savings';

const NONE = { savedTokens: 0, savedUsd: 0, estimated: false };
const usage = { inputTokens: 20_000, outputTokens: 100, cachedInputTokens: 18_000, cacheWriteTokens: 1_000 };

test('hinted request: cache-read discount net of the write premium, plus removed tokens at the input price', () => {
  const saving = withOptimiserSavings(NONE, 'claude-sonnet-4-5', usage, { optimisedTokens: 100, cacheHints: 3 });
  // Sonnet 4.5: input $3, cache read $0.30, cache write $3.75 per million.
  const expected = (100 * 3 + 18_000 * (3 - 0.3) - 1_000 * (3.75 - 3)) / 1e6;
  assert.ok(Math.abs(saving.savedUsd - expected) < 1e-12, `${saving.savedUsd} vs ${expected}`);
  assert.equal(saving.savedTokens, 100);
  assert.equal(saving.estimated, true);
});

test('cache reads the client arranged itself are not the optimiser\'s to claim', () => {
  assert.deepEqual(withOptimiserSavings(NONE, 'claude-sonnet-4-5', usage, { optimisedTokens: 0, cacheHints: 0 }), NONE);
  const shrinkOnly = withOptimiserSavings(NONE, 'gpt-4o', usage, { optimisedTokens: 1_000, cacheHints: 0 });
  assert.ok(Math.abs(shrinkOnly.savedUsd - (1_000 * 2.5) / 1e6) < 1e-12);
});

test('an unknown model saves tokens but no dollars, marked estimated', () => {
  assert.deepEqual(withOptimiserSavings(NONE, 'mystery-model', usage, { optimisedTokens: 5, cacheHints: 2 }), { savedTokens: 5, savedUsd: 0, estimated: true });
});

test('a 1-hour cache write costs its premium at 2x input, a 5-minute one at 1.25x', () => {
  const mixed = { ...usage, cacheWrite1hTokens: 400 };
  const saving = withOptimiserSavings(NONE, 'claude-sonnet-4-5', mixed, { optimisedTokens: 0, cacheHints: 1 });
  const expected = (18_000 * (3 - 0.3) - 600 * (3.75 - 3) - 400 * (6 - 3)) / 1e6;
  assert.ok(Math.abs(saving.savedUsd - expected) < 1e-12, `${saving.savedUsd} vs ${expected}`);
});
