// The L2 layer through runLayers with a scripted engine: routing on the triage decision, the time
// budget, answer gates (refusal, empty, capped) and what reaches the upstream when L2 steps aside.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalModelConfig } from '../../../src/core/config';
import { createLocalLayer } from '../../../src/core/layers/local';
import type { LocalEngine } from '../../../src/core/local/engine';
import { STREAM_HEAD_CHARS } from '../../../src/core/local/answerCheck';
import { silentLogger } from '../../../src/core/logger';
import type { GeneratedOutcome, Outcome } from '../../../src/core/outcome';
import { runLayers } from '../../../src/core/pipeline';
import type { JsonObject, ProxyRequest } from '../../../src/core/request';
import { tempDirUntilExit } from '../../fixtures/tempDir';
import { ControlledEngine, fireWhenSet, whenTimerSet, localConfig, makeRequest, ManualTimers, newContext, readDeltas, recordingUpstream, ScriptedEngine } from './helpers';
import type { ScriptedEngineScript } from './helpers';

const simpleQuestion: JsonObject = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I list hidden files?' }] };

function setup(script: ScriptedEngineScript | (() => Promise<LocalEngine>), local: Partial<LocalModelConfig> = {}) {
  const dataDir = tempDirUntilExit('isartor-l2-');
  const timers = new ManualTimers();
  const engines: ScriptedEngine[] = [];
  let loads = 0;
  const layer = createLocalLayer(
    { config: localConfig(dataDir, local), logger: silentLogger, dataDir },
    {
      resolveSource: () => ({ kind: 'llama', modelPath: '/models/scripted.gguf' }),
      loadEngine: async () => {
        loads++;
        if (typeof script === 'function') return script();
        const engine = new ScriptedEngine(script);
        engines.push(engine);
        return engine;
      },
      timers,
    },
  );
  const upstream = recordingUpstream();
  const run = async (req: ProxyRequest) => {
    const ctx = newContext(req);
    const outcome = await runLayers([layer, upstream], ctx, () => true);
    return { ctx, outcome };
  };
  return { layer, upstream, run, timers, engines, loads: () => loads };
}

function generated(outcome: Outcome): GeneratedOutcome {
  assert.equal(outcome.kind, 'generated', `expected an L2 answer, got ${outcome.kind}`);
  return outcome as GeneratedOutcome;
}

void test('a simple, confident request is answered locally in the OpenAI shape, marked as L2', async () => {
  const { run, upstream, engines } = setup({ labels: [0.97, 0.02], chunks: ['Use ', '`ls -a`', '.'] });
  const { ctx, outcome } = await run(makeRequest('openai.chat', simpleQuestion));
  const answer = generated(outcome);
  assert.equal(answer.layer, 'l2');
  assert.equal(answer.localModel, 'scripted-model');
  assert.deepEqual(await readDeltas(answer.deltas), ['Use ', '`ls -a`', '.']);
  const done = await answer.done;
  assert.equal(done.api, 'openai.chat');
  assert.equal(done.body.model, 'gpt-4o-mini', 'the body reports the requested model; the header names the local one');
  assert.match(answer.id, /^chatcmpl-isartor-l2-[0-9a-f]{24}$/);
  assert.equal(done.body.id, answer.id, 'a streamed rendering and the body share one id');
  assert.equal(done.body.created, Math.floor(answer.createdAt / 1000));
  assert.deepEqual((done.body.choices as JsonObject[])[0]!.message, { role: 'assistant', content: 'Use `ls -a`.', refusal: null });
  assert.deepEqual(done.usage, { inputTokens: 11, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0 });
  assert.equal(ctx.responseHeaders['x-isartor-local-model'], 'scripted-model');
  assert.equal(ctx.responseHeaders['x-isartor-local-confidence'], '0.970');
  assert.equal(upstream.seen.length, 0);
  assert.equal(engines[0]!.generations[0]!.options.maxTokens, 512, 'no client limit: the local cap applies');
});

