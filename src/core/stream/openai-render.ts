/**
 * Renders a complete OpenAI answer (`chat.completion` or `text_completion`) as the SSE sequence the
 * API would have streamed: role, content / refusal / tool-call deltas, finish, usage, `[DONE]`.
 */
import type { StoredAnswer } from '../outcome';
import type { JsonObject, JsonValue } from '../request';
import { DONE_FRAME, dataFrame } from './sse-format';

export interface OpenAIRenderOptions {
  /** The request's `stream_options.include_usage`: add the usage chunk (and `usage: null` on the others). */
  includeUsage: boolean;
}

/** Message fields that get their own delta treatment; any other string field streams as a text delta. */
const STRUCTURED_MESSAGE_FIELDS = new Set(['role', 'content', 'refusal', 'tool_calls', 'function_call']);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Body fields every chunk's head is built from, or that chunks carry in their own way. */
const BODY_OWN_FIELDS = new Set(['id', 'object', 'created', 'model', 'choices', 'usage', 'system_fingerprint', 'service_tier']);

function chunkHead(body: JsonObject, object: string, includeUsage: boolean): JsonObject {
  const head: JsonObject = { id: body.id ?? '', object, created: body.created ?? 0, model: body.model ?? '' };
  if (body.system_fingerprint !== undefined) head.system_fingerprint = body.system_fingerprint;
  if (body.service_tier !== undefined) head.service_tier = body.service_tier;
  // A provider's own top-level fields (Perplexity's `citations`) went out with its chunks.
  for (const key in body) if (!BODY_OWN_FIELDS.has(key) && body[key] !== null) head[key] = body[key]!;
  if (includeUsage) head.usage = null;
  return head;
}

/** Choice fields the deltas are built from; any other is a provider's addition. */
const CHOICE_OWN_FIELDS = new Set(['index', 'message', 'text', 'logprobs', 'finish_reason']);

/** A provider's own choice fields (Azure's `content_filter_results`): they go out on the choice's last chunk. */
function choiceExtras(choice: JsonObject): JsonObject {
  const extras: JsonObject = {};
  for (const key in choice) if (!CHOICE_OWN_FIELDS.has(key) && choice[key] !== null) extras[key] = choice[key]!;
  return extras;
}

function chatChoiceDeltas(choice: JsonObject): JsonObject[] {
  const index = typeof choice.index === 'number' ? choice.index : 0;
  const message = isObject(choice.message) ? choice.message : {};
  const logprobs = isObject(choice.logprobs) ? choice.logprobs : null;
  const part = (delta: JsonObject, extra: JsonObject = {}): JsonObject => ({ index, delta, logprobs: null, finish_reason: null, ...extra });
  const parts: JsonObject[] = [part({
    role: typeof message.role === 'string' ? message.role : 'assistant',
    content: typeof message.content === 'string' ? '' : null,
    refusal: null,
  })];
  for (const [key, value] of Object.entries(message)) {
    if (!STRUCTURED_MESSAGE_FIELDS.has(key) && value !== null) parts.push(part({ [key]: value }));
  }
  if (typeof message.content === 'string' && message.content !== '') parts.push(part({ content: message.content }, { logprobs }));
  else if (logprobs) parts.push(part({}, { logprobs }));
  if (typeof message.refusal === 'string' && message.refusal !== '') parts.push(part({ refusal: message.refusal }));
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call, callIndex) => {
      if (!isObject(call)) return;
      const fn = isObject(call.function) ? call.function : {};
      const { function: _fn, ...callFields } = call;
      parts.push(part({ tool_calls: [{ index: callIndex, ...callFields, function: { name: fn.name ?? '', arguments: '' } }] }));
      if (typeof fn.arguments === 'string' && fn.arguments !== '') {
        parts.push(part({ tool_calls: [{ index: callIndex, function: { arguments: fn.arguments } }] }));
      }
    });
  }
  if (isObject(message.function_call)) {
    const call = message.function_call;
    parts.push(part({ function_call: { name: call.name ?? '', arguments: '' } }));
    if (typeof call.arguments === 'string' && call.arguments !== '') parts.push(part({ function_call: { arguments: call.arguments } }));
  }
  parts.push(part({}, { finish_reason: choice.finish_reason ?? 'stop', ...choiceExtras(choice) }));
  return parts;
}

