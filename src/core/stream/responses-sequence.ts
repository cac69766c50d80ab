/**
 * The `sequence_number` of a Responses stream. Every event of such a stream carries one (0, 1, 2…),
 * and the official SDK's event types require it, so an event the proxy adds to a live stream (its
 * error event when the upstream stream breaks off) takes the next one.
 */
import type { JsonValue } from '../request';
import { SseParser } from './sse-parser';

/** Counts a stream's sequence numbers from the events that went by. */
export class ResponsesSequence {
  private last = -1;

  /** An event went by; `value` is its `sequence_number` when it was read. */
  seen(value?: JsonValue): void {
    this.last = typeof value === 'number' && Number.isSafeInteger(value) && value > this.last ? value : this.last + 1;
  }

  /** The number the next event takes: one past the last (0 when none went by). */
  next(): number {
    return this.last + 1;
  }
}

/**
 * Events longer than this are counted, not read: a Responses stream repeats the whole answer in
 * its last events, and parsing megabytes to learn one number would hold the proxy's thread.
 */
const MAX_READ_EVENT_CHARS = 64 * 1024;

/** Follows a Responses stream's sequence numbers from its raw bytes (where nothing else parses it). */
export interface SequenceWatch {
  push(chunk: Uint8Array): void;
  next(): number;
}

/**
 * @example
 * const watch = watchResponsesSequence();
 * source.on('data', (chunk) => watch.push(chunk)); … streamErrorFrame(api, message, watch.next());
 */
export function watchResponsesSequence(): SequenceWatch {
  const parser = new SseParser();
  const sequence = new ResponsesSequence();
  return {
    push(chunk) {
      for (const event of parser.push(chunk)) sequence.seen(sequenceOf(event.data));
    },
    next: () => sequence.next(),
  };
}

function sequenceOf(data: string): JsonValue | undefined {
  if (data.length > MAX_READ_EVENT_CHARS) return undefined;
  try {
    const payload = JSON.parse(data) as JsonValue;
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload.sequence_number : undefined;
  } catch {
    return undefined;
  }
}
