/**
 * What the requests that reached the cloud cost, estimated from the ledger's per-model totals and
 * the price table, so the panel and the status bar can show spent next to saved.
 */
import type { ModelPrice } from '../../core/config';
import type { LedgerSummary } from '../../core/ledger-types';
import { costUsd, priceFor } from '../../core/prices';

/**
 * Per model, the ledger counts the tokens of every request (a cache hit counts the stored answer's
 * usage) and what the hits saved. What those tokens would all have cost, less the hits' savings,
 * is what the cloud requests cost. The optimiser's savings are booked on cloud requests whose usage
 * already excludes the removed tokens, so they are added back. Models missing from the price table
 * count as $0 (their savings are $0 too). Cached-input discounts are not known per model here, so
 * this errs high.
 *
 * @example estimateSpentUsd(summary, settings.prices) // 0.42
 */
export function estimateSpentUsd(summary: LedgerSummary, prices: Readonly<Record<string, ModelPrice>> = {}): number {
  let spent = 0;
  for (const [model, totals] of Object.entries(summary.byModel)) {
    const price = priceFor(model, prices);
    if (!price) continue;
    spent += costUsd(price, { inputTokens: totals.inputTokens, outputTokens: totals.outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 }) - totals.savedUsd;
  }
  spent += summary.byLayer.l3?.savedUsd ?? 0;
  return Math.max(0, spent);
}
