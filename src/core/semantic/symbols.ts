/**
 * What the embedders cannot see: operators, punctuation-bearing tokens and the case of words.
 * "x > y" and "x < y", "% in C++" and "~ in C++", "String" and "string" embed to the same vector,
 * so the gates compare these two signatures exactly, in plain text as much as inside backticks.
 */
import { STOP_WORDS } from '../embed/stopwords';
import { TECH_TERMS } from '../embed/tech-terms';

// Non-ASCII written as \u escapes (\u2019 is ’): the bundles must stay ASCII (scripts/ascii-bundle.mjs).
/** Punctuation that ends a word in prose: "why?" and "why" ask the same. */
const PROSE_TRAILING = /^[.,;:!?\u2026"'\u201D\u2019]+$/u;
/** Quotes that open a word in prose. */
const PROSE_LEADING = /^["'\u201C\u2018]+$/u;
const TRAILING_PROSE = /[.,;:!?\u2026"'\u201D\u2019]+$/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const SYMBOL_RUN = /[^\p{L}\p{N}_\s]+/gu;
const WORD = /[\p{L}\p{N}_]+/gu;

/**
 * Whether UTF-16 unit `code` is one that `\s` matches (ECMAScript's WhiteSpace and LineTerminator).
 * A comparison of char codes: `/\s/.test(text[i])` made a one-character string and ran a regexp
 * for every character of a chunk it measured (gate keys are computed on the request path, issue 15).
 */
export function isSpaceCode(code: number): boolean {
  if (code <= 0x7f) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029
    || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** True when `run`, found between `before` and `after` inside a whitespace-delimited chunk, only punctuates prose. */
function isProse(run: string, before: string, after: string, lastChunk: boolean): boolean {
  const wordBefore = WORD_CHAR.test(before);
  const wordAfter = WORD_CHAR.test(after);
  // "don't", "it’s": contractions are the wording gate's business.
  if ((run === "'" || run === '\u2019') && wordBefore && wordAfter) return true;
  if (wordBefore && after === '' && PROSE_TRAILING.test(run)) return true;
  if (before === '' && wordAfter && PROSE_LEADING.test(run)) return true;
  // "in python ?" or "?!" at the very end: a spaced question mark, not an operator. A spaced "!" or
  // "." alone may be the operator asked about ("explain the operator !"), so those count.
  return lastChunk && before === '' && after === '' && /^[?!]*\?[?!]*$/u.test(run);
}

/**
 * The operator and code-ish tokens of prose, in order: every whitespace-delimited chunk that holds
 * a symbol other than sentence punctuation, exactly as written ("x>y", "C++", "(,)", "%", "->",
 * and hyphenated names such as "data-testid", which may be identifiers).
 * Linear in the text's length.
 *
 * @example symbolTokens('Return true if x >= y.') // [">="]
 */
export function symbolTokens(prose: string): string[] {
  // One pass of SYMBOL_RUN over the whole text (a run never holds whitespace, so it lies inside one
  // chunk); only the chunks it finds are measured out. Same tokens as splitting first, far less work.
  const text = prose.normalize('NFKC');
  const contentEnd = text.trimEnd().length; // trimEnd strips exactly what \s matches
  const tokens: string[] = [];
  let chunkStart = 0;
  let chunkEnd = -1;
  let kept = '';
  let cursor = 0;
  let hasSymbol = false;
  for (const match of text.matchAll(SYMBOL_RUN)) {
    const start = match.index;
    if (start >= chunkEnd) {
      if (hasSymbol) tokens.push(kept + text.slice(cursor, chunkEnd));
      chunkStart = start;
      while (chunkStart > 0 && !isSpaceCode(text.charCodeAt(chunkStart - 1))) chunkStart--;
      chunkEnd = start;
      while (chunkEnd < text.length && !isSpaceCode(text.charCodeAt(chunkEnd))) chunkEnd++;
      kept = '';
      cursor = chunkStart;
      hasSymbol = false;
    }
    const end = start + match[0].length;
    kept += text.slice(cursor, start);
    cursor = end;
    const before = start > chunkStart ? text[start - 1]! : '';
    const after = end < chunkEnd ? text[end]! : '';
    if (isProse(match[0], before, after, chunkEnd === contentEnd)) continue;
    let run = match[0];
    // "x++." keeps "++": sentence punctuation after an operator still ends the sentence.
    if (end === chunkEnd && start > chunkStart) run = run.replace(TRAILING_PROSE, '') || run;
    kept += run;
    hasSymbol = true;
  }
  if (hasSymbol) tokens.push(kept + text.slice(cursor, chunkEnd));
  return tokens;
}

/**
 * Words whose capital at the start of a sentence is only grammar. Any other first word keeps its
 * case: "X is null" and "x is null", "Foo returns" and "foo returns" may name different things.
 */
const SENTENCE_OPENERS: ReadonlySet<string> = new Set([
  ...STOP_WORDS,
  ...`what why how when where who whom whose which whether not no yes ok okay
  explain write show tell give describe help compare suggest define sort convert fix find create make add
  remove delete update check use run build install implement generate refactor print rename move copy
  translate parse`.split(/\s+/).filter(Boolean),
]);

/**
 * How each word is capitalised where capitals carry meaning: lower-cased word → its spellings in
 * order, leaving out sentence openers (the first word of a sentence when it is a function word, a
 * question word or a common request verb), the pronoun "I" and product names (the tech gate
 * compares those case-insensitively). "String" and "string" are different types.
 *
 * @example wordCasing('Convert a String to int').get('string') // "String"
 */
export function wordCasing(prose: string): Map<string, string> {
  const casing = new Map<string, string>();
  const text = prose.normalize('NFKC');
  let sentenceStart = true;
  let cursor = 0;
  for (const match of text.matchAll(WORD)) {
    const between = text.slice(cursor, match.index);
    cursor = match.index + match[0].length;
    if (/[.!?\n]/.test(between)) sentenceStart = true;
    const word = match[0];
    const lower = word.toLowerCase();
    const initial = sentenceStart;
    sentenceStart = false;
    if ((initial && SENTENCE_OPENERS.has(lower)) || lower === 'i' || TECH_TERMS.has(lower)) continue;
    // Spellings in order, repeats folded: "List … list" is not "list … List", but "map … map" is "map".
    const spellings = casing.get(lower);
    if (spellings === undefined) casing.set(lower, word);
    else if (!spellings.endsWith(` ${word}`) && spellings !== word) casing.set(lower, `${spellings} ${word}`);
  }
  return casing;
}

/** True when a word both texts use is capitalised differently in one of them. */
export function casingDiffers(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  for (const [word, spellings] of a) {
    const other = b.get(word);
    if (other !== undefined && other !== spellings) return true;
  }
  return false;
}
