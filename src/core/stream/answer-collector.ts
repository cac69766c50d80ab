/**
 * Watches the bytes of one upstream response go by and, if they form a complete successful answer
 * (a JSON body or a stream that reached its end marker), rebuilds it as a StoredAnswer. An answer
 * too large to store is not parsed on the proxy's thread: it becomes a LargeAnswer (large-answer.ts).
 */
import type { StoredAnswer, TokenUsage } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { jsonTextExceedsNodes } from '../jsonNodes';
import {
  answerTextBytes,
  isCompleteAnswerBody,
  LargeAnswer,
  MAX_STORED_ANSWER_BYTES,
  MAX_STORED_ANSWER_NODES,
  readAnswerValue,
  readLargeAnswer,
  RESPONSES_END_EVENTS,
  tooLargeToStore,
  type AnswerReading,
  type OffThreadAnswerReader,
} from './large-answer';
import { createAnthropicAccumulator } from './anthropic-accumulator';
import { createOpenAIAccumulator, type StreamAccumulator } from './openai-accumulator';
import { createResponsesAccumulator } from './responses-accumulator';
import { SseParser, type SseEvent } from './sse-parser';
import { normaliseUsage } from './usage';
import { rememberBodyText, ZERO_USAGE } from '../outcome';

export interface AnswerCollector {
  /** Feeds the next body chunk, exactly as it goes to the client. */
  push(chunk: Uint8Array): void;
  /**
   * Call once the body ended cleanly; undefined when it is not a complete answer, a LargeAnswer
   * when it is too large to store.
   */
  finish(): StoredAnswer | LargeAnswer | undefined;
  /** After finish(): false for a stream that stopped before its end marker or an error event. */
  ended(): boolean;
  /** Responses streams: the `sequence_number` an event added after those fed so far takes. */
  nextSequence?(): number;
  /** After finish(): the stream carried the provider's own error event (its client got that error). */
  upstreamError?(): boolean;
  /**
   * The usage the provider reported in what was fed so far, whether or not it is a complete answer:
   * a stream cut, cancelled or ended in an error or `response.incomplete` was billed all the same.
   */
  reportedUsage(): ReportedUsage | undefined;
}

/** A provider's usage for a response that did not end as a complete answer. */
export interface ReportedUsage {
  usage: TokenUsage;
  /** The provider's running count, not its final one (an Anthropic stream stopped before `message_delta`). */
  partial: boolean;
}

/** The stream accumulator for an API style. */
export function createAccumulator(api: ApiStyle): StreamAccumulator {
  if (api === 'anthropic.messages') return createAnthropicAccumulator();
  if (api === 'openai.responses') return createResponsesAccumulator();
  return createOpenAIAccumulator(api === 'openai.chat' ? 'chat' : 'completions');
}

/** Wraps a complete answer body and its usage into what the caches store. */
export function toStoredAnswer(api: ApiStyle, body: JsonObject, now = Date.now()): StoredAnswer {
  return { api, body, usage: normaliseUsage(api, body.usage) ?? { ...ZERO_USAGE }, createdAt: now };
}

/**
 * Collects one response body. `contentType` picks JSON or SSE handling; `reader` reads an answer
 * too large to store (absent, it is read here).
 *
 * @example
 * const collector = createAnswerCollector('openai.chat', 'text/event-stream');
 * body.on('data', (c) => collector.push(c)); body.on('end', () => store(collector.finish()));
 */
export function createAnswerCollector(api: ApiStyle, contentType: string | undefined, reader?: OffThreadAnswerReader): AnswerCollector {
  if (contentType?.includes('text/event-stream')) return createStreamCollector(api, reader);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let parsed: JsonValue | undefined;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
    },
    finish() {
      if (size > MAX_STORED_ANSWER_BYTES) return new LargeAnswer(readLargeAnswer(api, sharedCopy(chunks, size), reader));
      let body: JsonValue;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        // Parsing costs time per piece more than per byte: a tool input of 60,000 keys (880 KB)
        // took 35-100 ms here. An answer of that many is not stored anyway, so it is read on the worker.
        if (jsonTextExceedsNodes(text, MAX_STORED_ANSWER_NODES)) return new LargeAnswer(readLargeAnswer(api, sharedCopy(chunks, size), reader));
        body = JSON.parse(text) as JsonValue;
      } catch {
        return undefined;
      }
      parsed = body;
      if (!isCompleteAnswerBody(api, body)) return undefined;
      if (tooLargeToStore(api, body)) return new LargeAnswer(Promise.resolve(readAnswerValue(api, body)));
      const answer = toStoredAnswer(api, body);
      rememberBodyText(answer, text);
      return answer;
    },
    ended: () => true,
    // A Responses body with status "incomplete" (cut by max_output_tokens) is no answer to store, but billed.
    reportedUsage: () => reported(api, parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed.usage : undefined, false),
  };
}

