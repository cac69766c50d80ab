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
 * Tokens in `text` under o200k_base.
 *
 * @example countTokens('hello world') // 2
 */
export function countTokens(text: string): number {
  if (text === '') return 0;
  return encoding().countTokens(text, ENCODE_OPTIONS);
}

/**
 * Token ids of `text` under o200k_base (special-token text counts as ordinary text).
 *
 * @example encodeTokens(' weekend').length // 1
 */
export function encodeTokens(text: string): number[] {
  return encoding().encode(text, ENCODE_OPTIONS);
}

/**
 * Tokens in `text` when at most `limit`, else false; stops encoding once past the limit.
 *
 * @example tokensWithinLimit('hello world', 1) // false
 */
export function tokensWithinLimit(text: string, limit: number): number | false {
  return encoding().isWithinTokenLimit(text, limit, ENCODE_OPTIONS);
}

/**
 * Estimated input tokens of a request body: every text part of the messages, the system prompt,
 * tool definitions and tool calls/results, plus the per-message overhead of the chat format.
 * Images, audio and files are not counted (their cost depends on the provider's own rules).
 * Never throws on odd shapes: unknown parts count 0.
 *
 * @example estimateInputTokens('openai.chat', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) // 7
 */
export function estimateInputTokens(api: ApiStyle, body: JsonObject): number {
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
  return texts.reduce((sum, text) => sum + countTokens(text), overhead + preTokenised);
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
