/**
 * Token counts for estimates (L2 savings, the optimiser, benchmarks) where no provider `usage` is
 * at hand. Real billing figures always come from the upstream's own `usage`.
 */
import type * as O200k from 'gpt-tokenizer/encoding/o200k_base';
import type { ApiStyle, JsonObject, JsonValue } from './request';

let o200k: typeof O200k | undefined;

/**
 * The encoding, loaded on first use: building its 200k-entry table takes ~0.2-0.6 s, which
 * `isartor serve` would otherwise spend before it could listen (issue 8: ready in 300 ms).
 */
function encoding(): typeof O200k {
  return (o200k ??= require('gpt-tokenizer/encoding/o200k_base') as typeof O200k);
}

/**
 * o200k_base is the encoding of every current OpenAI chat model (gpt-4o, gpt-4.1, o-series,
 * gpt-5), so OpenAI counts are exact. Anthropic publishes no tokenizer (only a count_tokens API
 * call), so Claude counts made here are estimates in the same ballpark, not billing figures.
 */
const ENCODE_OPTIONS = {
  // A prompt that mentions "<|endoftext|>" is ordinary text; the default would throw on it.
  disallowedSpecial: new Set<string>(),
};

/** Tokens a chat format spends per message on role and separators (OpenAI's published rule of thumb). */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant's reply. */
const TOKENS_PER_REPLY = 3;

/**
 * Longest run of one character class (letters, digits, other symbols, whitespace) handed to the
 * encoder in one piece. Byte-pair merging is quadratic in a pre-token's length, and the encoder's
 * pre-tokeniser keeps a run of letters whole ("x" × 65,536 took 4.6 s). Cutting such runs keeps
 * every piece cheap (random letters: 5× cheaper cut at 32 than at 64) and adds at most about one
 * token per 32 characters of a run; words, JSON, code and paths have shorter runs, so their
 * counts stay exact.
 */
const MAX_RUN = 32;
/** Texts are encoded in segments of about this many characters, cut at whitespace. */
const SEGMENT = 1024;
/**
 * Characters counted exactly per call. Beyond them the count is extrapolated from the tokens per
 * character of the part counted, so a 4 MiB prompt costs one linear scan, not seconds of
 * encoding. Measured CPU time per 16 KiB here: prose ~10 ms; random letters ~20 ms and random
 * CJK ~50 ms (they miss the vocabulary and every merge cache), so 8 KiB keeps the two counts of a
 * request's usage estimate (input and output) to a few tens of ms. A character budget keeps counts
 * reproducible: the same text always counts the same, whatever the machine's load. These counts
 * are estimates for the ledger, local-model eligibility and the optimiser; billing always uses
 * the provider's own `usage`.
 */
export const EXACT_COUNT_CHARS = 8 * 1024;

const SPACE = 0;
const LETTER = 1;
const DIGIT = 2;
const SYMBOL = 3;

/** The pre-tokeniser's character classes, closely enough: anything beyond ASCII counts as a letter. */
function charClass(code: number): number {
  if (code === 32 || (code >= 9 && code <= 13)) return SPACE;
  if (code >= 48 && code <= 57) return DIGIT;
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127) return LETTER;
  return SYMBOL;
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/**
 * Splits `text` into pieces the encoder handles in linear total time: about SEGMENT characters,
 * and no run of one class longer than MAX_RUN. A segment ends before a space that follows a
 * non-space, where the encoder's pre-tokeniser would split too (" word" stays one pre-token), so
 * ordinary text counts the same in pieces as whole; text without such spaces (minified JSON) is
 * cut, after 2 × SEGMENT, where a run of symbols that starts a pre-token follows a word or number. Never cuts a surrogate pair. The pieces concatenate to `text`.
 *
 * @example [...boundedPieces('x'.repeat(130))].map((p) => p.length) // [64, 64, 2]
 */
export function* boundedPieces(text: string): Generator<string> {
  let start = 0;
  let runStart = 0;
  let runClass = -1;
  let classBeforeRun = -1;
  let lastSpace = -1;
  let lastSymbols = -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const kind = charClass(code);
    if (kind !== runClass) {
      if (code === 32) lastSpace = i;
      if (runClass === SYMBOL && startsPreToken(text, runStart, i - runStart, classBeforeRun, kind)) lastSymbols = runStart;
      classBeforeRun = runClass;
      runStart = i;
      runClass = kind;
    } else if (i - runStart >= MAX_RUN && !isLowSurrogate(code)) {
      yield text.slice(start, i);
      start = i;
      runStart = i;
    }
    if (i - start < SEGMENT) continue;
    const cut = lastSpace > start ? lastSpace : i - start >= 2 * SEGMENT && lastSymbols > start ? lastSymbols : -1;
    if (cut > 0) {
      yield text.slice(start, cut);
      start = cut;
    }
  }
  if (start < text.length) yield text.slice(start);
}

