// L1b stores a missed answer only after the response's own event-loop turn, never on the request path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { createSemanticLayer } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import type { Layer } from '../../../src/core/pipeline';
import { runLayers } from '../../../src/core/pipeline';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import { chatBody, context, drain, fakeUpstream, proxyRequest, tempDir } from './helpers';

describe('L1b insert timing', () => {
  it('writes the entry in a later event-loop turn than the one the answer completed in, then finds it', async () => {
    const temp = await tempDir('l1b-deferred');
    const store = await openEmbeddedStore(temp.dir, { maxEntries: 100, ttlSeconds: 0 }, { name: 'semantic' });
    // Record, for each store write, whether the turn in which the answer completed was still running.
    let completionTurn = false;
    const writesInCompletionTurn: boolean[] = [];
    const realSet = store.set.bind(store);
    store.set = (...args: Parameters<typeof store.set>) => {
      writesInCompletionTurn.push(completionTurn);
      return realSet(...args);
    };
    const upstream = fakeUpstream();
    // Sits below L1b, so its handler on `completion` runs before the layer's and its setImmediate is queued first.
    const marker: Layer = {
      name: 'marker',
      async handle(ctx, next) {
        const outcome = await upstream.handle(ctx, next);
        if (outcome.kind === 'upstream') {
          void outcome.completion.then(() => {
            completionTurn = true;
            setImmediate(() => {
              completionTurn = false;
            });
          });
        }
        return outcome;
      },
    };
    const layer = await createSemanticLayer({ store, embedder: createLexicalEmbedder(), config: { enabled: true, embedder: 'lexical', maxEntries: 100, ttlSeconds: 0 }, logger: silentLogger });
    try {
      const spec = { body: chatBody('How do I reverse a linked list in place?') };
      const outcome = await runLayers([layer, marker], context(proxyRequest(spec)), () => true);
      assert.equal(outcome.kind, 'upstream');
      await drain(outcome);
      await layer.settled();
      assert.deepEqual(writesInCompletionTurn, [false], 'one write, made after the completion turn ended');
      const again = await runLayers([layer, fakeUpstream()], context(proxyRequest(spec)), () => true);
      assert.equal(again.kind, 'stored');
    } finally {
      await layer.close();
      await store.close();
      await temp.cleanup();
    }
  });
});
