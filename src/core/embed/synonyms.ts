/**
 * Folds a word to its synonym group's most common member using the compact map generated from
 * WordNet (`synonyms.json`, built by synonyms-generate.ts and bundled, so start-up reads no files).
 */
import synonymMap from './synonyms.json';

const SYNONYMS: Readonly<Record<string, string>> = synonymMap;

/** The word's synonym, own entries only: "constructor" must not find Object.prototype's. */
function synonymOf(word: string): string | undefined {
  return Object.hasOwn(SYNONYMS, word) ? SYNONYMS[word] : undefined;
}

/** Inflection endings tried, in order, when the word itself is not in the map ("prices" → "price"). */
const ENDINGS: ReadonlyArray<readonly [string, string]> = [
  ['ies', 'y'],
  ['es', ''],
  ['s', ''],
  ['ing', ''],
  ['ing', 'e'],
  ['ed', ''],
  ['ed', 'e'],
];

/**
 * The group representative for `word`, or `word` unchanged.
 *
 * @example foldSynonym('prices') // "cost"
 */
export function foldSynonym(word: string): string {
  const direct = synonymOf(word);
  if (direct !== undefined) return direct;
  for (const [ending, replacement] of ENDINGS) {
    if (word.length <= ending.length + 2 || !word.endsWith(ending)) continue;
    const base = synonymOf(word.slice(0, word.length - ending.length) + replacement);
    if (base !== undefined) return base;
  }
  return word;
}

/** Number of words the map folds (for `describe()` and tests). */
export function synonymCount(): number {
  return Object.keys(SYNONYMS).length;
}
