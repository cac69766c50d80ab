/**
 * Safety gates run on the nearest neighbour after the embedder has spoken: two last turns that
 * differ in numbers, identifiers, code, negation, named technology, contrast words or the order of
 * a relation want different answers, however close their vectors are.
 */
import { stemmer } from 'stemmer';
import { lexicalTokens, weightedTerms } from '../embed/lexical';
import { foldSynonym, foldSynonymInflected } from '../embed/synonyms';
import { TECH_TERMS } from '../embed/tech-terms';
import { casingDiffers, isSpaceCode, symbolTokens, wordCasing } from './symbols';

/** Why a candidate was rejected; the ledger counts `l1b_rejected` by these. */
export type GateReason =
  | 'numbers'
  | 'identifiers'
  | 'code'
  | 'symbols'
  | 'layout'
  | 'case'
  | 'negation'
  | 'tech'
  | 'names'
  | 'question'
  | 'contrast'
  | 'detail'
  | 'wording'
  | 'order';

/** What the gates compare, extracted once per text. */
export interface GateSignature {
  numbers: string;
  identifiers: string;
  code: string;
  /**
   * Operators and punctuation-bearing tokens outside code, in order, as written, then the marks
   * that end its sentences (see `sentenceMarks`).
   */
  symbols: string;
  /** Line breaks, indentation and other whitespace outside code (see `layoutOf`). */
  layout: string;
  /** Lower-cased word → how it is capitalised (see `wordCasing`). */
  casing: Map<string, string>;
  negations: number;
  tech: string;
  contrast: string;
  /** Content terms in order, for the order gate. */
  terms: string[];
  /** Content terms specific enough that a question with one and without it asks something else. */
  specificTerms: Set<string>;
  /** The same terms as a set, for lookups. */
  termSet: Set<string>;
  /** Lower-cased proper names (capitalised words inside a sentence). */
  names: Set<string>;
  /** Every lower-cased word, to look names up in. */
  words: Set<string>;
  /** Question words (why, how, when, ...): "why X" and "how X" want different answers. */
  question: string;
  /**
   * Every word but "the" inside a phrase and a greeting or thanks that opens or closes the text,
   * spellings folded (never plurals): who asks, tense, modality, "a" and "an", number all count.
   */
  wording: string;
  /** The same words in their order, for the order gate. */
  wordOrder: string[];
}

/**
 * Spelled numbers, compared as their digits. Every cardinal up to twenty and every ten up to
 * ninety: a sentence encoder puts "fifteen" next to "sixteen" as it puts "1" next to "2", and the
 * numbers gate is all that tells "Give me fifteen ideas" from "Give me sixteen ideas" under the
 * neural profile (it has no wording gate).
 */
const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  ten: '10', eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16', seventeen: '17',
  eighteen: '18', nineteen: '19', twenty: '20', thirty: '30', forty: '40', fifty: '50', sixty: '60', seventy: '70',
  eighty: '80', ninety: '90', hundred: '100', thousand: '1000', million: '1000000', billion: '1000000000',
  trillion: '1000000000000', dozen: '12', first: '1', second: '2', third: '3', fourth: '4', fifth: '5', sixth: '6',
  seventh: '7', eighth: '8', ninth: '9', tenth: '10', half: '0.5', twice: '2', double: '2', triple: '3', single: '1',
};

/**
 * True when `lexicalTokens(prose)` may hold one of NUMBER_WORDS: the word between non-alphanumerics
 * (or before "n't", which the tokens drop). Exact for ASCII, where the tokens' rewrites (lower case,
 * contractions, tech spellings) never make a number word of other letters; other text always says yes.
 */
const NUMBER_WORD_HINT = new RegExp(`(?<![A-Za-z0-9])(?:${Object.keys(NUMBER_WORDS).join('|')})(?:(?![A-Za-z0-9])|(?=n't))|[^\\x00-\\x7f]`, 'i');

const NEGATIONS = new Set(['not', 'no', 'never', 'without', 'none', 'nobody', 'nothing', 'neither', 'nor', 'cannot', 'nowhere', 'except', 'excluding', 'unless']);

