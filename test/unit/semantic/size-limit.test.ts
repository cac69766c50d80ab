// L1b's bounds on one request's work (issue 11): a last user turn over the size limit is neither
// embedded, looked up nor stored; rarity weights never encode a long "word".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { wordWeight } from '../../../src/core/embed/rarity';
import { createSemanticLayer, SEMANTIC_MAX_TURN_CHARS, type SemanticLayer } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import type { Outcome } from '../../../src/core/outcome';
import { runLayers } from '../../../src/core/pipeline';
import { openEmbeddedStore, type EmbeddedStore } from '../../../src/core/store/embedded';
import { chatBody, context, drain, fakeUpstream, proxyRequest, tempDir } from './helpers';
import { blockedMs } from '../blockedMs';


describe('rarity weights', () => {
  it('weigh a word longer than any vocabulary token 1 without encoding it (a 64 KiB word took seconds)', () => {
    let weight = 0;
    const ms = blockedMs(() => (weight = wordWeight('x'.repeat(64 * 1024))));
    assert.equal(weight, 1);
    assert.ok(ms < 50, `${ms} ms`);
    assert.equal(wordWeight('x'.repeat(40)), 1);
    assert.ok(wordWeight('way') < wordWeight('weekend'));
  });
});

describe('L1b size limit', () => {
  let cleanup: () => Promise<void>;
  let store: EmbeddedStore;
  let layer: SemanticLayer;
  const upstream = fakeUpstream();

  before(async () => {
    const temp = await tempDir('l1b-size');
    cleanup = temp.cleanup;
    store = await openEmbeddedStore(temp.dir, { maxEntries: 1000, ttlSeconds: 0 }, { name: 'semantic' });
    layer = await createSemanticLayer({ store, embedder: createLexicalEmbedder(), config: { enabled: true, embedder: 'lexical', maxEntries: 1000, ttlSeconds: 0 }, logger: silentLogger });
  });
  after(async () => {
    await layer.close();
    await store.close();
    await cleanup();
  });

  async function ask(text: string, conversation: string): Promise<Outcome> {
    const outcome = await runLayers([layer, upstream], context(proxyRequest({ body: chatBody(text, { history: [{ role: 'system', content: conversation }] }) })), () => true);
    await drain(outcome);
    await layer.settled();
    return outcome;
  }

  /** A long question in words, `length` characters, and the same question with a trailing "please?". */
  const question = (length: number): string => {
    const words = 'why does the staging deploy of the billing service time out after the cache warms up'.split(' ');
    let text = '';
    for (let i = 0; text.length < length; i++) text += `${words[i % words.length]} `;
    return text.slice(0, length).trimEnd();
  };

  it('just under the limit: stored, and the same question reworded is an L1b hit', async () => {
    const text = question(SEMANTIC_MAX_TURN_CHARS - 20);
    assert.equal((await ask(text, 'under')).kind, 'upstream');
    const entries = layer.entries();
    const again = await ask(`${text} please`, 'under');
    assert.equal(again.kind, 'stored');
    assert.ok(entries >= 1);
  });

  it('over the limit: passes on without being embedded, looked up or stored', async () => {
    const text = question(SEMANTIC_MAX_TURN_CHARS + 20);
    const before = layer.entries();
    assert.equal((await ask(text, 'over')).kind, 'upstream');
    assert.equal(layer.entries(), before, 'nothing stored');
    assert.equal((await ask(`${text} please`, 'over')).kind, 'upstream');
  });
});