/** A provider usage object as ReportedUsage; undefined when there is none or it counts no token. */
function reported(api: ApiStyle, raw: JsonValue | undefined, partial: boolean): ReportedUsage | undefined {
  const usage = normaliseUsage(api, raw);
  if (!usage || usage.inputTokens + usage.outputTokens <= 0) return undefined;
  return { usage, partial };
}

/**
 * A stream's events go to the accumulator one by one (each small: a token or two), except an event
 * too large to parse here (a Responses stream repeats the whole text in its last events). Once one
 * goes by, the answer is a LargeAnswer. Its usage comes from the accumulator, or, when the large
 * event was a Responses stream's final one, from that event read off the thread: the usage of a
 * `response.incomplete` or `response.failed` too, which is billed though it is no answer.
 */
function createStreamCollector(api: ApiStyle, reader: OffThreadAnswerReader | undefined): AnswerCollector {
  const parser = new SseParser();
  const accumulator = createAccumulator(api);
  /** Once the text is past what can be stored, the accumulator keeps none of it (only counts it). */
  let shed = false;
  let skipped = false;
  let endEvent: string | undefined;
  /** The reading of a Responses stream's final event, when it was too large to parse here. */
  let endReading: Promise<AnswerReading | undefined> | undefined;
  const feed = (event: SseEvent): void => {
    if (!tooLargeToParseHere(event.data)) {
      accumulator.push(event);
      if (!shed && accumulator.shed && ((accumulator.textLength?.() ?? 0) > MAX_STORED_ANSWER_BYTES || accumulator.unstorable?.() === true)) {
        accumulator.shed();
        shed = true;
      }
      return;
    }
    skipped = true;
    accumulator.unread?.();
    const type = event.event ?? leadingType(event.data);
    if (api !== 'openai.responses' || type === undefined || !RESPONSES_END_EVENTS.has(type)) return;
    endEvent = type;
    endReading = readLargeAnswer(api, event.data, reader);
  };
  return {
    push(chunk) {
      for (const event of parser.push(chunk)) feed(event);
    },
    finish() {
      for (const event of parser.end()) feed(event);
      // A reading of an end event that is no answer (incomplete, failed) is not `complete`: only its usage is billed.
      if (endReading) return new LargeAnswer(endReading);
      const body = accumulator.result();
      if (!body) return skipped || shed ? new LargeAnswer(Promise.resolve(undefined)) : undefined;
      if (shed) return new LargeAnswer(Promise.resolve(shedReading(api, body, accumulator.shed!())));
      if (skipped || tooLargeToStore(api, body)) return new LargeAnswer(Promise.resolve(readAnswerValue(api, body)));
      const answer = toStoredAnswer(api, body);
      const streamUsage = accumulator.streamUsage?.();
      if (streamUsage) answer.streamUsage = streamUsage;
      return answer;
    },
    ended: () => endEvent !== undefined || (accumulator.ended?.() ?? true),
    upstreamError: () => endEvent === 'response.failed' || (accumulator.upstreamError?.() ?? false),
    reportedUsage: () => reported(api, accumulator.usage(), accumulator.usagePartial?.() ?? false),
    ...(accumulator.nextSequence ? { nextSequence: accumulator.nextSequence } : {}),
  };
}

/** The reading of an answer whose text was shed: its usage, and output tokens counting the shed text. */
function shedReading(api: ApiStyle, body: JsonObject, shedBytes: number): AnswerReading {
  const reading = readAnswerValue(api, body);
  // approximateTokensOf's rule (UTF-8 bytes / 4) over all of the text, kept and shed.
  return { ...reading, outputTokens: Math.ceil((answerTextBytes(api, body) + shedBytes) / 4) };
}

/** Whether an event's data is over MAX_STORED_ANSWER_BYTES in UTF-8 (a UTF-16 unit is at most 3 bytes of it). */
function tooLargeToParseHere(data: string): boolean {
  return data.length > MAX_STORED_ANSWER_BYTES / 3 && Buffer.byteLength(data, 'utf8') > MAX_STORED_ANSWER_BYTES;
}

/** The `type` an event's JSON data starts with, as OpenAI writes it: `{"type":"response.completed",…`. */
function leadingType(data: string): string | undefined {
  return /^\{\s*"type"\s*:\s*"([^"\\]{1,100})"/.exec(data.slice(0, 200))?.[1];
}

/** The chunks joined in shared memory, which a worker reads without a copy being made for it. */
function sharedCopy(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const joined = new Uint8Array(new SharedArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}
