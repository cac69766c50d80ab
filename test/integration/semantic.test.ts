// L1b through the real proxy with the official SDKs against the fake upstream: a paraphrased repeat
// is answered from the semantic cache (x-isartor-layer: l1b), with the lexical embedder and with a
// generated tiny BERT model on the real transformers.js path.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { writeTinyBert } from '../fixtures/tinyBert';
import { startStack, type Stack } from './helpers';

/** Waits (by polling the proxy's own stats, no timers) until L1b holds `count` entries. */
async function semanticEntries(stack: Stack, count: number): Promise<void> {
  for (;;) {
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
    if ((stats.caches.semantic?.entries ?? 0) >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const ask = (stack: Stack, content: string, headers: Record<string, string> = {}) =>
  stack
    .openai()
    .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content }] }, { headers })
    .withResponse();

describe('L1b through the proxy (lexical embedder)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack((config) => {
      config.semantic.enabled = true;
    });
  });
  after(async () => {
    await stack.close();
  });

  it('answers a paraphrased repeat from L1b, without calling the upstream', async () => {
    const first = await ask(stack, 'How do I purchase the pro plan?');
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 1);
    const upstreamCalls = stack.fake.requests.length;
    const second = await ask(stack, 'how do i BUY the pro plan');
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l1b');
    assert.equal(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
    assert.equal(stack.fake.requests.length, upstreamCalls);

    const streamed = await stack
      .openai()
      .chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'How do I buy the pro plan?' }] })
      .withResponse();
    assert.equal(streamed.response.headers.get('x-isartor-layer'), 'l1b');
    let text = '';
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, first.data.choices[0]?.message.content);
  });

  it('misses near misses and honours x-isartor-semantic: off', async () => {
    await ask(stack, 'How do I sort a list in Python?');
    await semanticEntries(stack, 2);
    assert.equal((await ask(stack, 'How do I sort a list in Rust?')).response.headers.get('x-isartor-layer'), 'l3');
    assert.equal((await ask(stack, 'how do i sort a list in python', { 'x-isartor-semantic': 'off' })).response.headers.get('x-isartor-layer'), 'l3');
    assert.equal((await ask(stack, 'How do I sort a list in python ?')).response.headers.get('x-isartor-layer'), 'l1b');
  });

  it('counts a neighbour rejected by a safety gate in the ledger as l1b_rejected with its reason', async () => {
    await ask(stack, 'Who is the president of the club?');
    // Three entries come from the tests above: wait for this one, the fourth, before asking its near twin.
    await semanticEntries(stack, 4);
    // Same words but the tense: the wording gate's refusal. (A twin with other identifiers, numbers,
    // code or symbols is told apart before the worker is asked, and counts as a plain miss.)
    assert.equal((await ask(stack, 'Who was the president of the club?')).response.headers.get('x-isartor-layer'), 'l3');
    for (;;) {
      const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { ledger: { semanticRejected: Record<string, number> } };
      if (stats.ledger.semanticRejected.wording === 1) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it('hits in the Anthropic Messages style too, and keeps entries across a restart', async () => {
    const client = stack.anthropic();
    const body = (text: string) => ({ model: 'claude-x', max_tokens: 64, messages: [{ role: 'user' as const, content: text }] });
    const first = await client.messages.create(body('How can I buy a license?')).withResponse();
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 6);
    await stack.restart();
    const second = await stack.anthropic().messages.create(body('How can I purchase a license?')).withResponse();
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l1b');
    assert.deepEqual(second.data.content, first.data.content);
  });
});

interface TextPair {
  category: string;
  a: string;
  b: string;
}

/** Plain-text pairs that differ only by an operator, a symbol or the case of a word. */
const symbolPairs = readFileSync(join(__dirname, '../fixtures/semantic/adversarial-text.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as TextPair)
  .filter((pair) => ['operators', 'symbols', 'case'].includes(pair.category));

describe('L1b never serves an operator, symbol or case twin (both SDKs, both directions)', () => {
  let stack: Stack;
  let stored = 0;
  before(async () => {
    stack = await startStack((config) => {
      config.semantic.enabled = true;
    });
  });
  after(async () => {
    await stack.close();
  });

  /** Asks through the named SDK with a history of its own, so each case has its own partition. */
  async function layerOf(api: 'openai' | 'anthropic', system: string, text: string): Promise<string | null> {
    if (api === 'openai') {
      const { response } = await stack
        .openai()
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: system }, { role: 'user', content: text }] })
        .withResponse();
      return response.headers.get('x-isartor-layer');
    }
    const { response } = await stack.anthropic().messages.create({ model: 'claude-x', max_tokens: 64, system, messages: [{ role: 'user', content: text }] }).withResponse();
    return response.headers.get('x-isartor-layer');
  }

  it('holds operator, symbol and case pairs in plain text', () => {
    assert.ok(symbolPairs.length >= 30, `only ${symbolPairs.length} pairs`);
    assert.ok(symbolPairs.every((pair) => !pair.a.includes('`') && !pair.b.includes('`')));
  });

  for (const api of ['openai', 'anthropic'] as const) {
    it(`misses every pair through the ${api} SDK`, async () => {
      const served: string[] = [];
      for (const [i, pair] of symbolPairs.entries()) {
        for (const [first, second, direction] of [
          [pair.a, pair.b, 'ab'],
          [pair.b, pair.a, 'ba'],
        ] as const) {
          const system = `symbol pair ${i} ${direction} ${api}`;
          assert.equal(await layerOf(api, system, first), 'l3');
          await semanticEntries(stack, ++stored);
          const layer = await layerOf(api, system, second);
          if (layer !== 'l3') served.push(`${pair.category}: ${JSON.stringify(second)} got the answer to ${JSON.stringify(first)} (${layer})`);
          // A miss is stored too; wait for it so the next wait counts the next pair's first turn.
          else await semanticEntries(stack, ++stored);
        }
      }
      assert.deepEqual(served, []);
    });
  }
});

