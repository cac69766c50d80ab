/**
 * Quality gates on a local answer: empty, a refusal, or cut off by the local token cap all mean the
 * cloud should answer instead.
 */

/**
 * Characters of answer text collected before a streamed answer is committed to the client. A
 * refusal shows itself in its first words; waiting for more would only delay the first byte.
 */
export const STREAM_HEAD_CHARS = 64;

/**
 * Openings of answers that decline or admit not knowing. Anchored at the start: a refusal that
 * comes after a real answer is rare for the short answers L2 gives, and matching anywhere would
 * reject answers that merely quote such phrases.
 */
// Non-ASCII written as \u escapes (\u2019 is ’): the bundles must stay ASCII (scripts/ascii-bundle.mjs).
const REFUSAL_OPENINGS: RegExp[] = [
  /^(?:i['\u2019]m|i am) (?:sorry|afraid|unable|not able|not sure)\b/i,
  /^sorry\b/i,
  /^(?:i )?apologi[sz]e\b/i,
  /^i (?:can(?:no|['\u2019])t|cannot|won['\u2019]t|will not|do not|don['\u2019]t) (?:help|assist|answer|provide|do|comply|know|have (?:access|enough))\b/i,
  /^(?:unfortunately|as an ai)\b/i,
];

/** True when the answer opens like a refusal. */
export function looksLikeRefusal(text: string): boolean {
  const opening = text.trimStart().replace(/^[*_"'\u201C]+/, '');
  return REFUSAL_OPENINGS.some((pattern) => pattern.test(opening));
}

export type AnswerVerdict = { ok: true } | { ok: false; reason: 'empty answer' | 'refusal' | 'hit the local token cap' };

/**
 * Judges what has been generated so far. `finished` says whether the generation ended;
 * `cappedByLocalLimit` whether it ended on the layer's own token cap (not the client's limit).
 * An unfinished head is only judged for a refusal: it may still turn out empty or capped.
 */
export function judgeAnswer(text: string, finished: boolean, cappedByLocalLimit: boolean): AnswerVerdict {
  if (finished && text.trim() === '') return { ok: false, reason: 'empty answer' };
  if (looksLikeRefusal(text)) return { ok: false, reason: 'refusal' };
  if (finished && cappedByLocalLimit) return { ok: false, reason: 'hit the local token cap' };
  return { ok: true };
}
