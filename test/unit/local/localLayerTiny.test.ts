// The L2 layer on the real node-llama-cpp engine with generated tiny GGUFs (threads: 1). Random
// weights answer gibberish: the favoured-token fixtures make triage and end-of-text predictable,
// so these tests check the mechanics end to end, not the quality of any answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalModelConfig } from '../../../src/core/config';
import { createLocalLayer } from '../../../src/core/layers/local';
import type { LocalLayer } from '../../../src/core/layers/local';
import type { LocalEngine } from '../../../src/core/local/engine';
import { loadLlamaEngine } from '../../../src/core/local/llamaBackend';
import type { LoadableSource } from '../../../src/core/local/modelManager';
import { silentLogger } from '../../../src/core/logger';
import type { GeneratedOutcome } from '../../../src/core/outcome';
import { runLayers } from '../../../src/core/pipeline';
import type { JsonObject } from '../../../src/core/request';
import { writeTinyGguf } from '../../fixtures/tinyGguf';
import type { FavouredToken } from '../../fixtures/tinyGguf';
import { tempDirUntilExit } from '../../fixtures/tempDir';
import { localConfig, makeRequest, ManualTimers, newContext, readDeltas, recordingUpstream } from './helpers';

const question: JsonObject = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What does `ls -a` show?' }] };

/** Names of models whose native memory was freed, in order. */
const disposals: string[] = [];

function tinyLayer(favour: FavouredToken[], local: Partial<LocalModelConfig> = {}, timers = new ManualTimers()): LocalLayer {
  const dataDir = tempDirUntilExit('isartor-l2-tiny-');
  // A generous budget: the first request also loads the llama.cpp binding (about a second).
  const config = localConfig(dataDir, { modelPath: writeTinyGguf({ favour }), triageBudgetMs: 60_000, maxAnswerTokens: 80, ...local });
  const loadEngine = async (source: LoadableSource): Promise<LocalEngine> => {
    assert.equal(source.kind, 'llama');
    const engine = await loadLlamaEngine({ modelPath: source.kind === 'llama' ? source.modelPath : '', threads: 1, contextSize: 1024, gpu: false, logger: silentLogger });
    const dispose = engine.dispose.bind(engine);
    engine.dispose = async () => {
      await dispose();
      disposals.push(engine.modelName);
    };
    return engine;
  };
  return createLocalLayer({ config, logger: silentLogger, dataDir }, { timers, loadEngine });
}