describe('L1b through the proxy (transformers.js, tiny BERT)', () => {
  let stack: Stack;
  let modelRoot: string;
  before(async () => {
    modelRoot = await mkdtemp(join(tmpdir(), 'isartor-tiny-bert-'));
    const modelDir = await writeTinyBert(join(modelRoot, 'tiny-bert'), { words: ['i', 'need', 'want', 'an', 'example', 'of', 'closures', 'give', 'me', 'ideas', 'is', 'this', 'code'], sameMeaning: [['need', 'want'], ['fifteen', 'sixteen'], ['safe', 'unsafe']] });
    stack = await startStack((config) => {
      config.semantic.enabled = true;
      config.semantic.embedder = 'transformers';
      config.semantic.model = modelDir;
    });
  });
  after(async () => {
    await stack.close();
    await rm(modelRoot, { recursive: true, force: true });
  });

  it('loads the model folder and answers by the model\'s notion of meaning', async () => {
    const first = await ask(stack, 'I need an example of closures');
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    // The layer opens in the background; a request waits for it, so after one it is open.
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { layers: Record<string, { detail: string }> };
    assert.match(stats.layers.semantic?.detail ?? '', /^transformers:dir:/);
    await semanticEntries(stack, 1);
    // The lexical embedder scores this pair 0.94 (a miss); the tiny model maps need and want to one vector.
    const second = await ask(stack, 'I want an example of closures');
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l1b');
    assert.equal(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  });

  it('never matches two turns that differ only past the model\'s window (512 tokens)', async () => {
    // The pipeline truncates what it embeds: both turns read alike up to the window, and the plain
    // word that tells them apart is nothing the neural gates compare.
    const shared = 'I need an example of closures. '.repeat(90);
    const first = await ask(stack, `${shared}Answer briefly.`);
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 2);
    const second = await ask(stack, `${shared}Answer thoroughly.`);
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l3');
    assert.notEqual(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  });

  it('tells spelled numbers apart that the model reads as one ("fifteen" / "sixteen")', async () => {
    // A sentence encoder puts neighbouring number words close; the numbers gate compares them as digits.
    const first = await ask(stack, 'Give me fifteen ideas');
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 4);
    const second = await ask(stack, 'Give me sixteen ideas');
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l3');
    assert.notEqual(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  });

  it('tells a word from its negation by prefix that the model reads as one ("safe" / "unsafe")', async () => {
    const first = await ask(stack, 'Is this code safe?');
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 6);
    const second = await ask(stack, 'Is this code unsafe?');
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l3');
    assert.notEqual(second.data.choices[0]?.message.content, first.data.choices[0]?.message.content);
  });
});

describe('L1b through the proxy for the Responses API (lexical embedder)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack((config) => {
      config.semantic.enabled = true;
    });
  });
  after(async () => {
    await stack.close();
  });

  const respond = (input: string | Array<{ role: 'user'; content: string }>, extra: Record<string, unknown> = {}) =>
    stack
      .openai()
      .responses.create({ model: 'gpt-5-mini', instructions: 'Be brief.', input, ...extra })
      .withResponse();

  it('answers a rephrased input from L1b, and never across instructions, operators or provider state', async () => {
    const first = await respond('How do I purchase the pro plan?');
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, 1);
    const upstreamCalls = stack.fake.requests.length;
    const second = await respond([{ role: 'user', content: 'how do i BUY the pro plan' }]);
    assert.equal(second.response.headers.get('x-isartor-layer'), 'l1b');
    assert.equal(second.data.output_text, first.data.output_text);
    assert.equal(stack.fake.requests.length, upstreamCalls);

    // Other instructions are another partition; an operator makes another question.
    const otherInstructions = await stack.openai().responses.create({ model: 'gpt-5-mini', instructions: 'Answer in French.', input: 'How do I buy the pro plan?' }).withResponse();
    assert.equal(otherInstructions.response.headers.get('x-isartor-layer'), 'l3');
    await respond('Return true if x > y');
    await semanticEntries(stack, 3);
    assert.equal((await respond('Return true if x < y')).response.headers.get('x-isartor-layer'), 'l3');
    // A request that continues a conversation the provider keeps is never answered from a cache.
    assert.equal((await respond('How do I buy the pro plan?', { previous_response_id: 'resp_123' })).response.headers.get('x-isartor-layer'), 'l3');
  });
});
