// Eligibility rules: which requests the local model may even look at.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEligibility } from '../../../src/core/local/eligibility';
import type { JsonObject } from '../../../src/core/request';

const limits = { maxPromptTokens: 200, maxHistoryTokens: 50 };
const user = (content: JsonObject['x']) => ({ role: 'user', content });

function reason(api: 'openai.chat' | 'anthropic.messages' | 'openai.completions', body: JsonObject): string {
  const result = checkEligibility(api, body, limits);
  assert.equal(result.eligible, false, `expected ineligible: ${JSON.stringify(body)}`);
  return result.eligible ? '' : result.reason;
}

void test('a single OpenAI user turn is eligible, with its settings read from the body', () => {
  const result = checkEligibility(
    'openai.chat',
    {
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be brief.' }, user('How do I list hidden files?')],
      max_completion_tokens: 40,
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: [],
      stream: true,
    },
    limits,
  );
  assert.deepEqual(result, {
    eligible: true,
    prompt: { system: 'Be brief.', turns: [{ role: 'user', text: 'How do I list hidden files?' }] },
    settings: { maxTokens: 40, temperature: 0.2, topP: 0.9, seed: 7, stop: [] },
  });
});

void test('an Anthropic request with text blocks and a system block array is eligible', () => {
  const result = checkEligibility(
    'anthropic.messages',
    {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Answer in one line.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Convert 5 km to miles' }] }],
      stop_sequences: [],
      top_k: 5,
    },
    limits,
  );
  assert.deepEqual(result, {
    eligible: true,
    prompt: { system: 'Answer in one line.', turns: [{ role: 'user', text: 'Convert 5 km to miles' }] },
    settings: { maxTokens: 1024, topK: 5, stop: [] },
  });
});

void test('tools, functions and tool history make a request ineligible', () => {
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], tools: [{ type: 'function', function: { name: 'f' } }] }), /tools/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], functions: [{ name: 'f' }] }), /functions/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], tool_choice: 'required' }), /tool_choice/);
  assert.match(
    reason('openai.chat', {
      model: 'm',
      messages: [user('run it'), { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: 'ok' }, user('and?')],
    }),
    /tool calls in history/,
  );
  assert.match(reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user('hi')], tools: [{ name: 'f', input_schema: {} }] }), /tools/);
  assert.match(
    reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'ok' }] }] }),
    /non-text part \(tool_result\)/,
  );
});

void test('images and other non-text parts make a request ineligible', () => {
  assert.match(
    reason('openai.chat', { model: 'm', messages: [user([{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }])] }),
    /non-text part \(image_url\)/,
  );
  assert.match(
    reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } }])] }),
    /non-text part \(image\)/,
  );
});

void test('a response_format schema, n > 1, logprobs and unknown fields make a request ineligible', () => {
  const schema = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } };
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], response_format: schema }), /response_format/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], response_format: { type: 'json_object' } }), /response_format/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], n: 2 }), /n > 1/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], logprobs: true }), /logprobs/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('hi')], audio: { voice: 'alloy' } }), /unsupported field "audio"/);
  assert.match(reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user('hi')], thinking: { type: 'enabled', budget_tokens: 1024 } }), /thinking/);
  // A plain-text response_format changes nothing and stays eligible.
  assert.equal(checkEligibility('openai.chat', { model: 'm', messages: [user('hi')], response_format: { type: 'text' } }, limits).eligible, true);
});

void test('the last turn must be a non-empty user turn; legacy completions are not handled', () => {
  assert.match(reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user('hi'), { role: 'assistant', content: 'Sure, ' }] }), /last message/);
  assert.match(reason('openai.chat', { model: 'm', messages: [user('   ')] }), /empty user message/);
  assert.match(reason('openai.completions', { model: 'm', prompt: 'hi' }), /legacy completions/);
});

void test('a short history is allowed, a long one is not, and 0 means single-turn only', () => {
  const short = { model: 'm', messages: [user('What is 2+2?'), { role: 'assistant', content: '4' }, user('And 3+3?')] };
  assert.equal(checkEligibility('openai.chat', short, limits).eligible, true);
  assert.match(reason('openai.chat', { ...short, messages: [user('word '.repeat(80)), { role: 'assistant', content: 'ok' }, user('next')] }), /history over 50 tokens/);
  const singleOnly = checkEligibility('openai.chat', short, { ...limits, maxHistoryTokens: 0 });
  assert.deepEqual(singleOnly, { eligible: false, reason: 'more than one turn' });
});

void test('a prompt over the size limit is ineligible, the system text included', () => {
  assert.match(reason('openai.chat', { model: 'm', messages: [user('word '.repeat(250))] }), /prompt over 200 tokens/);
  assert.match(reason('openai.chat', { model: 'm', messages: [{ role: 'system', content: 'rule '.repeat(250) }, user('hi')] }), /prompt over 200 tokens/);
});

void test('stop sequences make a request ineligible: a local server cannot say which one matched, or may ignore them', () => {
  assert.equal(reason('openai.chat', { model: 'm', messages: [user('hi')], stop: 'END' }), 'stop sequences');
  assert.equal(reason('openai.chat', { model: 'm', messages: [user('hi')], stop: ['END', '\n\n'] }), 'stop sequences');
  assert.equal(reason('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user('hi')], stop_sequences: ['END'] }), 'stop sequences');
  // Asking for no stop sequence is fine.
  for (const stop of [null, [], '']) assert.equal(checkEligibility('openai.chat', { model: 'm', messages: [user('hi')], stop }, limits).eligible, true);
  assert.equal(checkEligibility('anthropic.messages', { model: 'm', max_tokens: 10, messages: [user('hi')], stop_sequences: [] }, limits).eligible, true);
});

void test('store: true and a service_tier keep a request with the provider; metadata alone does not', () => {
  const hi = { model: 'm', messages: [user('hi')] };
  assert.equal(reason('openai.chat', { ...hi, store: true }), 'store: true');
  assert.equal(reason('openai.chat', { ...hi, store: true, metadata: { project: 'x' } }), 'store: true');
  for (const tier of ['auto', 'default', 'flex', 'priority']) assert.equal(reason('openai.chat', { ...hi, service_tier: tier }), 'service_tier');
  assert.equal(reason('anthropic.messages', { ...hi, max_tokens: 10, service_tier: 'standard_only' }), 'service_tier');
  assert.equal(checkEligibility('openai.chat', { ...hi, store: false, metadata: { project: 'x' } }, limits).eligible, true);
  assert.equal(checkEligibility('anthropic.messages', { ...hi, max_tokens: 10, metadata: { user_id: 'u-1' } }, limits).eligible, true);
});

void test('system text blocks are joined as separate system messages are, never run together', () => {
  const anthropicResult = checkEligibility(
    'anthropic.messages',
    { model: 'm', max_tokens: 10, system: [{ type: 'text', text: 'Answer in French.' }, { type: 'text', text: 'Be brief.' }], messages: [user('hi')] },
    limits,
  );
  const openaiResult = checkEligibility(
    'openai.chat',
    { model: 'm', messages: [{ role: 'system', content: 'Answer in French.' }, { role: 'developer', content: 'Be brief.' }, user('hi')] },
    limits,
  );
  assert.equal(anthropicResult.eligible && anthropicResult.prompt.system, 'Answer in French.\n\nBe brief.');
  assert.equal(openaiResult.eligible && openaiResult.prompt.system, 'Answer in French.\n\nBe brief.');
});
