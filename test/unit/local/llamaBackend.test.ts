// The embedded engine on a generated tiny GGUF through the real node-llama-cpp (threads: 1). The
// weights are random, so these tests check mechanics (loading, probabilities, streaming, counts,
// stops, aborts, a free event loop), never answer quality.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { LocalEngine, LocalPrompt } from '../../../src/core/local/engine';
import { loadLlamaEngine } from '../../../src/core/local/llamaBackend';
import { TRIAGE_LABELS } from '../../../src/core/local/triage';
import { silentLogger } from '../../../src/core/logger';
import { writeTinyGguf } from '../../fixtures/tinyGguf';
import type { TinyGgufOptions } from '../../fixtures/tinyGguf';

const engines: LocalEngine[] = [];
after(async () => {
  for (const engine of engines) await engine.dispose();
});

async function tinyEngine(options: TinyGgufOptions = {}): Promise<LocalEngine> {
  const engine = await loadLlamaEngine({ modelPath: writeTinyGguf(options), threads: 1, contextSize: 1024, gpu: false, logger: silentLogger });
  engines.push(engine);
  return engine;
}

const prompt: LocalPrompt = { system: 'Be brief.', turns: [{ role: 'user', text: 'How do I list hidden files?' }] };
const never = new AbortController().signal;

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

void test('the generated GGUF loads through node-llama-cpp and reports its name', async () => {
  const engine = await tinyEngine();
  assert.equal(engine.modelName, 'isartor-tiny-test');
});

void test('label probabilities come from the next-token distribution', async () => {
  const random = await tinyEngine();
  const [simple, complex] = await random.labelProbabilities(prompt, TRIAGE_LABELS, never);
  assert.ok(simple >= 0 && complex >= 0 && simple + complex <= 1 + 1e-6, `${simple} ${complex}`);
  // Asking again reuses the evaluated prefix and must read the same distribution.
  const [again] = await random.labelProbabilities(prompt, TRIAGE_LABELS, never);
  assert.ok(Math.abs(again - simple) < 1e-4);

  const simpleModel = await tinyEngine({ favour: [{ token: 'S', logit: 20 }] });
  const [pS, pC] = await simpleModel.labelProbabilities(prompt, TRIAGE_LABELS, never);
  assert.ok(pS > 0.99 && pC < 0.01, `${pS} ${pC}`);
  // Labels that share leading tokens (" SIMPLE" / " COMPLEX" both start with "▁") are compared
  // where they first differ.
  const [spacedS, spacedC] = await simpleModel.labelProbabilities(prompt, [' SIMPLE', ' COMPLEX'], never);
  assert.ok(spacedS > 0.99 && spacedC < 0.01, `${spacedS} ${spacedC}`);

  const complexModel = await tinyEngine({ favour: [{ token: 'C', logit: 20 }] });
  const [qS, qC] = await complexModel.labelProbabilities(prompt, TRIAGE_LABELS, never);
  assert.ok(qC > 0.99 && qS < 0.01, `${qS} ${qC}`);
});

void test('generation streams chunks that add up to the result, with real token counts', async () => {
  const engine = await tinyEngine({ favour: [{ token: 'S', logit: 20 }] });
  const generation = engine.generate(prompt, { maxTokens: 12, stop: [], signal: never });
  const chunks = await collect(generation.chunks);
  const result = await generation.result;
  assert.equal(chunks.join(''), 'S'.repeat(12));
  assert.equal(result.text, chunks.join(''));
  assert.equal(result.stopReason, 'max_tokens');
  assert.equal(result.outputTokens, 12);
  assert.ok(result.inputTokens > 'How do I list hidden files?'.length, 'a byte vocabulary spends at least one token per character');
});

void test('end of text, stop sequences and aborts each end a generation with their own reason', async () => {
  const silent = await tinyEngine({ favour: [{ token: 'eos', logit: 30 }] });
  const ended = silent.generate(prompt, { maxTokens: 50, stop: [], signal: never });
  assert.deepEqual(await collect(ended.chunks), []);
  assert.deepEqual({ ...(await ended.result), inputTokens: 0 }, { text: '', inputTokens: 0, outputTokens: 1, stopReason: 'end' });

  const engine = await tinyEngine({ favour: [{ token: 'S', logit: 20 }] });
  const stopped = await engine.generate(prompt, { maxTokens: 50, stop: ['SSS'], signal: never }).result;
  assert.equal(stopped.stopReason, 'stop_sequence');
  assert.equal(stopped.stopSequence, 'SSS');
  assert.equal(stopped.text, '');

  const abort = new AbortController();
  const long = engine.generate(prompt, { maxTokens: 800, stop: [], signal: abort.signal });
  for await (const chunk of long.chunks) {
    assert.equal(chunk, 'S');
    abort.abort(new Error('client went away'));
  }
  const aborted = await long.result;
  assert.equal(aborted.stopReason, 'aborted');
  assert.ok(aborted.outputTokens < 800);
});

void test('the event loop keeps serving HTTP while the model generates', async () => {
  const engine = await tinyEngine({ favour: [{ token: 'S', logit: 20 }] });
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const generation = engine.generate(prompt, { maxTokens: 900, stop: [], signal: never });
    let generationDone = false;
    void generation.result.then(() => (generationDone = true));
    const iterator = generation.chunks[Symbol.asyncIterator]();
    await iterator.next(); // generation has started
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
    assert.equal(await response.text(), 'ok');
    assert.equal(generationDone, false, 'the HTTP answer came back while tokens were still being generated');
    while (!(await iterator.next()).done);
    assert.equal((await generation.result).outputTokens, 900);
  } finally {
    server.close();
  }
});
