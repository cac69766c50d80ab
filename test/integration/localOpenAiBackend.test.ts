// L2 on a local OpenAI-compatible server (Ollama, LM Studio, llama.cpp server), played by a fake
// on loopback: triage from top_logprobs, streamed answers, usage, and falling through on failures.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { createLocalLayer } from '../../src/core/layers/local';
import type { LocalLayer } from '../../src/core/layers/local';
import { silentLogger } from '../../src/core/logger';
import type { GeneratedOutcome } from '../../src/core/outcome';
import { runLayers } from '../../src/core/pipeline';
import type { JsonObject } from '../../src/core/request';
import { tempDirUntilExit } from '../fixtures/tempDir';
import { localConfig, makeRequest, newContext, readDeltas, recordingUpstream } from '../unit/local/helpers';

interface ServerScript {
  /** Top alternatives for the triage position; undefined answers without logprobs. */
  topLogprobs?: Array<{ token: string; logprob: number }>;
  chunks: string[];
  finishReason: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  failGeneration?: boolean;
  /** Ignores max_tokens and never ends: one-token events, or one event whose line never ends. */
  endless?: 'events' | 'line';
}

let server: Server;
let baseUrl: string;
let script: ServerScript;
const received: JsonObject[] = [];

function answer(req: IncomingMessage, res: ServerResponse, body: JsonObject): void {
  received.push(body);
  if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
  if (body.stream !== true) {
    const logprobs = script.topLogprobs ? { content: [{ token: script.topLogprobs[0]!.token, logprob: script.topLogprobs[0]!.logprob, top_logprobs: script.topLogprobs }] } : null;
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: script.topLogprobs?.[0]?.token ?? 'SIMPLE' }, logprobs, finish_reason: 'length' }] }));
  }
  if (script.failGeneration) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"model crashed"}}');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const frame = (data: unknown): boolean => res.write(`data: ${JSON.stringify(data)}\n\n`);
  frame({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  if (script.endless) return void sendEndlessly(res, script.endless);
  for (const chunk of script.chunks) frame({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: chunk }, finish_reason: null }] });
  frame({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: script.finishReason }] });
  if (script.usage) frame({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: script.usage });
  res.end('data: [DONE]\n\n');
}

/** Bytes the last endless answer had written when its reader went away. */
let endlessBytes = 0;

