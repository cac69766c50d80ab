/**
 * Rebuilds a complete OpenAI `chat.completion` or `text_completion` body from its stream of chunks,
 * so a streamed answer can be cached and later replayed in either streaming mode.
 */
import type { JsonObject, JsonValue } from '../request';
import { mergeDelta } from './merge-delta';
import type { SseEvent } from './sse-parser';

/** Feeds parsed SSE events of one response; `result()` is defined only for a complete stream. */
export interface StreamAccumulator {
  push(event: SseEvent): void;
  /** The finished non-streamed body, or undefined when the stream failed or was cut short. */
  result(): JsonObject | undefined;
  /**
   * The provider's usage object, if the stream carried one: also when the answer is not complete
   * (cut, cancelled, ended in an error or `response.incomplete`), as the provider bills it anyway.
   */
  usage(): JsonValue | undefined;
  /**
   * Anthropic: the usage so far is `message_start`'s running count (its output tokens are not the
   * final ones), because no `message_delta` carried the final usage before the stream stopped.
   */
  usagePartial?(): boolean;
  /**
   * Whether the stream said it was over: its end marker (`[DONE]`, `message_stop`) or an error
   * event. A stream that stops without either was cut short, however cleanly its connection closed.
   */
  ended?(): boolean;
  /** Anthropic: the usage of `message_start` and of the last `message_delta` as streamed (they differ from the final usage). */
  streamUsage?(): StreamUsage | undefined;
  /** UTF-16 length of the answer's text so far: never more than its UTF-8 bytes. */
  textLength?(): number;
  /**
   * The answer will not be stored: lets go of its text and keeps none from now on, only counting
   * it. `result()` then has the answer's shape with empty texts; returns the UTF-8 bytes let go.
   */
  shed?(): number;
  /**
   * Anthropic: a part had too many pieces to rebuild here (a tool input of 60,000 keys took ~30 ms
   * to parse); it was left unparsed, so the answer is not stored and should be shed.
   */
  unstorable?(): boolean;
  /** Responses: the `sequence_number` the next event of the stream takes (responses-sequence.ts). */
  nextSequence?(): number;
  /** The provider's own error event came in the stream: the client's answer ended in an error. */
  upstreamError?(): boolean;
  /** Responses: an event went by unparsed (too large to read here); it took a sequence number. */
  unread?(): void;
}

/** The usage objects a Messages stream carried at its start and end, replayed as they were. */
export interface StreamUsage {
  start: JsonObject;
  end: JsonObject;
}

interface ChoiceState {
  index: number;
  /** chat: the message snapshot; completions: { text, logprobs } */
  snapshot: JsonObject;
  logprobs: JsonObject | null;
  finishReason: JsonValue;
  toolCalls: JsonObject[];
  /** The provider's own choice fields (Azure's `content_filter_results`), last value each. */
  extras: JsonObject;
}

/** Choice fields of a chunk that are not a provider's addition. */
const CHOICE_OWN_FIELDS = new Set(['index', 'delta', 'text', 'logprobs', 'finish_reason']);

/** Top-level chunk fields copied to the final body when present. */
const CARRIED_FIELDS = ['system_fingerprint', 'service_tier'];

/**
 * Top-level chunk fields that are not the answer's own: the ones read above, and OpenAI's
 * `obfuscation`, random padding that differs in every chunk. Any other top-level field is a
 * provider's addition (Perplexity's `citations`, OpenRouter's `provider`, Groq's `x_groq`) and is
 * kept, as its last value, the one the SDK's stream helper ends with.
 */
const CHUNK_OWN_FIELDS = new Set(['id', 'object', 'created', 'model', 'choices', 'usage', 'error', 'obfuscation', ...CARRIED_FIELDS]);

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Accumulates `chat.completion.chunk` (kind "chat") or streamed `text_completion` (kind
 * "completions") events. Complete means `[DONE]` arrived, no error chunk came, and every choice
 * has a finish_reason.
 */
