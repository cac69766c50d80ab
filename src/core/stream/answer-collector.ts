/**
 * Watches the bytes of one upstream response go by and, if they form a complete successful answer
 * (a JSON body or a stream that reached its end marker), rebuilds it as a StoredAnswer.
 */
import type { StoredAnswer } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { createAnthropicAccumulator } from './anthropic-accumulator';
import { createOpenAIAccumulator, type StreamAccumulator } from './openai-accumulator';
import { createResponsesAccumulator, isCompleteResponse } from './responses-accumulator';
import { SseParser } from './sse-parser';
import { normaliseUsage } from './usage';
import { rememberBodyText, ZERO_USAGE } from '../outcome';

export interface AnswerCollector {
  /** Feeds the next body chunk, exactly as it goes to the client. */
  push(chunk: Uint8Array): void;
  /** Call once the body ended cleanly; undefined when it is not a complete answer. */
  finish(): StoredAnswer | undefined;
  /** After finish(): false for a stream that stopped before its end marker or an error event. */
  ended(): boolean;
}

/** The stream accumulator for an API style. */
export function createAccumulator(api: ApiStyle): StreamAccumulator {
  if (api === 'anthropic.messages') return createAnthropicAccumulator();
  if (api === 'openai.responses') return createResponsesAccumulator();
  return createOpenAIAccumulator(api === 'openai.chat' ? 'chat' : 'completions');
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether a parsed non-streamed body is a finished answer of its API style (not an error object). */
export function isCompleteAnswerBody(api: ApiStyle, body: JsonValue): body is JsonObject {
  if (!isObject(body)) return false;
  // A Responses body always carries `error` (null on success); the others carry it only on failure.
  if (api === 'openai.responses') return isCompleteResponse(body);
  if (body.error !== undefined) return false;
  if (api === 'anthropic.messages') return body.type === 'message' && Array.isArray(body.content);
  return Array.isArray(body.choices) && body.choices.length > 0;
}

/** Wraps a complete answer body and its usage into what the caches store. */
export function toStoredAnswer(api: ApiStyle, body: JsonObject, now = Date.now()): StoredAnswer {
  return { api, body, usage: normaliseUsage(api, body.usage) ?? { ...ZERO_USAGE }, createdAt: now };
}

/**
 * Collects one response body. `contentType` picks JSON or SSE handling.
 *
 * @example
 * const collector = createAnswerCollector('openai.chat', 'text/event-stream');
 * body.on('data', (c) => collector.push(c)); body.on('end', () => store(collector.finish()));
 */
export function createAnswerCollector(api: ApiStyle, contentType: string | undefined): AnswerCollector {
  if (contentType?.includes('text/event-stream')) {
    const parser = new SseParser();
    const accumulator = createAccumulator(api);
    return {
      push(chunk) {
        for (const event of parser.push(chunk)) accumulator.push(event);
      },
      finish() {
        for (const event of parser.end()) accumulator.push(event);
        const body = accumulator.result();
        if (!body) return undefined;
        const answer = toStoredAnswer(api, body);
        const streamUsage = accumulator.streamUsage?.();
        if (streamUsage) answer.streamUsage = streamUsage;
        return answer;
      },
      ended: () => accumulator.ended?.() ?? true,
    };
  }
  const chunks: Uint8Array[] = [];
  return {
    push(chunk) {
      chunks.push(chunk);
    },
    finish() {
      let body: JsonValue;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = JSON.parse(text) as JsonValue;
      } catch {
        return undefined;
      }
      if (!isCompleteAnswerBody(api, body)) return undefined;
      const answer = toStoredAnswer(api, body);
      rememberBodyText(answer, text);
      return answer;
    },
    ended: () => true,
  };
}
