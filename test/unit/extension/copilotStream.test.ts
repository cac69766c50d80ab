import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { decodeAnthropicStream, decodeOpenAiStream, ModelStreamError, sseEvents } from '../../../src/extension/copilotStream';
import type { StreamOutput } from '../../../src/extension/copilotStream';

/** The SSE text cut into chunks of `size` bytes, so events and even UTF-8 characters split across chunks. */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks);
}

async function collect(outputs: AsyncIterable<StreamOutput>): Promise<StreamOutput[]> {
  const all: StreamOutput[] = [];
  for await (const output of outputs) all.push(output);
  return all;
}

const sse = (events: unknown[], done = true): string => events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : '');

const openAiText = sse([
  { choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
  { choices: [{ index: 0, delta: { content: 'Grüß ' } }] },
  { choices: [{ index: 0, delta: { content: 'Gott' } }] },
  { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } },
]);

const openAiTools = sse([
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '' } }] } }] },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"pa' } }] } }] },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'list', arguments: '{}' } }] } }] },
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'th":"a.ts"}' } }] } }] },
  { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
]);

const anthropic = [
  ['message_start', { type: 'message_start', message: { id: 'msg_1', role: 'assistant', content: [] } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Reading ' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'it.' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'read_file', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"path": "RE' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ADME.md"}' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' } }],
  ['message_stop', { type: 'message_stop' }],
]
  .map(([event, data]) => `event: ${event as string}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`)
  .join('');

describe('model stream decoding', () => {
  for (const size of [1, 7, 4096]) {
    it(`decodes OpenAI text streamed in ${size}-byte chunks`, async () => {
      const outputs = await collect(decodeOpenAiStream(sseEvents(chunked(openAiText, size))));
      assert.equal(outputs.map((o) => (o.type === 'text' ? o.text : '')).join(''), 'Grüß Gott');
      assert.ok(outputs.every((o) => o.type === 'text'));
    });

    it(`decodes Anthropic text and tool_use in ${size}-byte chunks`, async () => {
      const outputs = await collect(decodeAnthropicStream(sseEvents(chunked(anthropic, size))));
      assert.deepEqual(outputs, [
        { type: 'text', text: 'Reading ' },
        { type: 'text', text: 'it.' },
        { type: 'tool_call', callId: 'toolu_1', name: 'read_file', input: { path: 'README.md' } },
      ]);
    });
  }

  it('assembles interleaved OpenAI tool-call fragments by index', async () => {
    const outputs = await collect(decodeOpenAiStream(sseEvents(chunked(openAiTools, 5))));
    assert.deepEqual(outputs, [
      { type: 'tool_call', callId: 'call_a', name: 'read_file', input: { path: 'a.ts' } },
      { type: 'tool_call', callId: 'call_b', name: 'list', input: {} },
    ]);
  });

  it('emits pending tool calls when a stream ends without finish_reason or [DONE]', async () => {
    const text = sse([{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{"a":1}' } }] } }] }], false);
    assert.deepEqual(await collect(decodeOpenAiStream(sseEvents(chunked(text, 3)))), [{ type: 'tool_call', callId: 'c', name: 'f', input: { a: 1 } }]);
  });

  it('turns error events and broken tool JSON into ModelStreamError', async () => {
    const openAiError = sse([{ error: { message: 'Rate limit reached' } }]);
    await assert.rejects(collect(decodeOpenAiStream(sseEvents(chunked(openAiError, 10)))), (error: unknown) => error instanceof ModelStreamError && /Rate limit/.test(error.message));
    const anthropicError = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`;
    await assert.rejects(collect(decodeAnthropicStream(sseEvents(chunked(anthropicError, 10)))), /Overloaded/);
    const badTool = sse([{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{"a":' } }] }, finish_reason: 'tool_calls' }] }]);
    await assert.rejects(collect(decodeOpenAiStream(sseEvents(chunked(badTool, 10)))), /tool "f" with arguments that are not a JSON object/);
  });
});
