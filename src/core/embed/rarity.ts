/**
 * How informative a word is, without a corpus: GPT's byte-pair vocabulary (`gpt-tokenizer`,
 * o200k) assigns low ranks to frequent words and splits rare ones into pieces, so the rank of a
 * word's single token is a usable stand-in for inverse document frequency.
 */
import { encodeTokens } from '../tokens';

const COMMON_RANK = Math.log(500);
const RARE_RANK = Math.log(50_000);
/** Floor so that common content words still count a little. */
const MIN_WEIGHT = 0.15;
const CACHE_LIMIT = 50_000;
/**
 * Longer words are never one token of the vocabulary (its longest token of letters and digits is
 * 26 characters, the alphabet), so they weigh 1 without encoding: the encoder is quadratic in a
 * word's length, and a prompt may hold one "word" of a million letters.
 */
const MAX_ENCODED_WORD = 32;
const cache = new Map<string, number>();

/**
 * Weight in [0.15, 1] for a lower-case word: near 0.15 for "way" or "good", 1 for names and
 * anything the vocabulary splits into several tokens.
 *
 * @example wordWeight('weekend') > wordWeight('way') // true
 */
export function wordWeight(word: string): number {
  if (word.length > MAX_ENCODED_WORD) return 1;
  const cached = cache.get(word);
  if (cached !== undefined) return cached;
  const tokens = encodeTokens(` ${word}`);
  let weight = 1;
  if (tokens.length === 1) {
    const scaled = (Math.log(tokens[0]! + 1) - COMMON_RANK) / (RARE_RANK - COMMON_RANK);
    weight = Math.min(1, Math.max(MIN_WEIGHT, scaled));
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(word, weight);
  return weight;
}
