// Which complete answers the caches keep (src/core/stream/storable.ts), for the Responses API and
// the shapes the integration test does not send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredAnswer } from '../../src/core/outcome';
import type { ApiStyle, JsonObject } from '../../src/core/request';
import { unstorableReason } from '../../src/core/stream/storable';

const answer = (api: ApiStyle, body: JsonObject): StoredAnswer => ({ api, body, usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 0 });
const message = (content: JsonObject[]): JsonObject => ({ type: 'message', role: 'assistant', content });

test('Responses: text and tool calls are stored; an empty message, only reasoning, or a refusal are not', () => {
  assert.equal(unstorableReason(answer('openai.responses', { output: [message([{ type: 'output_text', text: 'Hi' }])] })), undefined);
  assert.equal(unstorableReason(answer('openai.responses', { output: [{ type: 'function_call', name: 'f', arguments: '{}' }] })), undefined);
  assert.equal(unstorableReason(answer('openai.responses', { output: [message([{ type: 'output_text', text: '' }])] })), 'empty');
  assert.equal(unstorableReason(answer('openai.responses', { output: [{ type: 'reasoning', summary: [] }] })), 'empty');
  assert.equal(unstorableReason(answer('openai.responses', { output: [message([{ type: 'refusal', refusal: 'No.' }])] })), 'refusal');
});

test('Anthropic: a tool call with empty input is stored; empty text blocks are not', () => {
  assert.equal(unstorableReason(answer('anthropic.messages', { content: [{ type: 'tool_use', id: 't', name: 'now', input: {} }], stop_reason: 'tool_use' })), undefined);
  assert.equal(unstorableReason(answer('anthropic.messages', { content: [{ type: 'text', text: '' }], stop_reason: 'end_turn' })), 'empty');
  assert.equal(unstorableReason(answer('anthropic.messages', { content: [], stop_reason: 'end_turn' })), 'empty');
});

test('Chat and completions: legacy text, content parts and audio count as something said', () => {
  assert.equal(unstorableReason(answer('openai.completions', { choices: [{ text: 'done', finish_reason: 'stop' }] })), undefined);
  assert.equal(unstorableReason(answer('openai.completions', { choices: [{ text: '', finish_reason: 'stop' }] })), 'empty');
  assert.equal(unstorableReason(answer('openai.chat', { choices: [{ message: { content: [{ type: 'text', text: 'x' }] }, finish_reason: 'stop' }] })), undefined);
  assert.equal(unstorableReason(answer('openai.chat', { choices: [{ message: { content: null, audio: { id: 'a' } }, finish_reason: 'stop' }] })), undefined);
});