void test('an Anthropic request gets an Anthropic message body, with the client settings passed to the model', async () => {
  const { run, engines } = setup({ labels: [0.95, 0.03], chunks: ['3.11 miles'] });
  const body = { model: 'claude-haiku-4-5', max_tokens: 64, temperature: 0.3, top_k: 4, messages: [{ role: 'user', content: 'Convert 5 km to miles' }] };
  const { outcome } = await run(makeRequest('anthropic.messages', body));
  const done = await generated(outcome).done;
  assert.equal(done.body.type, 'message');
  assert.match(generated(outcome).id, /^msg_isartor_l2_[0-9a-f]{24}$/);
  assert.equal(done.body.id, generated(outcome).id);
  assert.deepEqual(done.body.content, [{ type: 'text', text: '3.11 miles' }]);
  assert.equal(done.body.stop_reason, 'end_turn');
  const { options } = engines[0]!.generations[0]!;
  assert.deepEqual({ maxTokens: options.maxTokens, temperature: options.temperature, topK: options.topK, stop: options.stop }, { maxTokens: 64, temperature: 0.3, topK: 4, stop: [] });
});

void test('COMPLEX and low-confidence requests reach the upstream untouched, without any generation', async () => {
  for (const [labels, expected] of [
    [[0.1, 0.85], /^complex \(p\(simple\)=0\.100/],
    [[0.7, 0.2], /^low confidence \(p\(simple\)=0\.700.* < 0\.9\)$/],
  ] as const) {
    const { run, upstream, engines } = setup({ labels: [...labels] });
    const req = makeRequest('openai.chat', { ...simpleQuestion, temperature: 0.5, stream: true });
    const { ctx, outcome } = await run(req);
    assert.equal(outcome.kind, 'upstream');
    assert.equal(upstream.seen.length, 1);
    assert.equal(upstream.seen[0]!.forwardBody, undefined, 'L2 did not set a body: the client bytes go up verbatim');
    assert.equal(upstream.seen[0]!.req.rawBody, req.rawBody);
    assert.deepEqual(upstream.seen[0]!.req.body, JSON.parse(req.rawBody.toString()));
    assert.deepEqual(ctx.responseHeaders, {});
    assert.match(ctx.notes.localSkipped ?? '', expected);
    assert.equal(engines[0]!.generations.length, 0);
  }
});

void test('triage over its time budget goes upstream, whether the model is busy or still loading', async () => {
  const stuckTriage = setup({ labels: new Promise<[number, number]>(() => {}) }, { triageBudgetMs: 250 });
  const pending = stuckTriage.run(makeRequest('openai.chat', simpleQuestion));
  assert.equal(stuckTriage.timers.fire(250), 1);
  const { ctx, outcome } = await pending;
  assert.equal(outcome.kind, 'upstream');
  assert.equal(ctx.notes.localSkipped, 'triage over its 250 ms budget');
  // The stats line says why, so a user can tell a slow machine (raise the budget) from a model that declines.
  assert.equal(stuckTriage.layer.describe?.(), 'ready: scripted-model (answered 0, passed on 1, last because triage over its 250 ms budget)');

  const stuckLoad = setup(() => new Promise<LocalEngine>(() => {}), { triageBudgetMs: 250 });
  const loading = stuckLoad.run(makeRequest('openai.chat', simpleQuestion));
  assert.equal(stuckLoad.timers.fire(250), 1);
  assert.equal((await loading).ctx.notes.localSkipped, 'triage over its 250 ms budget');
  assert.match(stuckLoad.layer.describe?.() ?? '', /^loading scripted\.gguf/);
});

void test('refusing, empty and locally capped answers fall through to the upstream', async () => {
  const cases: Array<[ScriptedEngineScript, JsonObject, string]> = [
    [{ chunks: ["I'm sorry, ", "but I can't help with that."] }, simpleQuestion, 'local answer rejected: refusal'],
    [{ chunks: ['  ', '\n'] }, simpleQuestion, 'local answer rejected: empty answer'],
    [{ chunks: ['ls ', '-la and'], stopReason: 'max_tokens' }, simpleQuestion, 'local answer rejected: hit the local token cap'],
    [{ chunks: ["I'm sorry, I can't. ", 'x'.repeat(STREAM_HEAD_CHARS)] }, { ...simpleQuestion, stream: true }, 'local answer rejected: refusal'],
  ];
  for (const [script, body, reason] of cases) {
    const { run, upstream } = setup({ labels: [0.99, 0.01], ...script });
    const { ctx, outcome } = await run(makeRequest('openai.chat', body));
    assert.equal(outcome.kind, 'upstream', reason);
    assert.equal(ctx.notes.localSkipped, reason);
    assert.equal(upstream.seen.length, 1);
    assert.deepEqual(ctx.responseHeaders, {}, 'no L2 header on an upstream answer');
  }
});

void test("hitting the client's own max_tokens is a normal answer ending in length, not a fall-through", async () => {
  const { run } = setup({ labels: [0.99, 0.01], chunks: ['ls', ' -la'], stopReason: 'max_tokens' });
  const { outcome } = await run(makeRequest('openai.chat', { ...simpleQuestion, max_tokens: 2 }));
  const done = await generated(outcome).done;
  assert.equal((done.body.choices as JsonObject[])[0]!.finish_reason, 'length');
});

void test('a streamed answer within the client\'s own limit is committed after its head and delivers the rest as generated', async () => {
  const engine = new ControlledEngine();
  const { run, timers } = setup(async () => engine);
  const pending = run(makeRequest('openai.chat', { ...simpleQuestion, stream: true, max_tokens: 100 }));
  await whenTimerSet(timers, 15_000);
  const head = 'x'.repeat(STREAM_HEAD_CHARS + 1);
  engine.send(head);
  // Committed while the model is still writing: streaming stays real.
  const answer = generated((await pending).outcome);
  engine.send(' and more');
  engine.finish('max_tokens');
  assert.deepEqual(await readDeltas(answer.deltas), [head, ' and more']);
  assert.equal(((await answer.done).body.choices as JsonObject[])[0]!.finish_reason, 'length', 'the limit the client asked for');
});

void test('a streamed answer the local cap could cut is held until it ends: capped goes to the cloud, complete is streamed', async () => {
  for (const maxTokens of [undefined, 513]) {
    for (const ending of ['max_tokens', 'end'] as const) {
      const engine = new ControlledEngine();
      const { run, upstream, timers } = setup(async () => engine);
      let settled = false;
      const pending = run(makeRequest('openai.chat', { ...simpleQuestion, stream: true, ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}) }));
      void pending.then(() => (settled = true));
      await whenTimerSet(timers, 15_000);
      engine.send('x'.repeat(STREAM_HEAD_CHARS + 1));
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, `max_tokens ${maxTokens}: nothing is committed past the head while the local cap may still cut the answer`);
      engine.send(' more');
      engine.finish(ending);
      const { ctx, outcome } = await pending;
      if (ending === 'max_tokens') {
        assert.equal(outcome.kind, 'upstream');
        assert.equal(ctx.notes.localSkipped, 'local answer rejected: hit the local token cap');
        assert.equal(upstream.seen.length, 1);
      } else {
        assert.equal((await readDeltas(generated(outcome).deltas)).join(''), `${'x'.repeat(STREAM_HEAD_CHARS + 1)} more`);
        assert.equal(upstream.seen.length, 0);
      }
    }
  }
});

