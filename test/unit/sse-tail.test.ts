/**
 * Whether a relayed SSE stream ends at an event boundary, where the proxy may add a frame of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseTail } from '../../src/core/stream/sse-tail';

function tailOf(...chunks: string[]): SseTail {
  const tail = new SseTail();
  for (const chunk of chunks) tail.push(Buffer.from(chunk));
  return tail;
}

test('a stream is at an event boundary after a blank line in any of the three line endings, however it was split', () => {
  assert.ok(tailOf().atBoundary(), 'nothing sent yet');
  for (const ending of ['\n\n', '\r\n\r\n', '\r\r', '\n\r\n', '\r\n\n']) {
    assert.ok(tailOf(`data: {"a":1}${ending}`).atBoundary(), JSON.stringify(ending));
    assert.ok(tailOf('data: {"a":1}', ...ending.split('')).atBoundary(), `${JSON.stringify(ending)} byte by byte`);
  }
  assert.ok(tailOf('\n').atBoundary(), 'a blank first line');
});

test('a stream that stopped inside an event is not at a boundary', () => {
  for (const sent of ['data: {"a"', 'data: {"a":1}', 'data: {"a":1}\n', 'data: {"a":1}\r\n', 'event: ping\ndata: {}\r', 'x']) {
    assert.ok(!tailOf(sent).atBoundary(), JSON.stringify(sent));
    assert.ok(!tailOf(...sent.split('')).atBoundary(), `${JSON.stringify(sent)} byte by byte`);
  }
});
