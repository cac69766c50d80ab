// The adversarial suite: near-miss pairs that must never be served each other's answer, as plain
// last turns (fixture file) and as whole requests that differ outside the last turn.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { createSemanticLayer, type SemanticLayer } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import type { Outcome } from '../../../src/core/outcome';
import { runLayers, type LayerContext } from '../../../src/core/pipeline';
import type { JsonObject } from '../../../src/core/request';
import { openEmbeddedStore, type EmbeddedStore } from '../../../src/core/store/embedded';
import { chatBody, context, drain, fakeUpstream, proxyRequest, tempDir, type RequestSpec } from './helpers';

interface TextPair {
  category: string;
  a: string;
  b: string;
}

const fixture = (name: string): TextPair[] =>
  readFileSync(join(__dirname, '../../fixtures/semantic', name), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TextPair);

const config = { enabled: true, embedder: 'lexical' as const, maxEntries: 10_000, ttlSeconds: 0 };

let cleanup: () => Promise<void>;
let store: EmbeddedStore;
let layer: SemanticLayer;
const upstream = fakeUpstream();

before(async () => {
  const temp = await tempDir('l1b-adversarial');
  cleanup = temp.cleanup;
  store = await openEmbeddedStore(temp.dir, { maxEntries: 10_000, ttlSeconds: 0 }, { name: 'semantic' });
  layer = await createSemanticLayer({ store, embedder: createLexicalEmbedder(), config, logger: silentLogger });
});
after(async () => {
  await layer.close();
  await store.close();
  await cleanup();
});

/** Sends one request through [semantic, upstream] and waits until its answer is stored. */
async function ask(spec: RequestSpec): Promise<{ outcome: Outcome; ctx: LayerContext }> {
  const ctx = context(proxyRequest(spec));
  const outcome = await runLayers([layer, upstream], ctx, () => true);
  await drain(outcome);
  await layer.settled();
  return { outcome, ctx };
}

/** Stores A's answer, then asks B: B must go upstream, never get A's answer. */
async function assertNeverServed(a: RequestSpec, b: RequestSpec, label: string): Promise<void> {
  await ask(a);
  const { outcome } = await ask(b);
  assert.equal(outcome.kind, 'upstream', `served a stored answer for: ${label}`);
}