/** Prefixes that make a word its opposite: safe / unsafe, possible / impossible, blocking / non-blocking. */
const NEGATING_PREFIXES = ['un', 'in', 'im', 'il', 'ir', 'dis', 'non', 'non-'];

/**
 * True when one text has a word and the other, instead, that word with a negating prefix ("Is
 * this code safe?" / "…unsafe?"). A sentence encoder puts the two close, and neither has a "not"
 * for the negation count. Words both texts hold are left alone ("undo and do").
 */
function prefixNegationDiffers(a: GateSignature, b: GateSignature): boolean {
  for (const word of a.words) {
    if (b.words.has(word)) continue;
    for (const prefix of NEGATING_PREFIXES) {
      if (word.length < prefix.length + 3 || !word.startsWith(prefix)) continue;
      const base = word.slice(prefix.length);
      if (b.words.has(base) && !a.words.has(base)) return true;
    }
  }
  return false;
}

/**
 * Words with an opposite or a sibling in the list: a question with one must not be answered with
 * the other's answer. Compared after stemming, as a set.
 */
const CONTRAST_WORDS = new Set(
  `increase decrease raise lower add remove delete insert enable disable install uninstall
  min max minimum maximum first last before after up down upper lower uppercase lowercase left right top bottom
  start stop begin end open close show hide import export encrypt decrypt encode decode compress decompress
  serialize deserialize push pull upload download sync async synchronous asynchronous client server
  input output read write public private protected true false ascending descending horizontal vertical
  inner outer join split merge rebase local remote global static dynamic mutable immutable sort reverse
  better worse best worst more less most least faster slower bigger smaller larger higher old new latest oldest
  previous next early late earlier later forward backward backwards inside outside above below over under
  male female men women boy girl husband wife buy sell win lose pass fail succeed accept reject allow deny
  love hate like dislike positive negative plus minus debug release dev prod development production test
  encrypted decrypted online offline light dark day night summer winter morning evening
  north south east west past future present cheap expensive rich poor young old long short`
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => stemmer(word)),
);

/**
 * A greeting that opens a text, followed by punctuation: "Hi, …", "Hello! …", "hey there, …".
 * Without the punctuation the word may be what is asked about ("Hello world in Rust").
 * Bounded repeats only: anchored and linear.
 */
const LEADING_GREETING = /^\s{0,8}(hi|hello|hey)(\s{1,4}there)?\s{0,4}[,!.:;\u2026]/i;

/** Words that must follow a greeting for it to be politeness rather than part of the text. */
const MIN_WORDS_AFTER_GREETING = 2;

/** Words that ask politely when they open the text (after a greeting). */
const POLITE_OPENERS = new Set(['please', 'kindly']);

/** Thanks and "please" that close the text, as token sequences. */
const POLITE_CLOSERS: readonly (readonly string[])[] = [['please'], ['thanks'], ['thx'], ['thank', 'you'], ['thanks', 'in', 'advance'], ['thank', 'you', 'in', 'advance']];

/**
 * Words after which a closing "please" or "thanks" is what is asked about, not politeness:
 * "another word for thanks", "How do you say please", "Reply with thank you". Prepositions,
 * articles, "is", and verbs of saying and writing; any other word before it ("Explain recursion
 * please", "Help me, thanks") leaves the closer politeness.
 */
const TAKES_CLOSER_AS_OBJECT: ReadonlySet<string> = new Set(
  `for to with without of than like as about between and or vs versus by from into on in not no
  a an the this that is are was were be being
  say says said saying word words mean means meaning spell spelled spelling pronounce translate
  reply respond answer type write writes wrote written send express called named`.split(/\s+/).filter(Boolean),
);

/** Whether the text's first letter may open a greeting (h or H): spares LEADING_GREETING on most texts. */
function mayGreet(prose: string): boolean {
  let i = 0;
  while (i < prose.length && i < 8 && isSpaceCode(prose.charCodeAt(i))) i++;
  return (prose.charCodeAt(i) | 0x20) === 0x68;
}

/**
 * The tokens of a text but a greeting or "please" that opens it and "please" or thanks that close
 * it: only there are they politeness. Inside the text they are words like any other ("How do I
 * say hi in French?", "Write a hello world program"), and so are articles, "just" and "really".
 */
