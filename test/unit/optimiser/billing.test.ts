/** The prompt-cache billing rules the traces benchmark prices requests with. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnthropicCacheSimulator, OpenAiCacheSimulator, anthropicPromptBlocks } from '../../../src/bench/billing';
import type { PromptBlock } from '../../../src/bench/billing';
import type { JsonObject } from '../../../src/core/request';

const block = (id: string, tokens: number, breakpoint = false): PromptBlock => ({ id, tokens, breakpoint });

test('Anthropic without breakpoints: every token at full price, nothing cached', () => {
  const cache = new AnthropicCacheSimulator();
  const blocks = [block('a', 2000), block('b', 500)];
  assert.deepEqual(cache.bill(blocks, 1024), { inputTokens: 2500, cacheReadTokens: 0, cacheWriteTokens: 0, billed: 2500 });
  assert.equal(cache.bill(blocks, 1024).billed, 2500, 'an unmarked repeat is not read from cache');
});

test('Anthropic agent loop: write at the newest turn, read it back when the breakpoint moves on', () => {
  const cache = new AnthropicCacheSimulator();
  const first = cache.bill([block('sys', 2000, true), block('u1', 100, true)], 1024);
  assert.equal(first.cacheWriteTokens, 2100);
  assert.equal(first.billed, 2100 * 1.25);
  // Next request: u1 is no longer marked; the lookback from the new breakpoint finds its entry.
  const second = cache.bill([block('sys', 2000, true), block('u1', 100), block('a1', 50), block('u2', 300, true)], 1024);
  assert.equal(second.cacheReadTokens, 2100);
  assert.equal(second.cacheWriteTokens, 350);
  assert.ok(Math.abs(second.billed - (2100 * 0.1 + 350 * 1.25)) < 1e-9);
});

test('Anthropic: a changed earlier block breaks the cache; lookback stops after 20 blocks; short prefixes are not written', () => {
  const cache = new AnthropicCacheSimulator();
  cache.bill([block('sys', 2000, true), block('u1', 100, true)], 1024);
  assert.equal(cache.bill([block('sys-edited', 2000, true), block('u1', 100, true)], 1024).cacheReadTokens, 0);

  const far = new AnthropicCacheSimulator();
  const history = Array.from({ length: 25 }, (_, i) => block(`m${i}`, 10));
  far.bill([block('sys', 2000, true), ...history.slice(0, 1).map((b) => ({ ...b, breakpoint: true }))], 1024);
  const later = far.bill([block('sys', 2000), ...history, block('last', 10, true)], 1024);
  assert.equal(later.cacheReadTokens, 0, 'the only entries are more than 20 blocks back and the system block carries no marker now');

  const short = new AnthropicCacheSimulator();
  assert.equal(short.bill([block('s', 500, true)], 1024).cacheWriteTokens, 0);
  assert.equal(short.bill([block('s', 500, true)], 1024).cacheReadTokens, 0);
});

test('Anthropic entries expire five minutes after their last use', () => {
  const cache = new AnthropicCacheSimulator();
  const blocks = [block('sys', 2000, true)];
  cache.bill(blocks, 1024, 1000);
  assert.equal(cache.bill(blocks, 1024, 1200).cacheReadTokens, 2000);
  assert.equal(cache.bill(blocks, 1024, 1499).cacheReadTokens, 2000, 'the read at 1200 refreshed it');
  assert.equal(cache.bill(blocks, 1024, 1900).cacheReadTokens, 0);
});

test('OpenAI: automatic prefix caching from 1,024 tokens in 128-token steps', () => {
  const cache = new OpenAiCacheSimulator(0.5);
  const first = cache.bill([block('sys', 1000), block('u1', 300)]);
  assert.equal(first.billed, 1300);
  const second = cache.bill([block('sys', 1000), block('u1', 300), block('a1', 100)]);
  assert.equal(second.cacheReadTokens, 1280, '1,300 matched tokens round down to 1,024 + 2·128');
  assert.equal(second.billed, 1400 - 1280 + 1280 * 0.5);
  const small = new OpenAiCacheSimulator(0.5);
  small.bill([block('x', 900)]);
  assert.equal(small.bill([block('x', 900), block('y', 10)]).cacheReadTokens, 0);
});

test('prompt blocks ignore the marker itself and treat string content as one text block', () => {
  const count = (text: string): number => text.length;
  const plain: JsonObject = { system: 'S', messages: [{ role: 'user', content: 'hello' }] };
  const marked: JsonObject = { system: [{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] };
  const a = anthropicPromptBlocks(plain, count);
  const b = anthropicPromptBlocks(marked, count);
  assert.deepEqual(a.map((x) => x.id), b.map((x) => x.id));
  assert.deepEqual(b.map((x) => x.breakpoint), [true, false]);
  assert.deepEqual(a.map((x) => x.tokens), [1, 5]);
});