async function sendEndlessly(res: ServerResponse, kind: 'events' | 'line'): Promise<void> {
  endlessBytes = 0;
  const event = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ' word' }, finish_reason: null }] })}\n\n`;
  const piece = kind === 'events' ? event.repeat(Math.ceil(64 * 1024 / event.length)) : 'x'.repeat(64 * 1024);
  if (kind === 'line') res.write('data: {"choices":[{"index":0,"delta":{"content":"');
  while (!res.destroyed) {
    endlessBytes += piece.length;
    if (!res.write(piece)) await new Promise((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
  }
}

before(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => answer(req, res, JSON.parse(Buffer.concat(parts).toString()) as JsonObject));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => server.close());
beforeEach(() => {
  received.length = 0;
  script = { topLogprobs: [{ token: 'SIMPLE', logprob: Math.log(0.96) }, { token: 'COMPLEX', logprob: Math.log(0.03) }], chunks: ['Use ', '`ls -a`', '.'], finishReason: 'stop', usage: { prompt_tokens: 31, completion_tokens: 5 } };
});

const layers: LocalLayer[] = [];
after(() => Promise.all(layers.map((l2) => l2.close?.())));

function layer(): LocalLayer {
  const dataDir = tempDirUntilExit('isartor-l2-server-');
  const l2 = createLocalLayer({ config: localConfig(dataDir, { backendUrl: baseUrl, backendModel: 'qwen2.5:0.5b', triageBudgetMs: 10_000 }), logger: silentLogger, dataDir });
  layers.push(l2);
  return l2;
}

async function ask(body: JsonObject, api: 'openai.chat' | 'anthropic.messages' = 'openai.chat') {
  const l2 = layer();
  const upstream = recordingUpstream();
  const ctx = newContext(makeRequest(api, body));
  const outcome = await runLayers([l2, upstream], ctx, () => true);
  return { ctx, outcome, upstream, l2 };
}

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I list hidden files?' }], stream: true, temperature: 0.4, seed: 3 };

void test('a SIMPLE request is triaged from top_logprobs and answered from the server stream with its usage', async () => {
  const { ctx, outcome, upstream, l2 } = await ask(question);
  assert.equal(outcome.kind, 'generated');
  const answer = outcome as GeneratedOutcome;
  assert.deepEqual(await readDeltas(answer.deltas), ['Use ', '`ls -a`', '.']);
  const done = await answer.done;
  assert.deepEqual(done.usage, { inputTokens: 31, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0 });
  assert.equal(ctx.responseHeaders['x-isartor-local-model'], 'qwen2.5:0.5b');
  assert.equal(upstream.seen.length, 0);
  assert.equal(l2.describe?.(), 'ready: qwen2.5:0.5b (answered 1, passed on 0)');

  const [triage, generation] = received;
  assert.deepEqual({ model: triage!.model, max_tokens: triage!.max_tokens, logprobs: triage!.logprobs, top_logprobs: triage!.top_logprobs, stream: triage!.stream }, { model: 'qwen2.5:0.5b', max_tokens: 1, logprobs: true, top_logprobs: 20, stream: false });
  assert.match(JSON.stringify(triage!.messages), /SIMPLE or COMPLEX/);
  assert.deepEqual(generation!.messages, [{ role: 'user', content: 'How do I list hidden files?' }]);
  assert.deepEqual({ stream: generation!.stream, max_tokens: generation!.max_tokens, temperature: generation!.temperature, seed: generation!.seed }, { stream: true, max_tokens: 512, temperature: 0.4, seed: 3 });
});

void test('a COMPLEX verdict sends the request upstream without asking the server for an answer', async () => {
  script.topLogprobs = [{ token: 'COMPLEX', logprob: Math.log(0.9) }, { token: 'SIMPLE', logprob: Math.log(0.08) }];
  const { ctx, outcome } = await ask(question);
  assert.equal(outcome.kind, 'upstream');
  assert.match(ctx.notes.localSkipped ?? '', /^complex/);
  assert.equal(received.length, 1, 'only the triage call');
});

void test('a server without logprobs, or one that fails the answer, leaves the request to the upstream', async () => {
  script.topLogprobs = undefined;
  const noLogprobs = await ask(question);
  assert.equal(noLogprobs.outcome.kind, 'upstream');
  assert.match(noLogprobs.ctx.notes.localSkipped ?? '', /no token probabilities/);

  script = { ...script, topLogprobs: [{ token: 'SIMPLE', logprob: 0 }], failGeneration: true };
  const failed = await ask(question);
  assert.equal(failed.outcome.kind, 'upstream');
  assert.match(failed.ctx.notes.localSkipped ?? '', /^local model error: local server answered 500/);
});

void test('a server that reports no usage gets counted with a tokenizer; length means the local cap was hit', async () => {
  script.usage = undefined;
  const { outcome } = await ask({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Convert 5 km to miles' }] }, 'anthropic.messages');
  const done = await (outcome as GeneratedOutcome).done;
  assert.ok(done.usage.inputTokens > 0 && done.usage.outputTokens > 0);
  assert.equal(done.body.stop_reason, 'end_turn');

  script.finishReason = 'length';
  const capped = await ask({ ...question, stream: false });
  assert.equal(capped.outcome.kind, 'upstream');
  assert.equal(capped.ctx.notes.localSkipped, 'local answer rejected: hit the local token cap');
});

void test('a server that ignores max_tokens and never stops is cut off at the answer\'s byte budget, as a capped answer', { timeout: 30_000 }, async () => {
  // Every byte it sends is parsed on the proxy's thread: an answer of 500,000 events held that
  // thread for seconds, and one that never ends was read for ever (deadlines only catch silence).
  // (The endless line completes no event: nothing of it is text.)
  for (const [kind, reason] of [['events', 'hit the local token cap'], ['line', 'empty answer']] as const) {
    script.endless = kind;
    const plain = await ask({ ...question, stream: false });
    assert.equal(plain.outcome.kind, 'upstream', `${kind}: over the local cap, so the cloud answers`);
    assert.equal(plain.ctx.notes.localSkipped, `local answer rejected: ${reason}`);
    assert.ok(endlessBytes < 64 * 1024 * 1024, `${kind}: the server wrote ${endlessBytes} bytes before it was cut off`);
  }
  // A streamed answer within the client's own limit is committed early; it ends as cut off there.
  script.endless = 'events';
  const { outcome } = await ask({ ...question, max_tokens: 16 });
  assert.equal(outcome.kind, 'generated');
  const deltas = await readDeltas((outcome as GeneratedOutcome).deltas);
  assert.ok(deltas.join('').startsWith(' word word'));
  const done = await (outcome as GeneratedOutcome).done;
  assert.equal((done.body.choices as Array<{ finish_reason: string }>)[0]!.finish_reason, 'length');
  assert.ok(deltas.join('').length <= 16 * 4 * 1024, 'no more text than the budget for 16 tokens');
});