function withoutPoliteEnds(tokens: readonly string[], prose: string): readonly string[] {
  let start = 0;
  const greeting = LEADING_GREETING.exec(prose);
  if (greeting && tokens[0] === greeting[1]!.toLowerCase()) {
    const after = greeting[2] !== undefined && tokens[1] === 'there' ? 2 : 1;
    // Before a single word the greeting may be the phrase asked about ("Hello, world" is not "world").
    if (tokens.length - after >= MIN_WORDS_AFTER_GREETING) start = after;
  }
  if (start < tokens.length && POLITE_OPENERS.has(tokens[start]!)) start++;
  let end = tokens.length;
  for (let closed = true; closed; ) {
    closed = false;
    for (const closer of POLITE_CLOSERS) {
      if (end - closer.length < start || !closer.every((word, i) => tokens[end - closer.length + i] === word)) continue;
      const before = tokens[end - closer.length - 1];
      if (before !== undefined && TAKES_CLOSER_AS_OBJECT.has(before)) continue;
      end -= closer.length;
      closed = true;
      break;
    }
  }
  return start === 0 && end === tokens.length ? tokens : tokens.slice(start, end);
}

const QUESTION_WORDS = new Set(['what', 'why', 'how', 'when', 'where', 'who', 'whom', 'whose', 'which', 'whether']);

/** Rarity weight from which a term missing on one side makes the questions different. */
export const SPECIFIC_TERM_WEIGHT = 0.45;

/** Options of one comparison. */
export interface GateOptions {
  /**
   * The gates to run (the embedder's profile, see gateSets.ts); all of them when absent. The
   * wording gate requires the same words (fillers aside; case, plurals and synonyms folded): the
   * lexical embedder needs it, since "who is" and "who was" look the same to it.
   */
  gates?: ReadonlySet<GateReason>;
}

/**
 * Capitalised words that do not start a sentence (names of people, places, products) and words in
 * capitals (GET, POST, HTTP). Each must appear on the other side, in any case: "HOW do I" is still
 * "how do I", but GET is not POST.
 */