void test('x-isartor-local: off, ineligible requests and a missing model cost nothing: no load, no triage', async () => {
  const { run, loads, upstream } = setup({ labels: [0.99, 0.01] });
  const off = await run(makeRequest('openai.chat', simpleQuestion, { localOff: true }));
  assert.equal(off.ctx.notes.localSkipped, 'x-isartor-local: off');
  const tools = await run(makeRequest('openai.chat', { ...simpleQuestion, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }));
  assert.equal(tools.ctx.notes.localSkipped, 'ineligible: tools or functions');
  assert.equal(loads(), 0);
  assert.equal(upstream.seen.length, 2);

  const dataDir = tempDirUntilExit('isartor-l2-none-');
  let loaderCalls = 0;
  const idle = createLocalLayer({ config: localConfig(dataDir), logger: silentLogger, dataDir }, { loadEngine: async () => (loaderCalls++, new ScriptedEngine({})) });
  assert.equal(idle.describe?.(), 'idle: no model configured');
  const ctx = newContext(makeRequest('openai.chat', simpleQuestion));
  const outcome = await runLayers([idle, recordingUpstream()], ctx, () => true);
  assert.equal(outcome.kind, 'upstream');
  assert.equal(ctx.notes.localSkipped, 'no model configured');
  assert.equal(loaderCalls, 0);
  await idle.close?.();
});

void test('an engine failure during triage passes the request on and says why', async () => {
  const { run } = setup(async () => {
    const engine = new ScriptedEngine({});
    engine.labelProbabilities = async () => {
      throw new Error('the local server returned no token probabilities');
    };
    return engine;
  });
  const { ctx, outcome } = await run(makeRequest('openai.chat', simpleQuestion));
  assert.equal(outcome.kind, 'upstream');
  assert.equal(ctx.notes.localSkipped, 'local model error: the local server returned no token probabilities');
});

