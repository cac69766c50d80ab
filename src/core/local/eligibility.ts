/**
 * Decides, before any inference, whether a request is one the local model may answer: text only,
 * no tools, no output schema, one user turn or a short history, a small prompt. Everything else
 * goes to the next layer at no cost.
 */
import { tokensWithinLimit } from '../tokens';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import type { ChatTurn, LocalPrompt } from './engine';

export interface EligibilityLimits {
  /** System text plus every turn, counted with a cloud tokenizer (an estimate of the local count). */
  maxPromptTokens: number;
  /** Everything before the last user turn; 0 allows single-turn requests only. */
  maxHistoryTokens: number;
}

/** The client's own answer settings, read from the body. */
export interface ClientAnswerSettings {
  /** The client's output token limit, when it set one. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop: string[];
}

export type Eligibility =
  | { eligible: true; prompt: LocalPrompt; settings: ClientAnswerSettings }
  | { eligible: false; reason: string };

/**
 * Top-level fields a local answer can honour or safely ignore. Any other field may change the
 * answer in a way we cannot reproduce, so its presence makes the request ineligible.
 */
const KNOWN_FIELDS: Record<'openai.chat' | 'anthropic.messages', ReadonlySet<string>> = {
  'openai.chat': new Set([
    'model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p',
    'stop', 'seed', 'user', 'metadata', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'n',
    'response_format', 'tools', 'tool_choice', 'parallel_tool_calls', 'functions', 'function_call', 'logprobs',
    'top_logprobs', 'logit_bias', 'presence_penalty', 'frequency_penalty',
  ]),
  'anthropic.messages': new Set([
    'model', 'messages', 'system', 'max_tokens', 'stream', 'metadata', 'service_tier', 'temperature', 'top_p', 'top_k',
    'stop_sequences', 'tools', 'tool_choice', 'thinking',
  ]),
};

class Ineligible extends Error {}

/** Between the parts of the system text: separate system messages (OpenAI) or blocks (Anthropic). */
const SYSTEM_SEPARATOR = '\n\n';

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const nonEmptyArray = (value: JsonValue | undefined): boolean => Array.isArray(value) && value.length > 0;

/**
 * Text of a message's content: a string or text-only parts joined by `separator`; anything else
 * (images, audio, files, tool blocks) refuses.
 */
function contentText(content: JsonValue | undefined, where: string, separator = ''): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new Ineligible(`${where} has no text content`);
  return content
    .map((part) => {
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        const kind = isObject(part) && typeof part.type === 'string' ? part.type : 'unknown';
        throw new Ineligible(`${where} has a non-text part (${kind})`);
      }
      return part.text;
    })
    .join(separator);
}

function openaiPrompt(body: JsonObject): LocalPrompt {
  if (nonEmptyArray(body.tools) || body.functions !== undefined || body.function_call !== undefined) throw new Ineligible('tools or functions');
  if (body.tool_choice !== undefined && body.tool_choice !== 'none') throw new Ineligible('tool_choice');
  if (isObject(body.response_format) && body.response_format.type !== 'text') throw new Ineligible('response_format schema');
  if (typeof body.n === 'number' && body.n !== 1) throw new Ineligible('n > 1');
  if (body.logprobs === true || body.top_logprobs !== undefined) throw new Ineligible('logprobs');
  if (isObject(body.logit_bias) && Object.keys(body.logit_bias).length > 0) throw new Ineligible('logit_bias');
  if (!Array.isArray(body.messages)) throw new Ineligible('no messages');
  const system: string[] = [];
  const turns: ChatTurn[] = [];
  body.messages.forEach((message, index) => {
    if (!isObject(message)) throw new Ineligible(`message ${index} is not an object`);
    const where = `message ${index}`;
    if (message.role === 'system' || message.role === 'developer') system.push(contentText(message.content, where));
    else if (message.role === 'user') turns.push({ role: 'user', text: contentText(message.content, where) });
    else if (message.role === 'assistant') {
      if (nonEmptyArray(message.tool_calls) || message.function_call !== undefined) throw new Ineligible('tool calls in history');
      if (message.audio !== undefined) throw new Ineligible('audio in history');
      turns.push({ role: 'assistant', text: contentText(message.content ?? '', where) });
    } else throw new Ineligible(`${String(message.role)} message in history`);
  });
  return system.length > 0 ? { system: system.join(SYSTEM_SEPARATOR), turns } : { turns };
}

function anthropicPrompt(body: JsonObject): LocalPrompt {
  if (nonEmptyArray(body.tools)) throw new Ineligible('tools');
  if (body.tool_choice !== undefined) throw new Ineligible('tool_choice');
  if (isObject(body.thinking) && body.thinking.type !== 'disabled') throw new Ineligible('extended thinking');
  if (!Array.isArray(body.messages)) throw new Ineligible('no messages');
  const turns = body.messages.map((message, index): ChatTurn => {
    if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) throw new Ineligible(`message ${index} has an unknown role`);
    return { role: message.role, text: contentText(message.content, `message ${index}`) };
  });
  if (body.system === undefined) return { turns };
  // Separate system blocks are separate instructions ("Answer in French." "Be brief."): joined as
  // the OpenAI path joins separate system messages, never run together.
  return { system: contentText(body.system, 'system', SYSTEM_SEPARATOR), turns };
}

