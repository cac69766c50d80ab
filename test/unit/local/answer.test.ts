// Local answers: quality gates (empty, refusal, capped) and the OpenAI/Anthropic body shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeAnswer, looksLikeRefusal } from '../../../src/core/local/answerCheck';
import { buildLocalAnswer } from '../../../src/core/local/answerShape';

void test('refusals are recognised by how the answer opens', () => {
  for (const text of ["I'm sorry, but I can't help with that.", 'I cannot help with this request.', "  **Sorry**, I don't know.", 'As an AI, I have no access', 'I apologize for the confusion', "I don't know the answer"]) {
    assert.equal(looksLikeRefusal(text), true, text);
  }
  for (const text of ['Use `ls -la`.', 'The error "I cannot help" comes from the linter.', '5 km is 3.11 miles.']) {
    assert.equal(looksLikeRefusal(text), false, text);
  }
});

void test('an answer is judged empty, refused or capped, and an unfinished head only for refusals', () => {
  assert.deepEqual(judgeAnswer(' \n ', true, false), { ok: false, reason: 'empty answer' });
  assert.deepEqual(judgeAnswer("I'm sorry, I can't", false, false), { ok: false, reason: 'refusal' });
  assert.deepEqual(judgeAnswer('ls -la and then', true, true), { ok: false, reason: 'hit the local token cap' });
  assert.deepEqual(judgeAnswer('', false, false), { ok: true }, 'an unfinished empty head may still produce text');
  assert.deepEqual(judgeAnswer('ls -la', true, false), { ok: true });
});

void test('OpenAI answers are chat.completion bodies with real usage and the finish reason', () => {
  const answer = buildLocalAnswer({ api: 'openai.chat', model: 'qwen-local', text: 'ls -la', stopReason: 'max_tokens', inputTokens: 21, outputTokens: 3, createdAt: 1_700_000_000_123 }, 'chatcmpl-x');
  assert.deepEqual(answer, {
    api: 'openai.chat',
    createdAt: 1_700_000_000_123,
    usage: { inputTokens: 21, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0 },
    body: {
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'qwen-local',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ls -la', refusal: null }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 },
    },
  });
});

void test('Anthropic answers are message bodies with stop_reason and stop_sequence', () => {
  const answer = buildLocalAnswer({ api: 'anthropic.messages', model: 'qwen-local', text: '3.11 miles', stopReason: 'stop_sequence', stopSequence: 'END', inputTokens: 9, outputTokens: 4 }, 'msg_x');
  assert.deepEqual(answer.body, {
    id: 'msg_x',
    type: 'message',
    role: 'assistant',
    model: 'qwen-local',
    content: [{ type: 'text', text: '3.11 miles' }],
    stop_reason: 'stop_sequence',
    stop_sequence: 'END',
    usage: { input_tokens: 9, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
  const ended = buildLocalAnswer({ api: 'anthropic.messages', model: 'm', text: 'x', stopReason: 'end', inputTokens: 1, outputTokens: 1 });
  assert.equal(ended.body.stop_reason, 'end_turn');
  assert.equal(ended.body.stop_sequence, null);
  assert.match(String(ended.body.id), /^msg_isartor_l2_[0-9a-f]{24}$/);
});
