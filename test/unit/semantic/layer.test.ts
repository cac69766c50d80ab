// The L1b layer through runLayers on a real embedded store: positive cases that must hit, and the
// switches and eligibility rules (semantic off, no-cache, no-store, tool results, images, failures).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { createSemanticLayer, type SemanticLayer } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import type { Outcome } from '../../../src/core/outcome';
import { runLayers } from '../../../src/core/pipeline';
import type { JsonObject } from '../../../src/core/request';
import { semanticKey } from '../../../src/core/semantic/keys';
import { openEmbeddedStore, type EmbeddedStore } from '../../../src/core/store/embedded';
import { chatBody, context, drain, fakeUpstream, proxyRequest, tempDir, type RequestSpec } from './helpers';

const config = { enabled: true, embedder: 'lexical' as const, maxEntries: 10_000, ttlSeconds: 0 };
let cleanup: () => Promise<void>;
let store: EmbeddedStore;
let layer: SemanticLayer;
let failNext = false;
const upstream = fakeUpstream(() => {
  const fail = failNext;
  failNext = false;
  return fail;
});
let conversation = 0;

before(async () => {
  const temp = await tempDir('l1b-layer');
  cleanup = temp.cleanup;
  store = await openEmbeddedStore(temp.dir, { maxEntries: 10_000, ttlSeconds: 0 }, { name: 'semantic' });
  layer = await createSemanticLayer({ store, embedder: createLexicalEmbedder(), config, logger: silentLogger });
});
after(async () => {
  await layer.close();
  await store.close();
  await cleanup();
});

async function ask(spec: RequestSpec): Promise<Outcome> {
  const outcome = await runLayers([layer, upstream], context(proxyRequest(spec)), () => true);
  await drain(outcome);
  await layer.settled();
  return outcome;
}

/** A history unique to one test, so tests never see each other's entries. */
const fresh = (): JsonObject[] => [{ role: 'system', content: `conversation ${++conversation}` }];
const answerId = (outcome: Outcome): unknown => (outcome.kind === 'stored' ? outcome.answer.body.id : undefined);

describe('positive cases (fixture: test/fixtures/semantic/positive-text.jsonl)', () => {
  const pairs = readFileSync(join(__dirname, '../../fixtures/semantic/positive-text.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { a: string; b: string });

  for (const { a, b } of pairs) {
    it(`answers ${JSON.stringify(b)} with the answer stored for ${JSON.stringify(a)}`, async () => {
      const history = fresh();
      const first = await ask({ body: chatBody(a, { history }) });
      assert.equal(first.kind, 'upstream');
      const callsBefore = upstream.calls;
      const second = await ask({ body: chatBody(b, { history }) });
      assert.equal(second.kind, 'stored');
      assert.equal(second.layer, 'l1b');
      assert.equal(answerId(second), `answer-${callsBefore}`);
      assert.equal(upstream.calls, callsBefore, 'a hit must not call the upstream');
    });
  }

  it('hits across streaming modes and in the Anthropic style', async () => {
    const history = fresh();
    await ask({ body: chatBody('How do I rename a branch in git?', { history }) });
    assert.equal((await ask({ body: chatBody('how do i rename a branch in git', { history, extra: { stream: true } }) })).kind, 'stored');
    const anthropic = (text: string): RequestSpec => ({ api: 'anthropic.messages', body: { model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text }] }] } });
    assert.equal((await ask(anthropic('How do I purchase the team plan?'))).kind, 'upstream');
    assert.equal((await ask(anthropic('How do I buy the team plan?'))).kind, 'stored');
  });
});

