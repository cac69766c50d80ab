/**
 * What the optimiser saved on one forwarded request, in tokens and money under the price table:
 * the tokens it removed (never billed), and, when it placed the cache breakpoints, the provider's
 * cache-read discount net of the cache-write premium.
 */
import type { ModelPrice } from '../config';
import type { OutcomeNotes, TokenUsage } from '../outcome';
import { priceFor, tierFor } from '../prices';

export interface Saving {
  savedTokens: number;
  savedUsd: number;
  estimated: boolean;
}

const PER_MILLION = 1_000_000;

/**
 * Adds the optimiser's savings to `base` (what the layers before it saved, $0 for an upstream
 * answer). Cache reads count only on requests the optimiser hinted: the client had set no marker
 * of its own, so without Isartor the provider would have read nothing from its cache. A request
 * whose write premium exceeds its read discount (the first turn of a conversation) nets out below
 * zero, and is recorded so: the later turns' reads are what pay it back, and a conversation's
 * saving is the sum of both. Removed tokens are counted with our
 * tokenizer, so a saving that includes them is marked estimated.
 *
 * @example withOptimiserSavings(base, 'claude-sonnet-4-5', usage, { optimisedTokens: 12, cacheHints: 3 }, config.prices)
 */
export function withOptimiserSavings(base: Saving, model: string, usage: TokenUsage, notes: OutcomeNotes, prices: Readonly<Record<string, ModelPrice>> = {}): Saving {
  const removed = Math.max(0, notes.optimisedTokens ?? 0);
  const hinted = (notes.cacheHints ?? 0) > 0;
  if (removed === 0 && !hinted) return base;
  const listed = priceFor(model, prices);
  if (!listed) return { savedTokens: base.savedTokens + removed, savedUsd: base.savedUsd, estimated: true };
  // The rates this request was billed at: a long-context request's discount and premium are larger.
  const price = tierFor(listed, usage);
  let usd = (removed * price.input) / PER_MILLION;
  if (hinted) {
    usd += (Math.max(0, usage.cachedInputTokens) * (price.input - (price.cachedInput ?? price.input))) / PER_MILLION;
    // Isartor's markers write 5-minute entries; a 1-hour write (2x input) is priced as billed anyway.
    const writes = Math.max(0, usage.cacheWriteTokens);
    const writes1h = Math.min(writes, Math.max(0, usage.cacheWrite1hTokens ?? 0));
    usd -= ((writes - writes1h) * ((price.cacheWrite ?? price.input) - price.input) + writes1h * price.input) / PER_MILLION;
  }
  return { savedTokens: base.savedTokens + removed, savedUsd: base.savedUsd + usd, estimated: base.estimated || removed > 0 };
}