/**
 * Whether a run of symbols that followed a word or number starts a pre-token of its own: not when
 * it is one symbol the next word takes along ("/core"), nor an apostrophe the word keeps ("it's").
 */
function startsPreToken(text: string, runStart: number, length: number, before: number, after: number): boolean {
  if (before !== LETTER && before !== DIGIT) return false;
  if (text.charCodeAt(runStart) === 39) return false;
  return length >= 2 || after !== LETTER;
}

/** Tokens and characters counted exactly so far. */
interface Tally {
  tokens: number;
  chars: number;
}

/**
 * Counts `text` piece by piece into `tally` while the character budget lasts, or until
 * more than `stopAbove` tokens are counted. Returns how many characters were left uncounted.
 */
function countAffordably(text: string, tally: Tally, stopAbove = Infinity): number {
  let offset = 0;
  const encoder = encoding();
  for (const piece of boundedPieces(text)) {
    if (tally.chars + piece.length > EXACT_COUNT_CHARS) break;
    tally.tokens += encoder.countTokens(piece, ENCODE_OPTIONS);
    tally.chars += piece.length;
    offset += piece.length;
    if (tally.tokens > stopAbove) break;
  }
  return text.length - offset;
}

/** The exact tally plus `uncounted` characters at the tally's own rate (or 4 characters a token). */
function extrapolate(tally: Tally, uncounted: number): number {
  if (uncounted === 0) return tally.tokens;
  const rate = tally.chars > 0 && tally.tokens > 0 ? tally.tokens / tally.chars : 1 / 4;
  return tally.tokens + Math.ceil(uncounted * rate);
}

/**
 * Tokens in all of `texts` together, in time linear in their length: exact for up to
 * EXACT_COUNT_CHARS characters, the rest extrapolated.
 *
 * @example countTokensOf(['hello', 'world']) // 2
 */
export function countTokensOf(texts: readonly string[]): number {
  const tally: Tally = { tokens: 0, chars: 0 };
  let uncounted = 0;
  for (const text of texts) {
    if (text === '') continue;
    uncounted += countAffordably(text, tally);
  }
  return extrapolate(tally, uncounted);
}

/**
 * Tokens in `text`, exact whatever its length (in pieces, so linear, but unbounded): for offline
 * measurements such as `isartor bench`, never on a request's path.
 *
 * @example countTokensExactly('hello world') // 2
 */
export function countTokensExactly(text: string): number {
  const encoder = encoding();
  let tokens = 0;
  for (const piece of boundedPieces(text)) tokens += encoder.countTokens(piece, ENCODE_OPTIONS);
  return tokens;
}

/**
 * Tokens in `text` under o200k_base: exact for texts up to EXACT_COUNT_CHARS of ordinary words,
 * an estimate beyond (see countTokensOf).
 *
 * @example countTokens('hello world') // 2
 */
export function countTokens(text: string): number {
  if (text === '') return 0;
  return countTokensOf([text]);
}

/**
 * Token ids of `text` under o200k_base (special-token text counts as ordinary text). Quadratic on
 * long runs without spaces: only for short texts (a word, a snippet).
 *
 * @example encodeTokens(' weekend').length // 1
 */
export function encodeTokens(text: string): number[] {
  return encoding().encode(text, ENCODE_OPTIONS);
}

/**
 * Tokens in `text` when at most `limit`, else false; stops counting once past the limit, so the
 * work is bounded by the limit and the budgets of countTokensOf, not by the text.
 *
 * @example tokensWithinLimit('hello world', 1) // false
 */
export function tokensWithinLimit(text: string, limit: number): number | false {
  const tally: Tally = { tokens: 0, chars: 0 };
  const uncounted = countAffordably(text, tally, limit);
  if (tally.tokens > limit) return false;
  const tokens = extrapolate(tally, uncounted);
  return tokens > limit ? false : tokens;
}

/**
 * Estimated input tokens of a request body: every text part of the messages, the system prompt,
 * tool definitions and tool calls/results, plus the per-message overhead of the chat format.
 * Images, audio and files are not counted (their cost depends on the provider's own rules).
 * Never throws on odd shapes: unknown parts count 0.
 *
 * @example estimateInputTokens('openai.chat', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) // 7
 */
