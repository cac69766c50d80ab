// Token counting with o200k_base and input estimates over every text part of each API style, in
// bounded time whatever the text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import type { JsonObject } from '../../src/core/request';
import { boundedPieces, countTokens, countTokensExactly, countTokensOf, estimateInputTokens, EXACT_COUNT_CHARS, tokensWithinLimit } from '../../src/core/tokens';
import { blockedMs } from './blockedMs';

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

/** Deterministic pseudo-random lower-case letters (xorshift). */
function randomLetters(length: number): string {
  let state = 0x2545f491;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = 97 + ((state >>> 0) % 26);
  }
  return out.toString('latin1');
}


describe('bounded work on any text (issue 11: one prompt must not freeze the proxy)', () => {
  // The bound is a stall bound (the proxy's goal is 50 ms per request), not a speed goal.
  const STALL_MS = 100;

  it('cuts text into pieces that concatenate to it, with no run over 64 characters and no split surrogate pair', () => {
    const text = `${'x'.repeat(200)} words and ${' '.repeat(150)}\n${'😀'.repeat(100)} ${'ab'.repeat(3000)} end`;
    const pieces = [...boundedPieces(text)];
    assert.equal(pieces.join(''), text);
    for (const piece of pieces) {
      assert.ok(!/[a-z😀]{33}|\s{33}/u.test(piece), `a piece holds a long run: ${piece.slice(0, 80)}`);
      assert.ok(!/^[\udc00-\udfff]/.test(piece), 'a piece starts with a lone low surrogate');
    }
    assert.deepEqual([...boundedPieces('x'.repeat(70))].map((piece) => piece.length), [32, 32, 6]);
  });

  it('counts ordinary text in pieces exactly as the encoder counts it whole', () => {
    const prose = 'Refactor `parseConfig()` so that it returns a Result — and add tests for the 3 edge cases.\n\tThen:  '.repeat(70);
    const json = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: i, path: `src/core/module${i}.ts`, ok: i % 2 === 0, note: "it's" })));
    for (const text of [prose, json]) {
      assert.ok(text.length > 4 * 1024 && text.length < EXACT_COUNT_CHARS, `${text.length} characters`);
      assert.ok([...boundedPieces(text)].length > 2, 'the text is cut into segments');
      assert.equal(countTokens(text), plain(text));
    }
  });

  for (const [name, text] of [
    ['one letter, 64 KiB', 'x'.repeat(64 * 1024)],
    ['one letter, 1 MiB', 'x'.repeat(1024 * 1024)],
    ['two letters, 256 KiB', 'ab'.repeat(128 * 1024)],
    ['random letters, 256 KiB', randomLetters(256 * 1024)],
    ['CJK without spaces, 64 KiB', '漢字'.repeat(32 * 1024)],
  ] as const) {
    it(`${name}: countTokens, tokensWithinLimit and countTokensOf block under ${STALL_MS} ms and count plausibly`, () => {
      let count = 0;
      const countMs = blockedMs(() => (count = countTokens(text)));
      assert.ok(countMs < STALL_MS, `countTokens blocked ${countMs} ms`);
      // o200k never packs more than a few dozen characters of these into one token, nor splits below one per character.
      assert.ok(count >= text.length / 64 && count <= text.length, `count ${count} for ${text.length} characters`);
      let within: number | false = 0;
      assert.ok(blockedMs(() => (within = tokensWithinLimit(text, 512))) < STALL_MS);
      assert.equal(within, false);
      assert.ok(blockedMs(() => countTokensOf([text, text, text, text])) < STALL_MS);
    });
  }

  it('the texts of one count share one budget', () => {
    const texts = Array.from({ length: 64 }, (_, i) => randomLetters(32 * 1024) + i);
    const ms = blockedMs(() => countTokensOf(texts));
    assert.ok(ms < STALL_MS, `blocked ${ms} ms`);
  });

  it('countTokensExactly (for benchmarks) stays exact past the budget on ordinary text', () => {
    const prose = 'Refactor `parseConfig()` so that it returns a Result — and add tests for the 3 edge cases.\n\tThen:  '.repeat(400);
    assert.ok(prose.length > 4 * EXACT_COUNT_CHARS);
    assert.equal(countTokensExactly(prose), plain(prose));
  });

  it('counts the same text the same way every time', () => {
    const text = randomLetters(200 * 1024);
    assert.equal(countTokens(text), countTokens(text));
  });

  it('extrapolates 4 MiB of words to within 2% of the exact count', () => {
    const words = 'the quick brown fox jumps over a lazy dog while reviewing pull requests about caching layers'.split(' ');
    const period = words.map((_, i) => words[(i * 7) % words.length]).join(' ') + ' ';
    const text = period.repeat(Math.ceil((4 * 1024 * 1024) / period.length));
    const exact = plain(text);
    let count = 0;
    assert.ok(blockedMs(() => (count = countTokens(text))) < STALL_MS);
    assert.ok(Math.abs(count - exact) / exact < 0.02, `count ${count}, exact ${exact}`);
  });

  it('estimateInputTokens on a 4 MiB request blocks under the bound', () => {
    const body: JsonObject = { model: 'gpt-4o', messages: Array.from({ length: 64 }, (_, i) => ({ role: 'user', content: randomLetters(64 * 1024) + i })) };
    let tokens = 0;
    const ms = blockedMs(() => (tokens = estimateInputTokens('openai.chat', body)));
    assert.ok(ms < STALL_MS, `blocked ${ms} ms`);
    assert.ok(tokens > 64 * 1024, `${tokens} tokens`);
  });
});
