/**
 * A follower's own copy of a leader's live stream. The bytes are the leader's, except where the two
 * requests asked for different framing: an OpenAI chat or completions stream carries the usage
 * chunk (and `usage: null` on every chunk) only when `stream_options.include_usage` was set, so a
 * follower that asked otherwise gets the stream re-framed for its own request.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { StoredAnswer } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { streamErrorFrame } from '../upstream/tee';
import type { Broadcast } from './broadcast';
import { openAIUsageObject } from './openai-render';
import { DONE_FRAME, dataFrame } from './sse-format';
import { SseParser, type SseEvent } from './sse-parser';

export interface FollowerFraming {
  api: ApiStyle;
  /** The follower's `stream_options.include_usage`. */
  includeUsage: boolean;
  /** The leader's. */
  leaderIncludesUsage: boolean;
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

/**
 * The follower's body: what the leader received so far, then the rest live. `completion` is the
 * leader's finished answer; it supplies the usage chunk a follower asked for and the leader did not.
 *
 * @example const body = followerStream(broadcast, completion, { api: 'openai.chat', includeUsage: true, leaderIncludesUsage: false });
 */
export function followerStream(broadcast: Broadcast, completion: Promise<StoredAnswer | undefined>, framing: FollowerFraming): Readable {
  const out = new PassThrough();
  const verbatim = framing.api === 'anthropic.messages' || framing.api === 'openai.responses' || framing.includeUsage === framing.leaderIncludesUsage;
  const parser = verbatim ? undefined : new SseParser();
  let head: JsonObject | undefined;
  let finished = false;
  const fail = (reason: string): void => {
    if (finished || out.destroyed) return;
    finished = true;
    out.end(streamErrorFrame(framing.api, `the shared upstream stream broke off before the answer was complete (${reason}); retry the request`));
  };

  const onEvent = (event: SseEvent): void => {
    if (event.data.startsWith('[DONE]')) {
      if (!framing.includeUsage) {
        out.write(DONE_FRAME);
        return;
      }
      // This follower asked for usage the leader's stream does not carry: send the answer's own.
      finished = true;
      void completion.then((answer) => {
        if (out.destroyed) return;
        if (answer) out.write(dataFrame({ ...(head ?? {}), choices: [], usage: openAIUsageObject(answer) }));
        out.end(DONE_FRAME);
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
    if (frame !== undefined) out.write(frame);
  };

  const unsubscribe = broadcast.subscribe({
    chunk(chunk) {
      if (out.destroyed) return;
      if (!parser) out.write(chunk);
      else for (const event of parser.push(chunk)) onEvent(event);
    },
    end() {
      if (parser) for (const event of parser.end()) onEvent(event);
      if (!finished && !out.destroyed) {
        finished = true;
        out.end();
      }
    },
    fail,
  });
  out.once('close', unsubscribe);
  return out;
}

/** A request body's `stream_options.include_usage`. */
export function requestIncludesUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  return isObject(options) && options.include_usage === true;
}