export function estimateInputTokens(api: ApiStyle, body: JsonObject, count: (texts: readonly string[]) => number = countTokensOf): number {
  const texts: string[] = [];
  let overhead = 0;
  let preTokenised = 0;
  if (api === 'openai.completions') {
    const prompt = body.prompt;
    for (const part of Array.isArray(prompt) ? prompt : [prompt]) {
      if (typeof part === 'string') texts.push(part);
      else if (typeof part === 'number') preTokenised += 1;
      else if (Array.isArray(part)) preTokenised += part.length;
    }
  } else if (api === 'openai.responses') {
    // Responses input items mix text with call ids and arguments; counting each item's JSON is a fair upper estimate.
    if (typeof body.instructions === 'string') texts.push(body.instructions);
    if (typeof body.input === 'string') texts.push(body.input);
    for (const item of asArray(body.input)) texts.push(typeof item === 'string' ? item : JSON.stringify(item));
    overhead += TOKENS_PER_MESSAGE * (asArray(body.input).length + 1) + TOKENS_PER_REPLY;
    for (const tool of asArray(body.tools)) texts.push(JSON.stringify(tool));
    if (isObject(body.text)) texts.push(JSON.stringify(body.text));
  } else {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    if (api === 'anthropic.messages') collectAnthropicContent(body.system, texts);
    if (api === 'anthropic.messages' && body.system !== undefined) overhead += TOKENS_PER_MESSAGE;
    for (const message of messages) {
      if (!isObject(message)) continue;
      overhead += TOKENS_PER_MESSAGE;
      if (api === 'openai.chat') collectOpenAiMessage(message, texts);
      else collectAnthropicContent(message.content, texts);
    }
    if (messages.length > 0) overhead += TOKENS_PER_REPLY;
    for (const tool of [...asArray(body.tools), ...asArray(body.functions)]) texts.push(JSON.stringify(tool));
    if (api === 'openai.chat' && isObject(body.response_format)) texts.push(JSON.stringify(body.response_format));
  }
  return overhead + preTokenised + count(texts);
}

/**
 * About four UTF-8 bytes a token, without the tokenizer: for estimates no bill depends on, where
 * loading o200k (~0.4 s of one thread, 43 MB) would stall every other request, and in VS Code every
 * other extension, for its sake.
 *
 * @example approximateTokensOf(['hello world!']) // 3
 */
export function approximateTokensOf(texts: readonly string[]): number {
  return approximateBytes(texts);
}

/** `approximateTokensOf` for one text. */
export function approximateTokens(text: string): number {
  return approximateBytes([text]);
}

function approximateBytes(texts: readonly string[]): number {
  let bytes = 0;
  for (const text of texts) bytes += Buffer.byteLength(text, 'utf8');
  return Math.ceil(bytes / 4);
}

/** OpenAI chat message: string or parts content, refusals, tool calls and legacy function calls. */
function collectOpenAiMessage(message: JsonObject, texts: string[]): void {
  if (typeof message.name === 'string') texts.push(message.name);
  const content = message.content;
  if (typeof content === 'string') texts.push(content);
  for (const part of asArray(content)) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string') texts.push(part.text);
    if (typeof part.refusal === 'string') texts.push(part.refusal);
  }
  if (typeof message.refusal === 'string') texts.push(message.refusal);
  const calls = [...asArray(message.tool_calls).map((call) => (isObject(call) ? call.function : undefined)), message.function_call];
  for (const call of calls) {
    if (!isObject(call)) continue;
    if (typeof call.name === 'string') texts.push(call.name);
    if (typeof call.arguments === 'string') texts.push(call.arguments);
  }
}

/** Anthropic content: a string, or blocks of text, thinking, tool_use input and tool_result content. */
function collectAnthropicContent(content: JsonValue | undefined, texts: string[]): void {
  if (typeof content === 'string') {
    texts.push(content);
    return;
  }
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') texts.push(block.text);
    if (typeof block.thinking === 'string') texts.push(block.thinking);
    if (block.type === 'tool_use') {
      if (typeof block.name === 'string') texts.push(block.name);
      if (block.input !== undefined) texts.push(JSON.stringify(block.input));
    }
    if (block.type === 'tool_result') collectAnthropicContent(block.content, texts);
    if (block.type === 'document' && isObject(block.source) && typeof block.source.data === 'string' && block.source.type === 'text') {
      texts.push(block.source.data);
    }
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function asArray(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}
