/**
 * A follower's own copy of a leader's live stream. The bytes are the leader's, except where the two
 * requests asked for different framing: an OpenAI chat or completions stream carries the usage
 * chunk (and `usage: null` on every chunk) only when `stream_options.include_usage` was set, so a
 * follower that asked otherwise gets the stream re-framed for its own request; and a Responses
 * stream's response object echoes request fields (`store`, `metadata`, `user`…) that are not part
 * of the cache key, so a follower that asked other values gets them, as a replay from the cache would.
 */
import { Readable } from 'node:stream';
import type { StoredAnswer } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { STREAM_BROKEN_CODE, streamErrorFrame } from '../upstream/tee';
import type { Broadcast } from './broadcast';
import { MAX_STORED_ANSWER_BYTES } from './large-answer';
import { openAIUsageObject } from './openai-render';
import { responsesReplayBody, sameEcho } from './responses-render';
import { watchResponsesSequence } from './responses-sequence';
import { DONE_FRAME, dataFrame, namedFrame } from './sse-format';
import { SseParser, type SseEvent } from './sse-parser';
import { SseTail } from './sse-tail';

export interface FollowerFraming {
  api: ApiStyle;
  /** The follower's `stream_options.include_usage`. */
  includeUsage: boolean;
  /** The leader's. */
  leaderIncludesUsage: boolean;
  /** The follower's request body and the leader's: a Responses stream echoes fields of it. */
  request: JsonObject;
  leaderRequest: JsonObject;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Re-frames one OpenAI stream event for a follower whose usage setting differs from the leader's. */
function reframe(event: SseEvent, includeUsage: boolean): string | undefined {
  let chunk: JsonValue;
  try {
    chunk = JSON.parse(event.data) as JsonValue;
  } catch {
    return `data: ${event.data}\n\n`;
  }
  if (!isObject(chunk) || chunk.error !== undefined) return dataFrame(chunk);
  if (!includeUsage) {
    // The leader's usage-only chunk is not part of this follower's stream.
    if (Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage !== undefined) return undefined;
    const { usage: _usage, ...rest } = chunk;
    return dataFrame(rest);
  }
  return dataFrame({ ...chunk, usage: null });
}

/** Responses events that carry the whole response object, and so the fields it echoes. */
const RESPONSE_OBJECT_EVENTS = new Set(['response.created', 'response.queued', 'response.in_progress', 'response.completed', 'response.failed', 'response.incomplete']);

/**
 * One Responses event for a follower whose echoed fields differ from the leader's. An event too
 * large to parse without holding the thread (a final response of over 1 MiB) passes as it came.
 */
function readdress(event: SseEvent, request: JsonObject): string {
  const type = event.event ?? /^\{\s*"type"\s*:\s*"([^"\\]{1,100})"/.exec(event.data.slice(0, 200))?.[1];
  if (type !== undefined && RESPONSE_OBJECT_EVENTS.has(type) && event.data.length <= MAX_STORED_ANSWER_BYTES) {
    try {
      const value = JSON.parse(event.data) as JsonValue;
      if (isObject(value) && isObject(value.response)) return namedFrame(type, { ...value, response: responsesReplayBody(value.response, request) });
    } catch {
      // not JSON: passed on as it is below
    }
  }
  const data = event.data.includes('\n') ? event.data.split('\n').join('\ndata: ') : event.data;
  return event.event === undefined ? `data: ${data}\n\n` : `event: ${event.event}\ndata: ${data}\n\n`;
}

/** A follower's body, and whether it ended in the proxy's error event because the leader's stream broke off. */
export interface FollowerBody {
  body: Readable;
  /** STREAM_BROKEN_CODE once the broadcast broke off under this follower; undefined otherwise. */
  streamFailure: () => string | undefined;
}

/**
 * The follower's body: what the leader received so far, then the rest live, taken from the
 * broadcast only as fast as the follower's client reads (its own backpressure; the chunks stay the
 * broadcast's, not copied). `completion` is the leader's finished answer; it supplies the usage
 * chunk a follower asked for and the leader did not. Undefined when the body is too long to join.
 *
 * @example const { body } = followerStream(broadcast, completion, { api: 'openai.chat', includeUsage: true, leaderIncludesUsage: false, request, leaderRequest })!;
 */
