/**
 * Token counting for the optimiser, memoised by content: in an agent loop every request repeats the
 * turns of the one before, so each turn is tokenised once instead of once per request.
 */
import { createHash } from 'node:crypto';

/** Counts the tokens of a text with a real tokenizer. */
export type TokenCounter = (text: string) => number;

/** Texts shorter than this are their own cache key; longer ones are keyed by their sha1. */
const INLINE_KEY_LIMIT = 128;

/**
 * Wraps `count` with a bounded cache (least recently used entries go first).
 *
 * @example const count = memoiseTokenCounter(countTokens, 10_000); count(turn); count(turn) // tokenised once
 */
export function memoiseTokenCounter(count: TokenCounter, maxEntries: number): TokenCounter {
  const cache = new Map<string, number>();
  return (text) => {
    if (text === '') return 0;
    const key = text.length < INLINE_KEY_LIMIT ? `=${text}` : createHash('sha1').update(text).digest('base64');
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const tokens = count(text);
    cache.set(key, tokens);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return tokens;
  };
}
