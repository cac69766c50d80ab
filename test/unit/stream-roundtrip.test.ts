/**
 * Stored answers rendered as SSE must parse back, with our accumulator and with the official SDKs'
 * own stream helpers, into the same answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { StoredAnswer } from '../../src/core/outcome';
import type { JsonObject } from '../../src/core/request';
import { createAnswerCollector } from '../../src/core/stream/answer-collector';
import { LargeAnswer } from '../../src/core/stream/large-answer';
import { renderOpenAIStream } from '../../src/core/stream/openai-render';
import { renderAnthropicStream } from '../../src/core/stream/anthropic-render';

const chatWithTools: JsonObject = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_1',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Munich"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"Europe/Berlin"}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59, prompt_tokens_details: { cached_tokens: 10 } },
};

const chatWithText: JsonObject = {
  id: 'chatcmpl-2',
  object: 'chat.completion',
  created: 1_700_000_001,
  model: 'gpt-4o-mini',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello "world"\nline two ü', refusal: null }, logprobs: null, finish_reason: 'stop' },
    { index: 1, message: { role: 'assistant', content: 'Second choice', refusal: null }, logprobs: null, finish_reason: 'length' },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 },
};

const anthropicMessage: JsonObject = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-5-5',
  content: [
    { type: 'thinking', thinking: 'Let me think.', signature: 'sig==' },
    { type: 'redacted_thinking', data: 'opaque' },
    { type: 'text', text: 'I will look it up.' },
    { type: 'tool_use', id: 'toolu_1', name: 'search', input: { query: 'isartor', limit: 3, nested: { a: [1, 2] } } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
};

function collect(api: StoredAnswer['api'], text: string, chunkSize: number): StoredAnswer | undefined {
  const collector = createAnswerCollector(api, 'text/event-stream; charset=utf-8');
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) collector.push(bytes.subarray(i, i + chunkSize));
  const result = collector.finish();
  assert.ok(!(result instanceof LargeAnswer));
  return result;
}

function stored(api: StoredAnswer['api'], body: JsonObject): StoredAnswer {
  return { api, body, usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 0 };
}

function sseFetch(text: string): typeof fetch {
  return async () => new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

test('OpenAI tool-call answer survives render → accumulate, even split into 7-byte chunks', () => {
  const sse = renderOpenAIStream(stored('openai.chat', chatWithTools), { includeUsage: true });
  const back = collect('openai.chat', sse, 7);
  assert.ok(back);
  assert.deepEqual(back.body, chatWithTools);
  assert.deepEqual(back.usage, { inputTokens: 42, outputTokens: 17, cachedInputTokens: 10, cacheWriteTokens: 0 });
});

test('OpenAI multi-choice text answer round-trips; without include_usage no usage chunk is sent', () => {
  const withUsage = collect('openai.chat', renderOpenAIStream(stored('openai.chat', chatWithText), { includeUsage: true }), 3);
  assert.deepEqual(withUsage?.body, chatWithText);
  const sse = renderOpenAIStream(stored('openai.chat', chatWithText), { includeUsage: false });
  assert.ok(!sse.includes('"usage"'));
  const { usage: _usage, ...withoutUsage } = chatWithText;
  assert.deepEqual(collect('openai.chat', sse, 1000)?.body, withoutUsage);
});

test('a stream without [DONE] or with an error chunk is not a complete answer', () => {
  const sse = renderOpenAIStream(stored('openai.chat', chatWithText), { includeUsage: false });
  assert.equal(collect('openai.chat', sse.replace('data: [DONE]\n\n', ''), 50), undefined);
  const broken = sse.replace('data: [DONE]', 'data: {"error":{"message":"upstream died"}}\n\ndata: [DONE]');
  assert.equal(collect('openai.chat', broken, 50), undefined);
});

test('legacy text completions round-trip', () => {
  const body: JsonObject = {
    id: 'cmpl-1', object: 'text_completion', created: 1, model: 'gpt-3.5-turbo-instruct',
    choices: [{ text: 'fn main() {}', index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  };
  const back = collect('openai.completions', renderOpenAIStream(stored('openai.completions', body), { includeUsage: true }), 5);
  assert.deepEqual(back?.body, body);
});

test('the OpenAI SDK stream helper parses our rendering into the same completion', async () => {
  for (const body of [chatWithTools, chatWithText]) {
    const sse = renderOpenAIStream(stored('openai.chat', body), { includeUsage: true });
    const client = new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1', fetch: sseFetch(sse) });
    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    const expected = body.choices as JsonObject[];
    assert.equal(final.choices.length, expected.length);
    for (const [i, choice] of final.choices.entries()) {
      const message = expected[i]!.message as JsonObject;
      assert.equal(choice.message.content, message.content);
      assert.equal(choice.finish_reason, expected[i]!.finish_reason);
      const calls = (message.tool_calls as JsonObject[] | undefined)?.map((c) => (c.function as JsonObject).arguments);
      assert.deepEqual(choice.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.arguments : '')), calls);
    }
    assert.deepEqual(final.usage, body.usage);
  }
});

test('Anthropic thinking, redacted thinking, text and tool_use blocks round-trip', () => {
  const sse = renderAnthropicStream(stored('anthropic.messages', anthropicMessage));
  const back = collect('anthropic.messages', sse, 11);
  assert.deepEqual(back?.body, anthropicMessage);
  assert.deepEqual(back?.usage, { inputTokens: 112, outputTokens: 30, cachedInputTokens: 100, cacheWriteTokens: 0 });
});

test('Anthropic text with citations round-trips', () => {
  const body: JsonObject = {
    ...anthropicMessage,
    content: [{ type: 'text', text: 'The sky is blue.', citations: [{ type: 'char_location', cited_text: 'blue', document_index: 0, start_char_index: 0, end_char_index: 4 }] }],
    stop_reason: 'end_turn',
  };
  assert.deepEqual(collect('anthropic.messages', renderAnthropicStream(stored('anthropic.messages', body)), 4)?.body, body);
});

test('an Anthropic stream cut before message_stop, or with an error event, is not complete', () => {
  const sse = renderAnthropicStream(stored('anthropic.messages', anthropicMessage));
  assert.equal(collect('anthropic.messages', sse.slice(0, sse.indexOf('event: message_stop')), 64), undefined);
  const withError = sse.replace('event: message_stop', 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"x"}}\n\nevent: message_stop');
  assert.equal(collect('anthropic.messages', withError, 64), undefined);
});

test('the Anthropic SDK MessageStream parses our rendering into the same message', async () => {
  const sse = renderAnthropicStream(stored('anthropic.messages', anthropicMessage));
  const client = new Anthropic({ apiKey: 'test', baseURL: 'http://127.0.0.1:9', fetch: sseFetch(sse) });
  const final = await client.messages
    .stream({ model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
    .finalMessage();
  assert.deepEqual(JSON.parse(JSON.stringify(final.content)), anthropicMessage.content);
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.usage.output_tokens, 30);
  assert.equal(final.usage.input_tokens, 12);
});

test('a non-streamed JSON body is collected only when it is a complete answer', () => {
  const ok = createAnswerCollector('openai.chat', 'application/json');
  ok.push(Buffer.from(JSON.stringify(chatWithText)));
  const collected = ok.finish();
  assert.ok(!(collected instanceof LargeAnswer));
  assert.deepEqual(collected?.body, chatWithText);
  const error = createAnswerCollector('anthropic.messages', 'application/json');
  error.push(Buffer.from('{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'));
  assert.equal(error.finish(), undefined);
  const truncated = createAnswerCollector('openai.chat', 'application/json');
  truncated.push(Buffer.from(JSON.stringify(chatWithText).slice(0, 40)));
  assert.equal(truncated.finish(), undefined);
});
