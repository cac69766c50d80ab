/**
 * Shared by the replay-shapes tests: crafted upstream answers (JSON or SSE text, sent by the fake
 * upstream as they are) and what the official SDKs make of a miss and of its L1a replay.
 */
import type { FakeReply } from '../../src/bench/fakeUpstream';

/** A chat-style stream: one `data:` frame per chunk, then `[DONE]`. */
export function chatStreamReply(chunks: object[]): FakeReply {
  const text = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('') + 'data: [DONE]\n\n';
  return { body: text, headers: { 'content-type': 'text/event-stream; charset=utf-8' } };
}

/** A typed stream (Messages, Responses): `event:` and `data:` per event, named by its `type`. */
export function typedStreamReply(events: Array<{ type: string } & object>): FakeReply {
  const text = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
  return { body: text, headers: { 'content-type': 'text/event-stream; charset=utf-8' } };
}

/** Responses events numbered in order, as the API numbers them. */
export function numbered<T extends object>(events: T[]): Array<T & { sequence_number: number }> {
  return events.map((event, sequence_number) => ({ ...event, sequence_number }));
}
