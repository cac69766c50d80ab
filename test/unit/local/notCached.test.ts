// L2 answers are never stored in the L1 caches: the same request asked twice is answered by the
// local model twice, and the exact and semantic caches stay empty (they store upstream answers only).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createExactLayer } from '../../../src/core/layers/exact';
import { createLocalLayer } from '../../../src/core/layers/local';
import { semanticLayerFactory } from '../../../src/core/layers/semantic';
import type { SemanticLayer } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import type { GeneratedOutcome } from '../../../src/core/outcome';
import { runLayers } from '../../../src/core/pipeline';
import { openEmbeddedStore } from '../../../src/core/store/embedded';
import { tempDirUntilExit } from '../../fixtures/tempDir';
import { localConfig, makeRequest, newContext, readDeltas, recordingUpstream, ScriptedEngine } from './helpers';

void test('an identical request answered by L2 is answered by L2 again, never from the exact or semantic cache', async () => {
  const dataDir = tempDirUntilExit('isartor-l2-l1a-');
  const config = localConfig(dataDir);
  const store = await openEmbeddedStore(join(dataDir, 'exact'), { maxEntries: 100, ttlSeconds: 0 }, { name: 'exact', logger: silentLogger });
  const exact = createExactLayer({ store, config: config.exact, logger: silentLogger });
  const semantic = (await semanticLayerFactory({ config, logger: silentLogger, dataDir })) as SemanticLayer;
  let generations = 0;
  const local = createLocalLayer(
    { config, logger: silentLogger, dataDir },
    {
      resolveSource: () => ({ kind: 'llama', modelPath: '/models/scripted.gguf' }),
      loadEngine: async () => {
        const engine = new ScriptedEngine({ labels: [0.99, 0.01] });
        const generate = engine.generate.bind(engine);
        engine.generate = (prompt, options) => (generations++, generate(prompt, options));
        return engine;
      },
    },
  );
  const upstream = recordingUpstream();
  try {
    for (let round = 1; round <= 2; round++) {
      const ctx = newContext(makeRequest('openai.chat', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'pwd?' }] }));
      const outcome = await runLayers([exact, semantic, local, upstream], ctx, () => true);
      assert.equal(outcome.layer, 'l2', `round ${round}`);
      await readDeltas((outcome as GeneratedOutcome).deltas);
      await (outcome as GeneratedOutcome).done;
    }
    assert.equal(generations, 2);
    await semantic.settled();
    assert.equal(exact.entries(), 0);
    assert.equal(semantic.entries(), 0);
    assert.equal(upstream.seen.length, 0);
  } finally {
    await exact.close?.();
    await semantic.close();
    await local.close?.();
    await store.close();
  }
});