export function followerStream(broadcast: Broadcast, completion: Promise<StoredAnswer | undefined>, framing: FollowerFraming): FollowerBody | undefined {
  const readdressed = framing.api === 'openai.responses' && !sameEcho(framing.request, framing.leaderRequest);
  const verbatim = !readdressed && (framing.api === 'anthropic.messages' || framing.api === 'openai.responses' || framing.includeUsage === framing.leaderIncludesUsage);
  const parser = verbatim ? undefined : new SseParser();
  // Numbers a Responses stream's events, for the error event that ends it if the leader's breaks off.
  const sequence = framing.api === 'openai.responses' ? watchResponsesSequence() : undefined;
  let head: JsonObject | undefined;
  let finished = false;
  let failure: string | undefined;
  /** Whether the client side wants more: set by read(), cleared when push() says it is full. */
  let wanted = false;

  const out = new Readable({
    read() {
      wanted = true;
      pump();
    },
  });
  const send = (frame: string | Buffer): void => {
    if (!out.push(frame)) wanted = false;
  };
  // The leader's bytes as they came (verbatim mode): they may stop mid-event (sse-tail.ts).
  // Re-framed events are always whole.
  const tail = new SseTail();
  // A cut (below) reaches the client through its pipe's 'error' listener, or nowhere.
  out.on('error', () => undefined);
  const close = (frame?: string): void => {
    finished = true;
    if (frame !== undefined && !tail.atBoundary()) {
      out.destroy(new Error('the shared upstream stream stopped mid-event'));
      return;
    }
    if (frame !== undefined) out.push(frame);
    out.push(null);
  };

  const onEvent = (event: SseEvent): void => {
    if (finished) return;
    if (readdressed) {
      send(readdress(event, framing.request));
      return;
    }
    if (event.data.startsWith('[DONE]')) {
      if (!framing.includeUsage) {
        send(DONE_FRAME);
        return;
      }
      // This follower asked for usage the leader's stream does not carry: send the answer's own.
      finished = true;
      void completion.then((answer) => {
        if (out.destroyed) return;
        if (answer) out.push(dataFrame({ ...(head ?? {}), choices: [], usage: openAIUsageObject(answer) }));
        close(DONE_FRAME);
      });
      return;
    }
    if (!head) {
      try {
        const first = JSON.parse(event.data) as JsonValue;
        if (isObject(first)) head = { id: first.id ?? '', object: first.object ?? '', created: first.created ?? 0, model: first.model ?? '' };
      } catch {
        // not JSON: passed on as it is below
      }
    }
    const frame = reframe(event, framing.includeUsage);
    if (frame !== undefined) send(frame);
  };

  /** Moves chunks from the broadcast to the client while it wants them; ends once the body is over. */
  const pump = (): void => {
    let caughtUp = false;
    while (wanted && !finished && !out.destroyed) {
      const chunk = reader.take();
      if (chunk === undefined) {
        caughtUp = true;
        break;
      }
      sequence?.push(chunk);
      if (!parser) {
        tail.push(chunk);
        send(chunk);
      }
      else for (const event of parser.push(chunk)) onEvent(event);
    }
    const over = reader.over;
    if (!caughtUp || finished || out.destroyed || !over) return;
    if ('failed' in over) {
      failure = STREAM_BROKEN_CODE;
      close(streamErrorFrame(framing.api, `the shared upstream stream broke off before the answer was complete (${over.failed}); retry the request`, sequence?.next()));
      return;
    }
    if (parser) for (const event of parser.end()) onEvent(event);
    if (!finished) close();
  };

  const joined = broadcast.join(() => {
    if (wanted) pump();
  });
  if (!joined) return undefined;
  const reader = joined;
  out.once('close', () => reader.close());
  return { body: out, streamFailure: () => failure };
}

/** A request body's `stream_options.include_usage`. */
export function requestIncludesUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  return isObject(options) && options.include_usage === true;
}
