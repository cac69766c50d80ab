/**
 * How informative a word is, without a corpus: GPT's byte-pair vocabulary (o200k) assigns low
 * ranks to frequent words and splits rare ones into pieces, so the rank of a word's single token
 * is a usable stand-in for inverse document frequency.
 *
 * The weight depends only on whether " word" is one token of rank < 50,000 and on that rank, so
 * those words and ranks are read from a generated table (`rarity-ranks.json`, built by
 * scripts/rarity-table.mjs from gpt-tokenizer): embedding never loads the tokenizer's 200k-entry
 * table (~43 MB of heap in the semantic worker, issue 15). A unit test compares every weight with
 * the tokenizer's.
 */

/** rarity-ranks.json: the words of rank < 50,000 and their ranks, in the same order. */
interface RarityTable {
  words: string[];
  ranks: number[];
}

const COMMON_RANK = Math.log(500);
const RARE_RANK = Math.log(50_000);
/** Floor so that common content words still count a little. */
const MIN_WEIGHT = 0.15;
/**
 * Longer words are never one token of the vocabulary (its longest token of letters and digits is
 * 26 characters, the alphabet), so they weigh 1 whatever the table holds.
 */
const MAX_ENCODED_WORD = 32;

/** A lone surrogate (never in a lexical token) is encoded as U+FFFD, as the tokenizer's UTF-8 encoding does. */
const LONE_SURROGATE = /\p{Cs}/gu;

let ranks: Map<string, number> | undefined;

function rankTable(): Map<string, number> {
  if (!ranks) {
    // Required here, not imported: in a bundle the 50k-entry table is then built on the first
    // weight asked for, not at start-up by every process that only bundles it (the CLI's main
    // thread answers L1a hits without it: ~10 ms of CPU).
    const table = require('./rarity-ranks.json') as RarityTable;
    ranks = new Map();
    for (let i = 0; i < table.words.length; i++) ranks.set(table.words[i]!, table.ranks[i]!);
  }
  return ranks;
}

/** The weight of a word whose " word" is the single token `rank`. */
export function weightOfRank(rank: number): number {
  const scaled = (Math.log(rank + 1) - COMMON_RANK) / (RARE_RANK - COMMON_RANK);
  return Math.min(1, Math.max(MIN_WEIGHT, scaled));
}

/**
 * Weight in [0.15, 1] for a lower-case word: near 0.15 for "way" or "good", 1 for names and
 * anything the vocabulary splits into several tokens.
 *
 * @example wordWeight('weekend') > wordWeight('way') // true
 */
export function wordWeight(word: string): number {
  if (word.length > MAX_ENCODED_WORD) return 1;
  const rank = rankTable().get(word.replace(LONE_SURROGATE, '\ufffd'));
  return rank === undefined ? 1 : weightOfRank(rank);
}