describe('switches and eligibility', () => {
  it('x-isartor-semantic: off skips the lookup for that request only', async () => {
    const history = fresh();
    await ask({ body: chatBody('How do I rename a branch in git?', { history }) });
    assert.equal((await ask({ body: chatBody('How do I rename a branch in git ?', { history }), cache: { semanticOff: true } })).kind, 'upstream');
    assert.equal((await ask({ body: chatBody('How do I rename a branch in git ?', { history }) })).kind, 'stored');
  });

  it('no-cache skips the lookup but stores the fresh answer; no-store never stores', async () => {
    const history = fresh();
    await ask({ body: chatBody('Explain closures in JavaScript', { history }) });
    const refreshed = await ask({ body: chatBody('Explain closures in JavaScript', { history }), cache: { noCache: true } });
    assert.equal(refreshed.kind, 'upstream');
    const latest = upstream.calls;
    const hit = await ask({ body: chatBody('explain closures in javascript', { history }) });
    assert.equal(answerId(hit), `answer-${latest}`, 'the no-cache answer replaced the old one for that turn');

    const other = fresh();
    await ask({ body: chatBody('Explain hoisting in JavaScript', { history: other }), cache: { noStore: true } });
    assert.equal((await ask({ body: chatBody('explain hoisting in javascript', { history: other }) })).kind, 'upstream');
  });

  it('never stores a failed upstream answer', async () => {
    const history = fresh();
    failNext = true;
    await ask({ body: chatBody('What is a goroutine?', { history }) });
    assert.equal((await ask({ body: chatBody('what is a goroutine', { history }) })).kind, 'upstream');
  });

  it('does not cache a last turn that is a tool result or carries an image', async () => {
    const toolHistory: JsonObject[] = [
      { role: 'user', content: 'List the files' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
    ];
    const toolTurn = { model: 'gpt-4o-mini', messages: [...toolHistory, { role: 'tool', tool_call_id: 'c1', content: 'a.ts b.ts' }] };
    assert.deepEqual(semanticKey(proxyRequest({ body: toolTurn })), { eligible: false, reason: 'tool_result' });
    const anthropicTool = { model: 'claude-x', messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] }] };
    assert.deepEqual(semanticKey(proxyRequest({ api: 'anthropic.messages', body: anthropicTool })), { eligible: false, reason: 'tool_result' });
    const image = (url: string): JsonObject => ({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url } }] }],
    });
    assert.deepEqual(semanticKey(proxyRequest({ body: image('data:image/png;base64,AAAA') })), { eligible: false, reason: 'non_text' });
    await ask({ body: image('data:image/png;base64,AAAA') });
    assert.equal((await ask({ body: image('data:image/png;base64,BBBB') })).kind, 'upstream');
    assert.deepEqual(semanticKey(proxyRequest({ api: 'openai.completions', body: { model: 'x', prompt: 'def f(' } })), { eligible: false, reason: 'not_chat' });
  });

  it('never serves one user\'s turn for another\'s: the last turn\'s other fields must be equal', async () => {
    const history = fresh();
    const named = (name: string, text: string): JsonObject => ({ model: 'gpt-4o-mini', messages: [...history, { role: 'user', name, content: text }] });
    const first = await ask({ body: named('alice', 'What is my name?') });
    assert.equal(first.kind, 'upstream');
    assert.equal((await ask({ body: named('bob', 'what is my name') })).kind, 'upstream', 'bob must not get alice\'s answer');
    assert.equal((await ask({ body: chatBody('what is my name', { history }) })).kind, 'upstream', 'nor a turn without a name');
    assert.equal((await ask({ body: named('alice', 'what is my name') })).kind, 'stored', 'alice again is a hit');
    assert.deepEqual(semanticKey(proxyRequest({ body: named('x'.repeat(257), 'What is my name?') })), { eligible: false, reason: 'non_text' });
  });

  it('keys the partition on the history before the last turn, not on the last turn', () => {
    const key = (spec: RequestSpec): string => {
      const result = semanticKey(proxyRequest(spec));
      assert.ok(result.eligible);
      return result.partition;
    };
    const history = [{ role: 'user', content: 'What is a monad?' }, { role: 'assistant', content: 'A monoid in…' }];
    assert.equal(key({ body: chatBody('Explain more', { history }) }), key({ body: chatBody('Tell me more', { history }) }));
    assert.equal(key({ body: chatBody('Explain more', { history, extra: { stream: true, user: 'u1' } }) }), key({ body: chatBody('Explain more', { history }) }));
    assert.notEqual(key({ body: chatBody('Explain more', { history }) }), key({ body: chatBody('Explain more', { history: history.slice(0, 1) }) }));
  });
});