function properNames(prose: string): Set<string> {
  const names = new Set<string>();
  for (const match of prose.matchAll(/(?<![.!?:;]\s*|^\s*|["\u201C(]\s*)\b([A-Z][a-z]+)\b/g)) {
    if (match[1] !== 'I') names.add(match[1]!.toLowerCase());
  }
  for (const match of prose.matchAll(/\b[A-Z]{2,}[A-Z0-9]*\b/g)) names.add(match[0].toLowerCase());
  return names;
}

// Non-ASCII written as \u escapes (\u2019 is ’): the bundles must stay ASCII (scripts/ascii-bundle.mjs).
/** A fenced block: its info string (language tag) and its code. */
const FENCED_CODE = /```([^\n]*)\n?([\s\S]*?)```/g;
const INLINE_CODE = /`([^`\n]+)`/g;
const QUOTED = /"([^"\n]{1,300})"|\u201C([^\u201D\n]{1,300})\u201D|(?:^|[\s(])'([^'\n]{1,300})'(?=$|[\s.,;:?!)])/g;
const INNER_CAPITAL = /[a-z0-9][A-Z]/;
/** A letter beside a digit: what any word holding both must contain somewhere. */
const LETTER_BESIDE_DIGIT = /[A-Za-z][0-9]|[0-9][A-Za-z]/;
/**
 * Each pattern with what a text must hold for the pattern to match at all: a far cheaper test that
 * spares running the pattern on most turns (gate keys are computed on the request path, issue 15).
 */
const IDENTIFIER_PATTERNS: ReadonlyArray<readonly [RegExp, (text: string) => boolean]> = [
  [/\b[a-z]+[A-Z][A-Za-z0-9]*\b/g, (text) => INNER_CAPITAL.test(text)], // camelCase
  [/\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b/g, (text) => INNER_CAPITAL.test(text)], // PascalCase with an inner capital
  [/\b\w+_\w+\b/g, (text) => text.includes('_')], // snake_case, CONSTANT_CASE
  [/(?:[~.]?\/|\b[A-Za-z]:\\)[\w.\-/\\]+|\b[\w.-]+\/[\w.\-/]+/g, (text) => text.includes('/') || text.includes('\\')], // paths
  [/\b[\w-]+\.[A-Za-z][\w]{0,9}\b/g, (text) => text.includes('.')], // file names, dotted names (foo.ts, os.path)
  [/\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]+\b/g, (text) => LETTER_BESIDE_DIGIT.test(text)], // words with digits (utf8, h264, v2)
  [/(?:^|\s)(--?[A-Za-z][\w-]*)/g, (text) => text.includes('-')], // command-line flags
];

function sortedJoin(values: Iterable<string>): string {
  return [...values].sort().join('\u0000');
}

/** Each match of `pattern`: its first group that took part, or the whole match, trimmed. */
function collect(text: string, pattern: RegExp): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(pattern)) {
    let value = match[0];
    for (let group = 1; group < match.length; group++) {
      if (match[group] !== undefined) {
        value = match[group]!;
        break;
      }
    }
    found.push(value.trim());
  }
  return found;
}

/**
 * Turns longer than this are served only for the very same text: the gates' work stays bounded
 * per request, and a pasted file that differs anywhere is a different question.
 */
export const MAX_GATED_CHARS = 16_384;

/** A signature that only the same text matches. */
function exactOnlySignature(text: string): GateSignature {
  return {
    numbers: '', identifiers: '', code: text, symbols: '', layout: '', casing: new Map(), negations: 0, tech: '', contrast: '',
    terms: [], specificTerms: new Set(), termSet: new Set(), names: new Set(), words: new Set(), question: '', wording: '', wordOrder: [],
  };
}

/**
 * The parts of a turn that every embedder profile's gates require to be equal on both sides (see
 * `EXACT_GATES`): two turns that differ in one of them are never each other's hit.
 */
export interface ExactParts {
  code: string;
  numbers: string;
  identifiers: string;
  symbols: string;
  layout: string;
}

/** The gates that compare `ExactParts`, one part each. */
export const EXACT_GATES: readonly GateReason[] = ['code', 'numbers', 'identifiers', 'symbols', 'layout'];

/** Whitespace other than a space: a line break, a tab, a no-break space. */
const OTHER_SPACE = /[^\S ]/;
/** A whitespace run that is not a single space. Greedy from a run's start, so linear. */
const NOTABLE_RUN = /\s{2,}|[^\S ]/g;
const LINE_BREAK = /[\n\r\v\f\u2028\u2029]/;

/**
 * The layout of a text: its whitespace runs as written, each after the number of runs before it
 * (so where the words break), the text's leading and trailing whitespace aside. Code and
 * configuration mean different things with a line indented, a tab for spaces or a line break
 * moved ("print(done)" inside or after the loop), so in a text on several lines every run but a
 * single space counts: line breaks, indentation, tabs, blank lines, trailing or doubled spaces.
 * In a text on one line only runs holding other whitespace than spaces (a tab) count: "How do  I"
 * is "How do I", and a doubled space inside a quoted string is the identifiers gate's. Empty for
 * most questions. Linear: one regexp pass, and between two such runs a count of the spaces.
 *
 * @example layoutOf('if x:\n    y') // "2\n    "
 */
export function layoutOf(prose: string): string {
  if (!OTHER_SPACE.test(prose)) return '';
  let end = prose.length;
  while (end > 0 && isSpaceCode(prose.charCodeAt(end - 1))) end--;
  let start = 0;
  while (start < end && isSpaceCode(prose.charCodeAt(start))) start++;
  let runs = 0;
  let strict = '';
  let lenient = '';
  let lineBreak = false;
  let cursor = start;
  NOTABLE_RUN.lastIndex = start;
  for (let match = NOTABLE_RUN.exec(prose); match !== null && match.index < end; match = NOTABLE_RUN.exec(prose)) {
    // Between two notable runs every run is a single space.
    for (let space = prose.indexOf(' ', cursor); space !== -1 && space < match.index; space = prose.indexOf(' ', space + 1)) runs++;
    runs++;
    const run = match[0];
    cursor = match.index + run.length;
    // Digits never are whitespace, so the count and the run after it cannot run together.
    const entry = `${runs}${run}`;
    strict += entry;
    if (OTHER_SPACE.test(run)) {
      lenient += entry;
      if (!lineBreak && LINE_BREAK.test(run)) lineBreak = true;
    }
  }
  return lineBreak ? strict : lenient;
}

/** A run of sentence marks ending a sentence (before whitespace or the end), found from its start. */
const SENTENCE_MARKS = /(?<![.!?\u2026\u3002\uff01\uff0e\uff1f])[.!?\u2026\u3002\uff01\uff0e\uff1f]+(?=\s|$)/g;
/**
 * Thanks or "please" closing a text, and what precedes them but sentence marks. Bounded repeats
 * and a literal after them: at most a few steps per position.
 */
const POLITE_END = /[\s,;:-]{0,8}\b(?:please|thx|thanks(?:\s{1,4}in\s{1,4}advance)?|thank\s{1,4}you(?:\s{1,4}in\s{1,4}advance)?)[\s.!?\u2026]{0,8}$/i;
/**
 * Whether the last two letters before the final marks and spaces are ones a polite closer ends
 * with (plea-se, than-ks, t-hx, thank y-ou, advan-ce): spares POLITE_END on most texts.
 */
function mayEndPolitely(prose: string): boolean {
  let i = prose.length - 1;
  for (let skipped = 0; i >= 0 && skipped < 9; i--, skipped++) {
    const code = prose.charCodeAt(i);
    if (!(isSpaceCode(code) || code === 0x2e || code === 0x21 || code === 0x3f || code === 0x2026)) break;
  }
  if (i < 1) return false;
  const last = prose.charCodeAt(i) | 0x20;
  const before = prose.charCodeAt(i - 1) | 0x20;
  return (last === 0x65 && (before === 0x73 || before === 0x63)) || (last === 0x73 && before === 0x6b) || (last === 0x78 && before === 0x68) || (last === 0x75 && before === 0x6f);
}

/** The first word of a sentence, from where the regexp's lastIndex is put. */
const FIRST_WORD = /[\s"'\u201C\u2018(]*([A-Za-z]+)/y;
/** Words that open a question: a sentence starting with one and ending without a mark asks. */
const QUESTION_OPENERS = new Set([
  ...QUESTION_WORDS,
  ...`is are was were am do does did can could should would will shall may might must have has had
  isn aren wasn weren don doesn didn couldn shouldn wouldn won haven hasn`.split(/\s+/).filter(Boolean),
]);

/**
 * How the sentences of a text end, in order: "?" (a run holding a question mark), "!" or "." (a
 * full stop alone); an ellipsis is no mark. A text that ends with no mark ends with "?" when its
 * last sentence opens like a question ("How do I X" asks "How do I X?") and with "." otherwise
 * ("Delete the branch" is "Delete the branch."): so "Delete the branch." and "It works!" are never
 * the question "…?". A greeting that opens the text and thanks that close it do not count.
 *
 * @example sentenceMarks('It works. Why') // ".?"
 */
export function sentenceMarks(prose: string): string {
  let end = prose.length;
  if (mayEndPolitely(prose)) {
    // POLITE_END matches at most ~50 characters: looking at the last 64 finds the same match.
    const tailStart = Math.max(0, prose.length - 64);
    const polite = POLITE_END.exec(tailStart === 0 ? prose : prose.slice(tailStart));
    if (polite) end = tailStart + polite.index;
  }
  while (end > 0 && isSpaceCode(prose.charCodeAt(end - 1))) end--;
  const greeting = mayGreet(prose) ? LEADING_GREETING.exec(prose) : null;
  let marks = '';
  let sentenceStart = greeting ? greeting[0].length : 0;
  let endsWithMark = false;
  SENTENCE_MARKS.lastIndex = sentenceStart;
  for (let match = SENTENCE_MARKS.exec(prose); match !== null && match.index < end; match = SENTENCE_MARKS.exec(prose)) {
    const run = match[0];
    const mark = run.includes('?') || run.includes('\uff1f') ? '?' : run.includes('!') || run.includes('\uff01') ? '!' : run.length === 1 && run !== '\u2026' ? '.' : '';
    sentenceStart = match.index + run.length;
    endsWithMark = mark !== '' && sentenceStart >= end;
    marks += mark;
  }
  if (endsWithMark) return marks;
  FIRST_WORD.lastIndex = sentenceStart;
  const opener = FIRST_WORD.exec(prose)?.[1]?.toLowerCase();
  return marks + (opener !== undefined && QUESTION_OPENERS.has(opener) ? '?' : '.');
}

/** `ExactParts` plus what `gateSignature` reuses of the work. */
type ExactPartsWork = ExactParts & { prose: string; tokens: string[] };

function exactPartsWork(text: string, wantTokens: boolean): ExactPartsWork {
  // Each pattern runs only on a text holding the characters it needs to match (same result, less work).
  const hasFence = text.includes('```');
  // Fenced code exactly as written, with its language tag ("7 / 2" is 3 in C, 3.5 in Python):
  // blank lines, indentation and trailing spaces may all be what is asked about. Only the newline
  // before the closing fence is left out.
  const fenced: string[] = [];
  if (hasFence) {
    for (const match of text.matchAll(FENCED_CODE)) {
      const code = match[2]!;
      fenced.push(`${match[1]!.trim()}\n${code.endsWith('\n') ? code.slice(0, -1) : code}`);
    }
  }
  const withoutFences = hasFence ? text.replace(FENCED_CODE, ' ') : text;
  const hasInline = withoutFences.includes('`');
  const inline = hasInline ? collect(withoutFences, INLINE_CODE) : [];
  const prose = hasInline ? withoutFences.replace(INLINE_CODE, ' ') : withoutFences;
  const quoted = /["'\u201C]/.test(prose) ? collect(prose, QUOTED) : [];
  const identifiers = new Set<string>(quoted.map((q) => `"${q}"`));
  for (const [pattern, mayMatch] of IDENTIFIER_PATTERNS) {
    if (!mayMatch(prose)) continue;
    // Product spellings (JavaScript, GitHub, macOS) are compared by the tech gate, case-insensitively.
    for (const id of collect(prose, pattern)) if (!TECH_TERMS.has(id.toLowerCase())) identifiers.add(id);
  }

  // The tokens matter here only for number words; the gate key's callers need nothing else of them.
  const tokens = wantTokens || NUMBER_WORD_HINT.test(prose) ? lexicalTokens(prose, true) : [];
  const numbers: string[] = [];
  for (const match of prose.matchAll(/\d[\d,]*(?:\.\d+)?/g)) numbers.push(match[0].replace(/,(?=\d{3}\b)/g, ''));
  for (const token of tokens) if (Object.hasOwn(NUMBER_WORDS, token)) numbers.push(NUMBER_WORDS[token]!);
  const symbols = symbolTokens(prose);
  return {
    prose,
    tokens,
    numbers: sortedJoin(numbers),
    identifiers: sortedJoin(identifiers),
    code: [...fenced, '\u0001', ...inline].join('\u0000'),
    symbols: `${symbols.join('\u0000')}\u0001${sentenceMarks(prose)}`,
    layout: layoutOf(prose),
  };
}

/** The `ExactParts` of a turn, exactly as `gateSignature` has them. */
export function exactParts(text: string): ExactParts {
  if (text.length > MAX_GATED_CHARS) return exactOnlySignature(text);
  const { code, numbers, identifiers, symbols, layout } = exactPartsWork(text, false);
  return { code, numbers, identifiers, symbols, layout };
}

/** Extracts everything the gates compare from one last user turn. */
export function gateSignature(text: string): GateSignature {
  if (text.length > MAX_GATED_CHARS) return exactOnlySignature(text);
  const { prose, tokens, numbers, identifiers, code, symbols, layout } = exactPartsWork(text, true);
  const weighted = weightedTerms(prose, true, true);
  // "the" inside a phrase never says which thing is meant ("the Fibonacci sequence" is "Fibonacci
  // sequence"; "The Matrix" is a name, which the names gate keeps). Before the last word it does:
  // "What is the time?" is not "What is time?", nor "What's the matter?" "What's matter?". "a" and
  // "an" always do: "a" may be a variable.
  const wordOrder = withoutPoliteEnds(tokens, prose)
    .filter((token, i, all) => token !== 'the' || i === all.length - 2)
    .map((token, i, kept) => foldSynonymInflected(token, kept[i + 1]));
  const terms = weighted.map((term) => term.term);
  return {
    numbers,
    identifiers,
    code,
    symbols,
    layout,
    casing: wordCasing(prose),
    negations: tokens.filter((token) => NEGATIONS.has(token)).length,
    tech: sortedJoin(new Set(tokens.filter((token) => TECH_TERMS.has(token)))),
    contrast: sortedJoin(new Set(tokens.map((token, i) => stemmer(foldSynonym(token, tokens[i + 1]))).filter((stem) => CONTRAST_WORDS.has(stem)))),
    terms,
    specificTerms: new Set(weighted.filter((term) => term.weight >= SPECIFIC_TERM_WEIGHT).map((term) => term.term)),
    termSet: new Set(terms),
    names: new Set([...properNames(prose)].map((name) => foldSynonym(name))),
    words: new Set(tokens.map((token, i) => foldSynonym(token, tokens[i + 1]))),
    wording: sortedJoin(wordOrder),
    wordOrder,
    question: sortedJoin(new Set(tokens.filter((token) => QUESTION_WORDS.has(token)))),
  };
}

/**
 * True when the terms both texts share appear in a different order in each: "convert string to
 * int" is not "convert int to string", and "diesel in a petrol engine" is not the reverse. First
 * by where each term first appears; then, when both hold the shared terms equally often, by
 * every occurrence: "2 to the power of 3 to the power of 2" (512) is not "2 to the power of 2 to
 * the power of 3" (256), though each term first appears in the same order.
 */
function sharedOrderDiffers(a: string[], b: string[]): boolean {
  const inB = new Set(b);
  const inA = new Set(a);
  const sharedA = a.filter((t) => inB.has(t));
  const sharedB = b.filter((t) => inA.has(t));
  const firstSeen = (terms: string[]): string => [...new Set(terms)].join(' ');
  if (firstSeen(sharedA) !== firstSeen(sharedB)) return true;
  // Counts that differ are the wording gate's business (a paraphrase may repeat "to" once more).
  return sharedA.length === sharedB.length && sharedA.some((term, i) => term !== sharedB[i]);
}

/**
 * The first gate the pair fails, or undefined when the candidate may be served.
 *
 * @example checkGates(gateSignature('sort 10 items'), gateSignature('sort 12 items')) // "numbers"
 */
export function checkGates(query: GateSignature, candidate: GateSignature, options: GateOptions = {}): GateReason | undefined {
  const on = (gate: GateReason): boolean => options.gates === undefined || options.gates.has(gate);
  if (on('code') && query.code !== candidate.code) return 'code';
  if (on('numbers') && query.numbers !== candidate.numbers) return 'numbers';
  if (on('identifiers') && query.identifiers !== candidate.identifiers) return 'identifiers';
  if (on('symbols') && query.symbols !== candidate.symbols) return 'symbols';
  if (on('layout') && query.layout !== candidate.layout) return 'layout';
  if (on('case') && casingDiffers(query.casing, candidate.casing)) return 'case';
  if (on('negation') && (query.negations !== candidate.negations || prefixNegationDiffers(query, candidate) || prefixNegationDiffers(candidate, query))) return 'negation';
  if (on('tech') && query.tech !== candidate.tech) return 'tech';
  const namesOnBothSides = (a: GateSignature, b: GateSignature): boolean => [...a.names].every((name) => b.words.has(name));
  if (on('names') && (!namesOnBothSides(query, candidate) || !namesOnBothSides(candidate, query))) return 'names';
  if (on('question') && query.question !== candidate.question) return 'question';
  if (on('contrast') && query.contrast !== candidate.contrast) return 'contrast';
  const allTerms = (a: GateSignature, b: GateSignature): boolean => [...a.specificTerms].every((term) => b.termSet.has(term));
  if (on('detail') && (!allTerms(query, candidate) || !allTerms(candidate, query))) return 'detail';
  if (on('wording') && query.wording !== candidate.wording) return 'wording';
  if (on('order') && sharedOrderDiffers(query.wordOrder, candidate.wordOrder)) return 'order';
  return undefined;
}
