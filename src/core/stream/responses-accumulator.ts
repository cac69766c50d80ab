/**
 * Rebuilds a complete Responses API `response` object from its event stream. The stream's last
 * event, `response.completed`, carries the whole finished response, so that is what is kept; any
 * `response.failed`, `response.incomplete` or `error` event means the answer is not cacheable.
 */
import type { JsonObject, JsonValue } from '../request';
import type { StreamAccumulator } from './openai-accumulator';
import { ResponsesSequence } from './responses-sequence';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Events after which the response will never complete. */
const FAILURE_EVENTS = new Set(['response.failed', 'response.incomplete', 'error']);

/** Of those, the provider's failures; `response.incomplete` is an answer cut by its own limits. */
const ERROR_EVENTS = new Set(['response.failed', 'error']);

/**
 * Accumulates one Responses event stream; `result()` is the `response` of `response.completed`.
 *
 * @example
 * const acc = createResponsesAccumulator();
 * for (const event of parser.push(chunk)) acc.push(event);
 * const body = acc.result(); // { id: 'resp_…', object: 'response', status: 'completed', output: [...] }
 */
export function createResponsesAccumulator(): StreamAccumulator {
  let completed: JsonObject | undefined;
  /** The usage a `response.incomplete` or `response.failed` event carried: billed though not an answer. */
  let endUsage: JsonValue | undefined;
  let failed = false;
  let errorEvent = false;
  const sequence = new ResponsesSequence();
  return {
    push(event) {
      let payload: JsonValue;
      try {
        payload = JSON.parse(event.data) as JsonValue;
      } catch {
        sequence.seen();
        if (!completed) failed ||= !event.data.startsWith('[DONE]');
        return;
      }
      sequence.seen(isObject(payload) ? payload.sequence_number : undefined);
      if (failed || completed || !isObject(payload)) return;
      const type = typeof payload.type === 'string' ? payload.type : event.event;
      if (payload.error !== undefined && payload.error !== null && type !== 'response.completed') failed = errorEvent = true;
      else if (type !== undefined && FAILURE_EVENTS.has(type)) {
        failed = true;
        errorEvent = ERROR_EVENTS.has(type);
        if (isObject(payload.response)) endUsage = payload.response.usage;
      }
      else if (type === 'response.completed' && isObject(payload.response)) completed = payload.response;
    },
    result: () => (!failed && completed && isCompleteResponse(completed) ? completed : undefined),
    usage: () => completed?.usage ?? endUsage,
    // Its own end: `response.completed`, or a failure event that closes the stream.
    ended: () => completed !== undefined || failed,
    nextSequence: () => sequence.next(),
    upstreamError: () => errorEvent,
    unread: () => sequence.seen(),
  };
}

/** Whether a Responses body is a finished, successful response (not an error, not incomplete). */
export function isCompleteResponse(body: JsonObject): boolean {
  return body.object === 'response' && body.status === 'completed' && Array.isArray(body.output) && (body.error === undefined || body.error === null);
}