export function createOpenAIAccumulator(kind: 'chat' | 'completions'): StreamAccumulator {
  const choices = new Map<number, ChoiceState>();
  const head: JsonObject = {};
  /** The provider's own top-level fields (CHUNK_OWN_FIELDS), last value each. */
  const extras: JsonObject = {};
  let usage: JsonValue | undefined;
  let done = false;
  let failed = false;
  /** An error chunk or event from the provider, as opposed to bytes this side could not read. */
  let errorEvent = false;
  let textLength = 0;
  /** Once shed: the UTF-8 bytes of text let go (undefined while the text is kept). */
  let shedBytes: number | undefined;

  /** Counts the text at `holder[key]`, and once shed lets it go (an empty string keeps the shape). */
  const text = (holder: JsonObject, key: string): void => {
    const value = holder[key];
    if (typeof value !== 'string') return;
    textLength += value.length;
    if (shedBytes === undefined) return;
    shedBytes += Buffer.byteLength(value, 'utf8');
    holder[key] = '';
  };
  /** The text fields answerTexts() reads: content, refusal, tool call arguments, a completion's text. */
  const texts = (holder: JsonObject, toolCalls: JsonValue[] | undefined): void => {
    text(holder, 'content');
    text(holder, 'refusal');
    text(holder, 'text');
    for (const call of toolCalls ?? []) if (isObject(call) && isObject(call.function)) text(call.function, 'arguments');
  };

  const choiceAt = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = { index, snapshot: {}, logprobs: null, finishReason: null, toolCalls: [], extras: {} };
      choices.set(index, state);
    }
    return state;
  };

  const mergeToolCalls = (state: ChoiceState, deltas: JsonValue[]): void => {
    for (const delta of deltas) {
      if (!isObject(delta)) continue;
      const position = typeof delta.index === 'number' ? delta.index : state.toolCalls.length;
      const call = (state.toolCalls[position] ??= {});
      const { index: _index, ...rest } = delta;
      mergeDelta(call, rest);
    }
  };

  const pushChunk = (chunk: JsonObject): void => {
    if (chunk.error !== undefined && chunk.error !== null) {
      failed = true;
      errorEvent = true;
      return;
    }
    for (const key of ['id', 'created', 'model', ...CARRIED_FIELDS]) {
      const value = chunk[key];
      if (value !== undefined && value !== null && value !== '' && head[key] === undefined) head[key] = value;
    }
    for (const key in chunk) if (!CHUNK_OWN_FIELDS.has(key) && chunk[key] !== null) extras[key] = chunk[key]!;
    if (isObject(chunk.usage)) usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const choice of chunk.choices) {
      if (!isObject(choice)) continue;
      const state = choiceAt(typeof choice.index === 'number' ? choice.index : 0);
      if (kind === 'chat' && isObject(choice.delta)) {
        const { tool_calls: toolCalls, ...delta } = choice.delta;
        texts(delta, Array.isArray(toolCalls) ? toolCalls : undefined);
        mergeDelta(state.snapshot, delta);
        if (Array.isArray(toolCalls)) mergeToolCalls(state, toolCalls);
      } else if (kind === 'completions' && typeof choice.text === 'string') {
        const delta: JsonObject = { text: choice.text };
        texts(delta, undefined);
        mergeDelta(state.snapshot, delta);
      }
      if (isObject(choice.logprobs)) mergeDelta((state.logprobs ??= {}), choice.logprobs);
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) state.finishReason = choice.finish_reason;
      for (const key in choice) if (!CHOICE_OWN_FIELDS.has(key) && choice[key] !== null) state.extras[key] = choice[key]!;
    }
  };

  const buildChoice = (state: ChoiceState): JsonObject => {
    if (kind === 'completions') {
      return { text: state.snapshot.text ?? '', index: state.index, logprobs: state.logprobs, finish_reason: state.finishReason, ...state.extras };
    }
    const message: JsonObject = { role: 'assistant', content: null, refusal: null, ...state.snapshot };
    if (state.toolCalls.length > 0) message.tool_calls = state.toolCalls.filter((call) => call !== undefined);
    return { index: state.index, message, logprobs: state.logprobs, finish_reason: state.finishReason, ...state.extras };
  };

  return {
    push(event) {
      if (done || failed) return;
      if (event.data.startsWith('[DONE]')) {
        done = true;
        return;
      }
      if (event.event === 'error') {
        failed = true;
        errorEvent = true;
        return;
      }
      let chunk: JsonValue;
      try {
        chunk = JSON.parse(event.data) as JsonValue;
      } catch {
        failed = true;
        return;
      }
      if (isObject(chunk)) pushChunk(chunk);
    },
    // Some OpenAI-compatible servers end a complete stream without `[DONE]`: once every choice
    // has its finish_reason the client gets a clean end, as it would straight from the server.
    // Only a stream with its end marker is stored (result()), so a cut one is never cached.
    upstreamError: () => errorEvent,
    ended: () => done || failed || (choices.size > 0 && [...choices.values()].every((state) => state.finishReason !== null)),
    result() {
      if (!done || failed || choices.size === 0) return undefined;
      const ordered = [...choices.values()].sort((a, b) => a.index - b.index);
      if (ordered.some((state) => state.finishReason === null)) return undefined;
      const body: JsonObject = {
        id: head.id ?? '',
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created: head.created ?? 0,
        model: head.model ?? '',
        choices: ordered.map(buildChoice),
      };
      for (const key of CARRIED_FIELDS) if (head[key] !== undefined) body[key] = head[key];
      Object.assign(body, extras);
      if (usage !== undefined) body.usage = usage;
      return body;
    },
    usage: () => usage,
    textLength: () => textLength,
    shed() {
      shedBytes ??= 0;
      for (const state of choices.values()) texts(state.snapshot, state.toolCalls);
      return shedBytes;
    },
  };
}