/**
 * Stop sequences keep a request from the local model. An OpenAI-compatible local server does not
 * say which sequence ended its answer (Anthropic's `stop_reason: "stop_sequence"` needs the
 * string), may ignore `stop` altogether, and reports a stop the same as a natural end: the answer
 * could come back uncut, or with the wrong stop reason. An empty list (or an empty string) asks for
 * nothing and is fine.
 */
/**
 * Requests that ask the provider to do something besides answering stay with the provider:
 * `store: true` (OpenAI keeps the completion, for the dashboard, evals or distillation, where the
 * user will look for it) and any `service_tier` (a processing tier the user chose and is billed
 * for, echoed in the reply; "auto" included, rather than guess how the reply should report it).
 * `metadata` alone stays eligible: OpenAI only keeps it with a stored completion, and Anthropic's
 * `metadata.user_id` only tags the request for abuse detection, so a local answer loses nothing.
 */
function refuseProviderSideEffects(body: JsonObject): void {
  if (body.store === true) throw new Ineligible('store: true');
  if (body.service_tier !== undefined && body.service_tier !== null) throw new Ineligible('service_tier');
}

function refuseStopSequences(api: 'openai.chat' | 'anthropic.messages', body: JsonObject): void {
  const stop = api === 'openai.chat' ? body.stop : body.stop_sequences;
  if ((typeof stop === 'string' && stop !== '') || (Array.isArray(stop) && stop.length > 0)) throw new Ineligible('stop sequences');
}

const numberField = (body: JsonObject, ...names: string[]): number | undefined => {
  for (const name of names) if (typeof body[name] === 'number') return body[name] as number;
  return undefined;
};

function clientSettings(api: 'openai.chat' | 'anthropic.messages', body: JsonObject): ClientAnswerSettings {
  const stopField = api === 'openai.chat' ? body.stop : body.stop_sequences;
  const stop = typeof stopField === 'string' ? [stopField] : Array.isArray(stopField) ? stopField.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  const settings: ClientAnswerSettings = { stop };
  const maxTokens = api === 'openai.chat' ? numberField(body, 'max_completion_tokens', 'max_tokens') : numberField(body, 'max_tokens');
  if (maxTokens !== undefined) settings.maxTokens = maxTokens;
  const temperature = numberField(body, 'temperature');
  if (temperature !== undefined) settings.temperature = temperature;
  const topP = numberField(body, 'top_p');
  if (topP !== undefined) settings.topP = topP;
  const topK = numberField(body, 'top_k');
  if (topK !== undefined) settings.topK = topK;
  const seed = numberField(body, 'seed');
  if (seed !== undefined) settings.seed = seed;
  return settings;
}

/** Tokens of `text` when at most `limit`, else undefined; stops counting early on long texts. */
function tokensWithin(text: string, limit: number): number | undefined {
  if (text === '') return 0;
  const count = tokensWithinLimit(text, limit);
  return count === false ? undefined : count;
}

/**
 * Whether the local model may try `body`, and if so the prompt and settings to use.
 *
 * @example
 * checkEligibility('openai.chat', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, limits)
 * // { eligible: true, prompt: { turns: [{ role: 'user', text: 'hi' }] }, settings: { stop: [] } }
 */
export function checkEligibility(api: ApiStyle, body: JsonObject, limits: EligibilityLimits): Eligibility {
  if (api === 'openai.completions') return { eligible: false, reason: 'legacy completions API' };
  if (api === 'openai.responses') return { eligible: false, reason: 'Responses API' };
  try {
    const unknown = Object.keys(body).find((field) => !KNOWN_FIELDS[api].has(field));
    if (unknown !== undefined) throw new Ineligible(`unsupported field "${unknown}"`);
    refuseProviderSideEffects(body);
    refuseStopSequences(api, body);
    const prompt = api === 'openai.chat' ? openaiPrompt(body) : anthropicPrompt(body);
    const last = prompt.turns.at(-1);
    if (!last || last.role !== 'user') throw new Ineligible('last message is not from the user');
    if (last.text.trim() === '') throw new Ineligible('empty user message');

    const history = prompt.turns.slice(0, -1).map((turn) => turn.text).join('\n');
    if (tokensWithin(history, limits.maxHistoryTokens) === undefined) {
      throw new Ineligible(limits.maxHistoryTokens === 0 ? 'more than one turn' : `history over ${limits.maxHistoryTokens} tokens`);
    }
    const everything = [prompt.system ?? '', ...prompt.turns.map((turn) => turn.text)].join('\n');
    if (tokensWithin(everything, limits.maxPromptTokens) === undefined) throw new Ineligible(`prompt over ${limits.maxPromptTokens} tokens`);
    return { eligible: true, prompt, settings: clientSettings(api, body) };
  } catch (error) {
    if (error instanceof Ineligible) return { eligible: false, reason: error.message };
    throw error;
  }
}
