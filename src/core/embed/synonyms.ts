/**
 * Folds a word to its synonym group's representative, from the reviewed groups in `synonyms.json`
 * (bundled, so start-up reads no files). The groups are few on purpose: in the lexical profile the
 * wording gate lets two turns differ only by these folds, so each one is a way for a different
 * question to get another's answer. A WordNet-derived map of ~2,500 words folded "call" into
 * "name" and "account" into "history" (docs/measurements/semantic-threshold.md).
 */
import synonymData from './synonyms.json';

/** Word → its group's representative (the representative maps to itself). */
const SYNONYMS: ReadonlyMap<string, string> = new Map(synonymData.groups.flatMap((group) => group.map((word) => [word, group[0]!] as const)));

/**
 * Words folded only where they stand alone: "the cost of the plan" is "the price of the plan",
 * but "cost function" or "price action" is a term of its own that the other word does not make.
 */
const COMPOUND_GUARDED: ReadonlySet<string> = new Set(synonymData.compoundGuarded);

/** Words after which a guarded word still stands alone (or it ends the text). */
const CONNECTORS: ReadonlySet<string> = new Set(['of', 'for', 'per', 'is', 'are', 'was', 'were', 'be', 'and', 'or', 'in', 'at', 'on', 'to', 'with', 'from', 'than', 'vs', 'versus']);

/**
 * Inflection endings tried, in order, when the word itself is not in the map ("colours" → "colour"),
 * each with the ending it stands for ("ies", "es" and "s" all mark a plural or a third person).
 */
const ENDINGS: ReadonlyArray<readonly [string, string, string]> = [
  ['ies', 'y', 's'],
  ['es', '', 's'],
  ['s', '', 's'],
  ['ing', '', 'ing'],
  ['ing', 'e', 'ing'],
  ['ed', '', 'ed'],
  ['ed', 'e', 'ed'],
];

/**
 * The group representative for `word`, or `word` unchanged. Inflections fold to the bare
 * representative: right for the embedder, which stems words anyway. `next` is the word after it.
 *
 * @example foldSynonym('colours') // "color"
 */
export function foldSynonym(word: string, next?: string): string {
  return foldSynonymKeepingEnding(word, false, next);
}

/**
 * Like `foldSynonym`, but an inflected word keeps its ending ("colours" → "color+s"): the wording
 * gate folds spellings, never plurals ("the colour" is not "the colours").
 *
 * @example foldSynonymInflected('colours') // "color+s"
 */
export function foldSynonymInflected(word: string, next?: string): string {
  return foldSynonymKeepingEnding(word, true, next);
}

/** `next` is the word that follows (undefined at the end): a guarded word before another word is part of a compound. */
function foldSynonymKeepingEnding(word: string, keepEnding: boolean, next: string | undefined): string {
  const direct = SYNONYMS.get(word);
  if (direct !== undefined) return inCompound(word, next) ? word : direct;
  for (const [ending, replacement, marker] of ENDINGS) {
    if (word.length <= ending.length + 2 || !word.endsWith(ending)) continue;
    const stem = word.slice(0, word.length - ending.length) + replacement;
    const base = SYNONYMS.get(stem);
    if (base !== undefined) return inCompound(stem, next) ? word : keepEnding ? `${base}+${marker}` : base;
  }
  return word;
}

function inCompound(word: string, next: string | undefined): boolean {
  return next !== undefined && COMPOUND_GUARDED.has(word) && !CONNECTORS.has(next);
}