describe('adversarial last turns (fixture: test/fixtures/semantic/adversarial-text.jsonl)', () => {
  const pairs = fixture('adversarial-text.jsonl');

  it('holds enough cases of every kind the issue lists', () => {
    assert.ok(pairs.length >= 180, `only ${pairs.length} text pairs`);
    for (const category of ['numbers', 'paths', 'identifiers', 'code', 'negation', 'tech', 'order', 'contrast', 'question', 'detail', 'operators', 'symbols', 'case', 'wording', 'layout']) {
      assert.ok(pairs.filter((pair) => pair.category === category).length >= 8, `too few "${category}" pairs`);
    }
  });

  it('never answers one side with the other side\'s answer, in either direction', async () => {
    const served: string[] = [];
    for (const [i, pair] of pairs.entries()) {
      // A fresh history per pair keeps each pair in its own partition, as two conversations would be.
      const history = [{ role: 'system', content: `adversarial pair ${i}` }];
      for (const [first, second] of [
        [pair.a, pair.b],
        [pair.b, pair.a],
      ] as const) {
        const marker = { role: 'system', content: `adversarial pair ${i} ${first === pair.a ? 'ab' : 'ba'}` };
        await ask({ body: chatBody(first, { history: [history[0]!, marker] }) });
        const { outcome } = await ask({ body: chatBody(second, { history: [history[0]!, marker] }) });
        if (outcome.kind !== 'upstream') served.push(`${pair.category}: ${JSON.stringify(first)} -> ${JSON.stringify(second)}`);
      }
    }
    assert.deepEqual(served, []);
  });

  it('reports why a close neighbour was rejected (for the ledger\'s l1b_rejected)', async () => {
    const history = [{ role: 'system', content: 'rejection reasons' }];
    await ask({ body: chatBody('How do I sort a list in Python?', { history }) });
    const { ctx, outcome } = await ask({ body: chatBody('How do I sort a list in Rust?', { history }) });
    assert.equal(outcome.kind, 'upstream');
    assert.equal(ctx.notes.semanticRejected, undefined, 'a far neighbour is a plain miss, not a rejection');
    await ask({ body: chatBody('What does useState return?', { history }) });
    const renamed = await ask({ body: chatBody('What does usestate return?', { history }) });
    assert.equal(renamed.outcome.kind, 'upstream');
    assert.equal(renamed.ctx.notes.semanticRejected, 'identifiers');
  });

  it('rejects by gate even when a lenient threshold lets a neighbour through', async () => {
    const temp = await tempDir('l1b-lenient');
    const lenientStore = await openEmbeddedStore(temp.dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    const lenient = await createSemanticLayer({ store: lenientStore, embedder: createLexicalEmbedder(), config: { ...config, threshold: 0.3 }, logger: silentLogger });
    try {
      const reasons: Array<string | undefined> = [];
      for (const [a, b] of [
        ['Retry the request 3 times', 'Retry the request 4 times'],
        ['Why is this slow?\n```sql\nSELECT * FROM users\n```', 'Why is this slow?\n```sql\nSELECT * FROM orders\n```'],
        ['Copy files from a server to my laptop', 'Copy files from my laptop to a server'],
      ]) {
        const history = [{ role: 'system', content: a! }];
        for (const text of [a!, b!]) {
          const ctx = context(proxyRequest({ body: chatBody(text, { history }) }));
          const outcome = await runLayers([lenient, upstream], ctx, () => true);
          await drain(outcome);
          await lenient.settled();
          assert.equal(outcome.kind, 'upstream');
          if (text === b) reasons.push(ctx.notes.semanticRejected);
        }
      }
      assert.deepEqual(reasons, ['numbers', 'code', 'order']);
    } finally {
      await lenient.close();
      await lenientStore.close();
      await temp.cleanup();
    }
  });
});

describe('adversarial requests: same last turn, different everything else', () => {
  const turn = 'Explain more';
  const cases: Array<[string, RequestSpec, RequestSpec]> = [];
  const firstTurns = [
    ['What is a monad?', 'What is a functor?'],
    ['How do I sort a list in Python?', 'How do I sort a list in Rust?'],
    ['Explain TCP', 'Explain UDP'],
    ['What does git rebase do?', 'What does git merge do?'],
    ['Why is my build slow?', 'Why is my test slow?'],
  ];
  const followUps = ['Explain more', 'Give me an example', 'Why?', 'Continue', 'Can you simplify that?', 'And in Rust?'];
  for (const [first, other] of firstTurns) {
    for (const followUp of followUps) {
      const history = (question: string): JsonObject[] => [
        { role: 'user', content: question },
        { role: 'assistant', content: `About ${question}` },
      ];
      cases.push([`"${followUp}" after "${first}" vs "${other}"`, { body: chatBody(followUp, { history: history(first) }) }, { body: chatBody(followUp, { history: history(other) }) }]);
    }
  }
  const base = (extra: JsonObject = {}, model?: string): JsonObject => chatBody(turn, { history: [{ role: 'system', content: 'You are terse.' }], extra, model });
  cases.push(
    ['different system prompt', { body: base() }, { body: chatBody(turn, { history: [{ role: 'system', content: 'You are verbose.' }] }) }],
    ['different model', { body: base() }, { body: base({}, 'gpt-4o') }],
    ['different credential', { body: base() }, { body: base(), credential: 'sk-other-user' }],
    ['different upstream', { body: base() }, { body: base(), baseUrl: 'http://127.0.0.1:2/v1' }],
    ['different temperature', { body: base({ temperature: 0 }) }, { body: base({ temperature: 1 }) }],
    ['different max_tokens', { body: base({ max_tokens: 10 }) }, { body: base({ max_tokens: 1000 }) }],
    ['different response_format', { body: base() }, { body: base({ response_format: { type: 'json_object' } }) }],
    ['tools vs none', { body: base() }, { body: base({ tools: [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object' } } }] }) }],
    [
      'different tools',
      { body: base({ tools: [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object' } } }] }) },
      { body: base({ tools: [{ type: 'function', function: { name: 'write_file', parameters: { type: 'object' } } }] }) },
    ],
    ['different tool_choice', { body: base({ tool_choice: 'auto' }) }, { body: base({ tool_choice: 'none' }) }],
    [
      'anthropic: different system',
      { api: 'anthropic.messages', body: { model: 'claude-x', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: turn }] } },
      { api: 'anthropic.messages', body: { model: 'claude-x', max_tokens: 100, system: 'Be thorough.', messages: [{ role: 'user', content: turn }] } },
    ],
    [
      'anthropic: different beta header',
      { api: 'anthropic.messages', body: { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: turn }] }, headers: { 'anthropic-beta': 'a' } },
      { api: 'anthropic.messages', body: { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: turn }] }, headers: { 'anthropic-beta': 'b' } },
    ],
    [
      'openai vs anthropic style',
      { body: chatBody(turn, { model: 'same-model' }) },
      { api: 'anthropic.messages', body: { model: 'same-model', messages: [{ role: 'user', content: turn }] } },
    ],
  );

  it('counts at least 200 adversarial cases together with the text pairs', () => {
    assert.ok(cases.length + fixture('adversarial-text.jsonl').length >= 200, `${cases.length} request cases`);
  });

  for (const [label, a, b] of cases) {
    it(`misses: ${label}`, async () => {
      await assertNeverServed(a, b, label);
    });
  }
});