function completionChoiceDeltas(choice: JsonObject): JsonObject[] {
  const index = typeof choice.index === 'number' ? choice.index : 0;
  return [
    { text: typeof choice.text === 'string' ? choice.text : '', index, logprobs: choice.logprobs ?? null, finish_reason: null },
    { text: '', index, logprobs: null, finish_reason: choice.finish_reason ?? 'stop', ...choiceExtras(choice) },
  ];
}

/**
 * The answer's usage in OpenAI's shape: what the provider reported, or else the stored counts, so a
 * stream that asks for usage always gets a usage chunk, whatever stream stored the answer. Counts
 * Isartor estimated never get here: such an answer is not replayed to a client that reads usage
 * (replay-usage.ts).
 *
 * @example openAIUsageObject(answer) // { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }
 */
export function openAIUsageObject(answer: StoredAnswer): JsonValue {
  if (isObject(answer.body.usage)) return answer.body.usage;
  const { inputTokens, outputTokens, cachedInputTokens } = answer.usage;
  const usage: JsonObject = { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
  if (cachedInputTokens > 0) usage.prompt_tokens_details = { cached_tokens: cachedInputTokens };
  return usage;
}

/**
 * The full SSE text for a stored OpenAI answer, as one string ready to write.
 *
 * @example res.end(renderOpenAIStream(answer, { includeUsage: true }))
 */
export function renderOpenAIStream(answer: StoredAnswer, options: OpenAIRenderOptions): string {
  const body = answer.body;
  const chat = answer.api === 'openai.chat';
  const head = chunkHead(body, chat ? 'chat.completion.chunk' : 'text_completion', options.includeUsage);
  const choices = Array.isArray(body.choices) ? body.choices.filter(isObject) : [];
  const parts = choices.flatMap((choice) => (chat ? chatChoiceDeltas(choice) : completionChoiceDeltas(choice)));
  // Usage the provider streamed unasked goes on the last chunk, with its choice: a client that did
  // not ask for usage may not expect a chunk without choices.
  const unaskedUsage = !options.includeUsage && answer.usageUnasked === true && isObject(body.usage) ? body.usage : undefined;
  let out = '';
  parts.forEach((part, index) => {
    out += dataFrame(unaskedUsage && index === parts.length - 1 ? { ...head, choices: [part], usage: unaskedUsage } : { ...head, choices: [part] });
  });
  if (options.includeUsage) out += dataFrame({ ...head, choices: [], usage: openAIUsageObject(answer) });
  return out + DONE_FRAME;
}

/** Incremental OpenAI rendering for answers produced as text deltas (the local model). */
export interface LiveRenderer {
  start(): string;
  text(delta: string): string;
  /** Closing frames, given the finished answer (finish reason and usage come from it). */
  end(answer: StoredAnswer): string;
}

/** A live renderer for `openai.chat` or `openai.completions` text streams. */
export function createOpenAILiveRenderer(
  kind: 'chat' | 'completions',
  meta: { id: string; model: string; created: number },
  options: OpenAIRenderOptions,
): LiveRenderer {
  const head = chunkHead({ ...meta }, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', options.includeUsage);
  const frame = (choice: JsonObject): string => dataFrame({ ...head, choices: [choice] });
  return {
    start: () => (kind === 'chat' ? frame({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }) : ''),
    text: (delta) =>
      kind === 'chat'
        ? frame({ index: 0, delta: { content: delta }, logprobs: null, finish_reason: null })
        : frame({ text: delta, index: 0, logprobs: null, finish_reason: null }),
    end(answer) {
      const first = Array.isArray(answer.body.choices) && isObject(answer.body.choices[0]) ? answer.body.choices[0] : {};
      const finishReason = first.finish_reason ?? 'stop';
      let out = kind === 'chat'
        ? frame({ index: 0, delta: {}, logprobs: null, finish_reason: finishReason })
        : frame({ text: '', index: 0, logprobs: null, finish_reason: finishReason });
      if (options.includeUsage && answer.body.usage !== undefined) out += dataFrame({ ...head, choices: [], usage: answer.body.usage });
      return out + DONE_FRAME;
    },
  };
}
