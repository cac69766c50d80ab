// Different questions that L1b (default lexical embedder) once served each other's answers, asked
// through the proxy with the official SDK: each B must reach the upstream and get its own answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './helpers';

/** Waits (by polling the proxy's own stats) until L1b holds `count` entries. */
async function semanticEntries(stack: Stack, count: number): Promise<void> {
  for (;;) {
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { caches: Record<string, { entries: number }> };
    if ((stats.caches.semantic?.entries ?? 0) >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('L1b never answers a different question (through the proxy)', () => {
  let stack: Stack;
  let stored = 0;
  before(async () => {
    stack = await startStack((config) => {
      config.semantic.enabled = true;
    });
  });
  after(() => stack.close());

  /** Asks `a` (stored), then `b`: returns b's layer and whether b got a's text. */
  async function askBoth(a: string, b: string): Promise<{ layer: string | null; sameText: boolean }> {
    // One system prompt per pair: no pair can meet another's entries.
    const ask = (content: string) =>
      stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: `pair ${a}` }, { role: 'user', content }] }).withResponse();
    const first = await ask(a);
    assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
    await semanticEntries(stack, ++stored);
    const second = await ask(b);
    const layer = second.response.headers.get('x-isartor-layer');
    if (layer === 'l3') stored++;
    return { layer, sameText: second.data.choices[0]?.message.content === first.data.choices[0]?.message.content };
  }

  it('a closing "please" or "thanks" that is what is asked about is a word, not politeness', async () => {
    for (const [a, b] of [
      ["What's another word for thanks?", "What's another word for please?"],
      ['How do you say thank you', 'How do you say please'],
    ]) {
      const { layer, sameText } = await askBoth(a!, b!);
      assert.equal(layer, 'l3', `${b} was served ${a}'s answer`);
      assert.equal(sameText, false);
    }
    // Politeness still is: the same request with "please" at its end is a hit.
    assert.equal((await askBoth('Explain recursion', 'Explain recursion please')).layer, 'l1b');
  });

  it('"the" before the last word says which thing is meant', async () => {
    for (const [a, b] of [
      ['What is the time?', 'What is time?'],
      ["What's the matter?", "What's matter?"],
    ]) {
      const { layer, sameText } = await askBoth(a!, b!);
      assert.equal(layer, 'l3', `${b} was served ${a}'s answer`);
      assert.equal(sameText, false);
    }
    // Inside a phrase it still is no word.
    assert.equal((await askBoth('What is the Fibonacci sequence?', 'What is Fibonacci sequence?')).layer, 'l1b');
  });

  it('the same words repeated in another order are another question', async () => {
    // 2^(3^2) = 512, 2^(2^3) = 256: every word first appears in the same order in both.
    const { layer, sameText } = await askBoth('What is 2 to the power of 3 to the power of 2?', 'What is 2 to the power of 2 to the power of 3?');
    assert.equal(layer, 'l3');
    assert.equal(sameText, false);
  });
});