/** Awaits a condition that an event in flight (a native dispose) will make true. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

async function run(layer: LocalLayer, body: JsonObject, api: 'openai.chat' | 'anthropic.messages' = 'openai.chat') {
  const upstream = recordingUpstream();
  const ctx = newContext(makeRequest(api, body));
  const outcome = await runLayers([layer, upstream], ctx, () => true);
  return { ctx, outcome, upstream };
}

void test('a model sure of SIMPLE streams its tokens as an L2 answer with real local token counts', async () => {
  const layer = tinyLayer([{ token: 'S', logit: 20 }]);
  try {
    // The client's own limit is the local cap: the answer is committed after its head.
    const { ctx, outcome, upstream } = await run(layer, { ...question, stream: true, max_tokens: 80 });
    assert.equal(outcome.kind, 'generated');
    const answer = outcome as GeneratedOutcome;
    assert.equal(answer.localModel, 'isartor-tiny-test');
    assert.equal(ctx.responseHeaders['x-isartor-local-model'], 'isartor-tiny-test');
    const deltas = await readDeltas(answer.deltas);
    assert.ok(deltas.length > 1, 'delivered as several deltas');
    assert.equal(deltas.join(''), 'S'.repeat(80));
    const done = await answer.done;
    // Running into the client's own limit ends the stream in "length".
    const choice = (done.body.choices as JsonObject[])[0]!;
    assert.equal(choice.finish_reason, 'length');
    assert.equal(done.usage.outputTokens, 80);
    assert.ok(done.usage.inputTokens > 20, 'prompt tokens counted by the local tokenizer');
    assert.equal(upstream.seen.length, 0);
  } finally {
    await layer.close?.();
  }
});

void test('the same model without a client limit runs into the local cap and hands the request to the upstream, streamed or not', async () => {
  const layer = tinyLayer([{ token: 'S', logit: 20 }]);
  try {
    for (const stream of [false, true]) {
      const { ctx, outcome, upstream } = await run(layer, { ...question, stream });
      assert.equal(outcome.kind, 'upstream');
      assert.equal(ctx.notes.localSkipped, 'local answer rejected: hit the local token cap');
      assert.equal(upstream.seen.length, 1);
      assert.equal(ctx.responseHeaders['x-isartor-local-model'], undefined);
    }
  } finally {
    await layer.close?.();
  }
});

void test('an empty local answer falls through (Anthropic request, model that ends at once)', async () => {
  // End of text dominates, yet "S" is far likelier than "C": triage says SIMPLE with p ≈ 0.02.
  const layer = tinyLayer([{ token: 'eos', logit: 30 }, { token: 'S', logit: 26 }], { confidence: 0.001 });
  try {
    const { ctx, outcome } = await run(layer, { ...question, model: 'claude-haiku-4-5', max_tokens: 300 }, 'anthropic.messages');
    assert.equal(outcome.kind, 'upstream');
    assert.equal(ctx.notes.localSkipped, 'local answer rejected: empty answer');
  } finally {
    await layer.close?.();
  }
});

void test('a model that says COMPLEX sends the request upstream after triage only', async () => {
  const layer = tinyLayer([{ token: 'C', logit: 20 }]);
  try {
    const { ctx, outcome } = await run(layer, question);
    assert.equal(outcome.kind, 'upstream');
    assert.match(ctx.notes.localSkipped ?? '', /^complex \(p\(simple\)=0\.000, p\(complex\)=1\.000\)$/);
  } finally {
    await layer.close?.();
  }
});

void test('the real model unloads after the idle period and loads again for the next request', async () => {
  const timers = new ManualTimers();
  const layer = tinyLayer([{ token: 'S', logit: 20 }], { idleUnloadSeconds: 30 }, timers);
  disposals.length = 0;
  try {
    const first = await run(layer, { ...question, stream: true, max_tokens: 80 });
    await readDeltas((first.outcome as GeneratedOutcome).deltas);
    await (first.outcome as GeneratedOutcome).done;
    assert.match(layer.describe?.() ?? '', /^ready: isartor-tiny-test/);
    assert.equal(timers.fire(30_000), 1);
    assert.match(layer.describe?.() ?? '', /^idle: tiny-.*\.gguf loads on the first eligible request/);
    await waitFor(() => disposals.length === 1);
    const second = await run(layer, { ...question, stream: true, max_tokens: 80 });
    assert.equal(second.outcome.kind, 'generated');
    await readDeltas((second.outcome as GeneratedOutcome).deltas);
    await (second.outcome as GeneratedOutcome).done;
    assert.match(layer.describe?.() ?? '', /^ready: isartor-tiny-test \(answered 2, passed on 0\)/);
  } finally {
    await layer.close?.();
  }
});

/** Manual timers that fire the next timer of `fireAtOnce` ms as soon as it is set. */
class ArmedTimers extends ManualTimers {
  fireAtOnce: number | undefined;
  override setTimeout(callback: () => void, ms: number): unknown {
    if (ms !== this.fireAtOnce) return super.setTimeout(callback, ms);
    this.fireAtOnce = undefined;
    queueMicrotask(callback);
    return 0;
  }
}

void test('a generation given up on at its idle deadline is aborted mid-answer, and the model answers the next request', { timeout: 120_000 }, async () => {
  const timers = new ArmedTimers();
  const layer = tinyLayer([{ token: 'S', logit: 20 }], { firstTokenTimeoutMs: 3333, idleTimeoutMs: 4444 }, timers);
  try {
    // The deadline after the first piece of text passes at once: node-llama-cpp is mid-generation.
    timers.fireAtOnce = 4444;
    const stalled = await run(layer, { ...question, max_tokens: 60 });
    assert.equal(stalled.outcome.kind, 'upstream');
    assert.equal(stalled.ctx.notes.localSkipped, 'the local model stalled for 4444 ms');
    // Had the abort not stopped the generation and freed the model's one sequence, this would wait forever.
    const next = await run(layer, { ...question, stream: true, max_tokens: 80 });
    assert.equal(next.outcome.kind, 'generated');
    assert.equal((await readDeltas((next.outcome as GeneratedOutcome).deltas)).join(''), 'S'.repeat(80));
  } finally {
    await layer.close?.();
  }
});
