// Token counting with o200k_base and input estimates over every text part of each API style.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import type { JsonObject } from '../../src/core/request';
import { countTokens, estimateInputTokens } from '../../src/core/tokens';

const plain = (text: string): number => encode(text, { disallowedSpecial: new Set() }).length;

describe('countTokens', () => {
  it('counts like the o200k_base encoder itself', () => {
    const text = 'Refactor `parseConfig()` in src/config.ts so that it returns a Result<Config, string> — 42 ✓';
    assert.equal(countTokens(text), encode(text).length);
    assert.ok(countTokens(text) > 10 && countTokens(text) < text.length);
  });

  it('is 0 for the empty string and grows with the text', () => {
    assert.equal(countTokens(''), 0);
    assert.ok(countTokens('word '.repeat(200)) > countTokens('word '.repeat(100)));
  });

  it('treats special-token markers in user text as ordinary text instead of throwing', () => {
    const text = 'the tokenizer ends documents with <|endoftext|> here';
    assert.equal(countTokens(text), plain(text));
    assert.ok(countTokens(text) > countTokens('the tokenizer ends documents with  here'));
  });
});

describe('estimateInputTokens', () => {
  it('OpenAI chat: text of string and part content, names, tool calls, tools, plus message overhead', () => {
    const tool = { type: 'function', function: { name: 'look', description: 'Looks closer', parameters: { type: 'object' } } };
    const body: JsonObject = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'look', arguments: '{"zoom":2}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'a cat on a mat' },
      ],
      tools: [tool],
    };
    const expected =
      4 * 3 + 3 +
      plain('You are terse.') + plain('What is in this picture?') + plain('look') + plain('{"zoom":2}') + plain('a cat on a mat') +
      plain(JSON.stringify(tool));
    assert.equal(estimateInputTokens('openai.chat', body), expected);
  });

  it('Anthropic messages: system blocks, text, tool_use input, tool_result content, thinking, tools', () => {
    const tool = { name: 'grep', description: 'Search files', input_schema: { type: 'object' } };
    const body: JsonObject = {
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: 'You are a coding agent.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'Find TODOs' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should grep.', signature: 'sig' }, { type: 'tool_use', id: 't1', name: 'grep', input: { pattern: 'TODO' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'src/a.ts:3: TODO fix' }] }] },
      ],
      tools: [tool],
    };
    const expected =
      3 + 3 * 3 + 3 +
      plain('You are a coding agent.') + plain('Find TODOs') + plain('I should grep.') + plain('grep') + plain('{"pattern":"TODO"}') +
      plain('src/a.ts:3: TODO fix') + plain(JSON.stringify(tool));
    assert.equal(estimateInputTokens('anthropic.messages', body), expected);
  });

  it('legacy completions: string prompts and pre-tokenised prompts', () => {
    assert.equal(estimateInputTokens('openai.completions', { model: 'x', prompt: 'def add(a, b):' }), plain('def add(a, b):'));
    assert.equal(estimateInputTokens('openai.completions', { model: 'x', prompt: ['one', 'two'] }), plain('one') + plain('two'));
    assert.equal(estimateInputTokens('openai.completions', { model: 'x', prompt: [[1, 2, 3], [4]] }), 4);
  });

  it('grows with the conversation and never throws on odd shapes', () => {
    const short = estimateInputTokens('openai.chat', { messages: [{ role: 'user', content: 'hi' }] });
    const long = estimateInputTokens('openai.chat', { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello there' }] });
    assert.ok(long > short);
    assert.equal(estimateInputTokens('openai.chat', { messages: 'nope' }), 0);
    assert.equal(estimateInputTokens('anthropic.messages', { messages: [null, 3, { content: { weird: true } }] }), 3 + 3);
  });
});
