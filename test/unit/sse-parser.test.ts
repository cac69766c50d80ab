/**
 * The incremental SSE parser against the spec's edge cases: any chunking, CRLF and CR line ends,
 * multi-line data, comments, events without data, and a torn UTF-8 character.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../src/core/stream/sse-parser';

function parseAll(text: string | Buffer, chunkSize: number): SseEvent[] {
  const parser = new SseParser();
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) events.push(...parser.push(bytes.subarray(i, i + chunkSize)));
  events.push(...parser.end());
  return events;
}

const stream = 'event: message_start\ndata: {"a":1}\n\n: keep-alive comment\n\ndata: line one\ndata: line two\n\nevent: ping\n\ndata: [DONE]\n\n';
const expected: SseEvent[] = [
  { event: 'message_start', data: '{"a":1}' },
  { event: undefined, data: 'line one\nline two' },
  { event: undefined, data: '[DONE]' },
];

test('the same events come out whatever the chunk size', () => {
  for (const size of [1, 2, 3, 7, 64, 4096]) assert.deepEqual(parseAll(stream, size), expected, `chunk size ${size}`);
});

test('CRLF and bare CR line endings, even when CR and LF arrive in different chunks', () => {
  for (const size of [1, 5, 1000]) {
    assert.deepEqual(parseAll(stream.replace(/\n/g, '\r\n'), size), expected, `CRLF, chunk size ${size}`);
    assert.deepEqual(parseAll(stream.replace(/\n/g, '\r'), size), expected, `CR, chunk size ${size}`);
  }
});

test('a multi-byte character split across chunks is decoded once whole', () => {
  const events = parseAll(Buffer.from('data: {"t":"Grüße 🌍"}\n\n'), 1);
  assert.deepEqual(events, [{ event: undefined, data: '{"t":"Grüße 🌍"}' }]);
});

test('a field without a space after the colon, and an unterminated last event, follow the spec', () => {
  assert.deepEqual(parseAll('data:tight\n\ndata: never dispatched', 4), [{ event: undefined, data: 'tight' }]);
});
