/**
 * Which safety gates run for which kind of embedder. Part of each embedder's profile (with its
 * threshold): what one embedder already sees, another needs a gate for.
 */
import type { GateReason } from './gates';

/** Every gate, in the order `checkGates` runs them. */
export const ALL_GATES: ReadonlySet<GateReason> = new Set<GateReason>([
  'code', 'numbers', 'identifiers', 'symbols', 'layout', 'case', 'negation', 'tech', 'names', 'question', 'contrast', 'detail', 'wording', 'order',
]);

/**
 * The lexical embedder ignores function words, word order beyond bigrams and everything but letters
 * and digits, so it needs every gate, the strict wording gate included ("who is" vs "who was").
 */
export const LEXICAL_GATES: ReadonlySet<GateReason> = ALL_GATES;

/**
 * A neural sentence encoder reads every word, so the gates that compare wording (same words,
 * same question word, every rare term on both sides) would mostly reject true paraphrases. What
 * such encoders are known to blur stays gated: code, numbers, identifiers, operators and symbols,
 * case, negation, named technology, proper names, opposites and the order of a relation.
 */
export const NEURAL_GATES: ReadonlySet<GateReason> = new Set([...ALL_GATES].filter((gate) => gate !== 'wording' && gate !== 'question' && gate !== 'detail'));