void test('describe() reports the state and the tally, and the model unloads after the idle period', async () => {
  const { run, layer, timers, engines } = setup({ labels: [0.99, 0.01] }, { idleUnloadSeconds: 60 });
  assert.match(layer.describe?.() ?? '', /^idle: scripted\.gguf loads on the first eligible request/);
  const { outcome } = await run(makeRequest('openai.chat', simpleQuestion));
  await generated(outcome).done;
  assert.equal(layer.describe?.(), 'ready: scripted-model (answered 1, passed on 0)');
  assert.equal(timers.fire(60_000), 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(engines[0]!.disposed, true);
  assert.match(layer.describe?.() ?? '', /^idle: scripted\.gguf loads on the first eligible request \(answered 1, passed on 0\)/);
  await layer.close?.();
});

void test('the model source is looked up once per refresh period, not on every request (issue 15)', async () => {
  const dataDir = tempDirUntilExit('isartor-l2-');
  let lookups = 0;
  let clock = 0;
  const layer = createLocalLayer(
    { config: localConfig(dataDir, {}), logger: silentLogger, dataDir },
    {
      resolveSource: () => {
        lookups++;
        return { kind: 'none', reason: 'no model configured' };
      },
      loadEngine: () => Promise.reject(new Error('never loaded')),
      timers: new ManualTimers(),
      now: () => clock,
    },
  );
  const upstream = recordingUpstream();
  for (let i = 0; i < 50; i++) await runLayers([layer, upstream], newContext(makeRequest('openai.chat', simpleQuestion)), () => true);
  assert.equal(lookups, 1, 'fifty requests within the refresh period share one lookup');
  clock += 60_000;
  await runLayers([layer, upstream], newContext(makeRequest('openai.chat', simpleQuestion)), () => true);
  assert.equal(lookups, 2, 'a request after the period looks again, so a newly downloaded model is found');
});

/** Deadlines no other timer of the layer uses, so the test fires exactly these. */
const DEADLINES = { firstTokenTimeoutMs: 1111, idleTimeoutMs: 2222 };

void test('an answer that never starts goes to the cloud at the first-token deadline, and the backend is aborted', async () => {
  for (const stream of [false, true]) {
    const engine = new ControlledEngine();
    const { run, upstream, timers } = setup(async () => engine, DEADLINES);
    const pending = run(makeRequest('openai.chat', { ...simpleQuestion, stream, max_tokens: 100 }));
    await fireWhenSet(timers, 1111);
    const { ctx, outcome } = await pending;
    assert.equal(outcome.kind, 'upstream', `stream: ${stream}`);
    assert.equal(ctx.notes.localSkipped, 'no answer from the local model within 1111 ms');
    assert.equal(upstream.seen.length, 1);
    assert.deepEqual(ctx.responseHeaders, {});
    assert.equal(engine.signals[0]?.aborted, true, 'the backend request was aborted');
  }
});

void test('an answer that stalls before it is committed goes to the cloud at the idle deadline', async () => {
  for (const stream of [false, true]) {
    const engine = new ControlledEngine();
    const { run, upstream, timers } = setup(async () => engine, DEADLINES);
    const pending = run(makeRequest('openai.chat', { ...simpleQuestion, stream, max_tokens: 100 }));
    await whenTimerSet(timers, 1111);
    engine.send('The capital of France ');
    await fireWhenSet(timers, 2222);
    const { ctx, outcome } = await pending;
    assert.equal(outcome.kind, 'upstream', `stream: ${stream}`);
    assert.equal(ctx.notes.localSkipped, 'the local model stalled for 2222 ms');
    assert.equal(upstream.seen.length, 1);
    assert.equal(engine.signals[0]?.aborted, true);
  }
});

void test('a committed stream that stalls ends with an error at the idle deadline instead of hanging', async () => {
  const engine = new ControlledEngine();
  const { run, upstream, timers } = setup(async () => engine, DEADLINES);
  const pending = run(makeRequest('openai.chat', { ...simpleQuestion, stream: true, max_tokens: 100 }));
  await whenTimerSet(timers, 1111);
  engine.send('x'.repeat(STREAM_HEAD_CHARS + 6));
  const answer = generated((await pending).outcome);
  const received: string[] = [];
  const reading = (async () => {
    for await (const delta of answer.deltas) received.push(delta);
  })();
  await fireWhenSet(timers, 2222);
  await assert.rejects(reading, /the local model stalled for 2222 ms/);
  await assert.rejects(answer.done, /the local model stalled for 2222 ms/);
  assert.deepEqual(received, ['x'.repeat(STREAM_HEAD_CHARS + 6)]);
  assert.equal(engine.signals[0]?.aborted, true, 'the backend stops generating');
  assert.equal(upstream.seen.length, 0);
});
