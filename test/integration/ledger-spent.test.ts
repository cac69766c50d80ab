// What the cloud billed, end to end: an Anthropic answer whose usage has cache reads and cache
// writes goes through the real proxy and engine; the ledger's spentUsd is priced at the cache-aware
// rates when recorded, the L1a replay of it costs nothing, and a provider error costs nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './helpers';

const MODEL = 'claude-sonnet-4-5';
let stack: Stack;

before(async () => {
  stack = await startStack((config) => {
    config.optimiser.enabled = false;
  });
  stack.fake.respondWith((req) => {
    if (JSON.stringify(req.json ?? {}).includes('please fail')) return { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'no such model' } } };
    return {
      body: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: 'cached answer' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        // Anthropic's input_tokens excludes the cache: 2,000 plain + 8,000 read + 500 written.
        usage: { input_tokens: 2000, cache_read_input_tokens: 8000, cache_creation_input_tokens: 500, output_tokens: 400 },
      },
    };
  });
});
after(async () => {
  await stack.close();
});

interface Totals {
  requests: number;
  failed: number;
  savedUsd: number;
  spentUsd: number;
}

describe('spent in the cloud, recorded per request', () => {
  it('prices the cloud answer with cache reads and writes at their rates; the L1a hit and the failure add none', async () => {
    const client = stack.anthropic();
    const ask = (text: string) => client.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: text }] });
    await ask('the same question');
    await ask('the same question');
    await assert.rejects(ask('please fail'));
    // Records are written once each answer has finished: wait for the third.
    let stats: { ledger: { totals: Totals; byLayer: Record<string, Totals> } };
    for (let i = 0; ; i++) {
      stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as typeof stats;
      if (stats.ledger.totals.requests >= 3 || i > 100) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { totals, byLayer } = stats.ledger;
    // 2,000 x $3 + 8,000 x $0.30 + 500 x $3.75 + 400 x $15, per million.
    const billed = 0.016275;
    assert.ok(Math.abs(totals.spentUsd - billed) < 1e-9, `spent ${totals.spentUsd}, billed ${billed}`);
    assert.equal(byLayer.l1a?.spentUsd, 0);
    assert.equal(byLayer.error?.spentUsd, 0);
    assert.ok(Math.abs((byLayer.l1a?.savedUsd ?? 0) - billed) < 1e-9, 'the hit saved what the answer cost');
    assert.equal(totals.requests, 3);
    assert.equal(totals.failed, 1);
  });
});
