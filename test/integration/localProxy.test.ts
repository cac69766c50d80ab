/**
 * L2 through the real proxy with the official SDKs: a tiny generated GGUF on the real
 * node-llama-cpp engine (threads: 1) answers, streamed token by token, marked as l2; complex,
 * ineligible and switched-off requests reach the fake upstream byte for byte; /healthz answers
 * during generation; with no model, L2 says why it is idle. Random weights answer gibberish, so
 * favoured-token fixtures make the triage verdict predictable; quality is not tested here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeTinyGguf } from '../fixtures/tinyGguf';
import type { FavouredToken } from '../fixtures/tinyGguf';
import { ANTHROPIC_KEY, OPENAI_KEY, postRaw, startStack } from './helpers';
import type { Stack } from './helpers';

/** A proxy whose L2 runs a tiny model favouring `favour`. */
async function stackWithModel(favour: FavouredToken[] | undefined, maxAnswerTokens = 80): Promise<Stack> {
  return startStack((config) => {
    config.exact.enabled = false;
    config.local = {
      ...config.local,
      enabled: true,
      threads: 1,
      contextSize: 1024,
      // Generous: the first request also loads the llama.cpp binding and the model.
      triageBudgetMs: 60_000,
      maxAnswerTokens,
      ...(favour ? { modelPath: writeTinyGguf({ favour }) } : {}),
    };
  });
}

const question = 'What does `ls -a` show?';

void describe('a model sure of SIMPLE', () => {
  let stack: Stack;
  before(async () => {
    stack = await stackWithModel([{ token: 'S', logit: 20 }]);
  });
  after(() => stack.close());

  void test('answers an OpenAI SDK stream token by token, marked l2, with real local usage', async () => {
    const { data: stream, response } = await stack
      .openai()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }], max_tokens: 80, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l2');
    assert.equal(response.headers.get('x-isartor-deflected'), 'true');
    assert.equal(response.headers.get('x-isartor-local-model'), 'isartor-tiny-test');
    let text = '';
    let contentChunks = 0;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        contentChunks++;
        text += delta;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'S'.repeat(80));
    assert.ok(contentChunks > 1, `streamed as several chunks, got ${contentChunks}`);
    assert.equal(finish, 'length');
    assert.equal(usage?.completion_tokens, 80);
    assert.ok((usage?.prompt_tokens ?? 0) > question.length);
    assert.equal(stack.fake.requests.length, 0, 'the cloud was not asked');
  });

  void test('answers an Anthropic SDK stream the same way', async () => {
    const { data: stream, response } = await stack
      .anthropic()
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 80, messages: [{ role: 'user', content: question }], stream: true })
      .withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l2');
    assert.equal(response.headers.get('x-isartor-local-model'), 'isartor-tiny-test');
    let text = '';
    let outputTokens = 0;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
    }
    assert.equal(text, 'S'.repeat(80));
    assert.equal(outputTokens, 80);
    assert.equal(stack.fake.requests.length, 0);
  });

  void test('a non-streamed answer that runs into the local cap goes to the upstream instead', async () => {
    const before = stack.fake.requests.length;
    const { data, response } = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }).withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(response.headers.get('x-isartor-local-model'), null);
    assert.match(data.choices[0]!.message.content ?? '', /to: What does/);
    assert.equal(stack.fake.requests.length, before + 1);
  });

  void test('x-isartor-local: off and ineligible requests reach the upstream byte for byte', async () => {
    const raw = `{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":${JSON.stringify(question)}}] }`;
    const before = stack.fake.requests.length;
    const off = await postRaw(`${stack.proxy.url}/v1/chat/completions`, raw, { authorization: `Bearer ${OPENAI_KEY}`, 'x-isartor-local': 'off' });
    assert.equal(off.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests[before]!.rawBody.toString('utf8'), raw);

    const withTools = `{"model":"claude-haiku-4-5","max_tokens":50,"tools":[{"name":"ls","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"list files"}]}`;
    const tools = await postRaw(`${stack.proxy.url}/v1/messages`, withTools, { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' });
    assert.equal(tools.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests[before + 1]!.rawBody.toString('utf8'), withTools);
  });

  void test('the ledger counts the L2 answer as deflected, with the saving marked as an estimate', async () => {
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as {
      ledger: { recent: Array<{ layer: string; estimated: boolean; outputTokens: number }> };
      layers: Record<string, { enabled: boolean; detail: string }>;
    };
    const l2 = stats.ledger.recent.filter((record) => record.layer === 'l2');
    assert.equal(l2.length, 2);
    assert.ok(l2.every((record) => record.estimated && record.outputTokens === 80));
    assert.match(stats.layers.local?.detail ?? '', /^ready: isartor-tiny-test \(answered 2, passed on 1, last because local answer rejected: [^)]*cap[^)]*\)$/);
  });
});

void describe('a model sure of COMPLEX', () => {
  let stack: Stack;
  before(async () => {
    stack = await stackWithModel([{ token: 'C', logit: 20 }]);
  });
  after(() => stack.close());

  void test('sends the request to the upstream byte for byte, streamed or not', async () => {
    const raw = `{ "stream": true, "messages": [{"content": ${JSON.stringify(question)}, "role": "user"}], "model": "gpt-4o-mini" }`;
    const res = await postRaw(`${stack.proxy.url}/v1/chat/completions`, raw, { authorization: `Bearer ${OPENAI_KEY}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests[0]!.rawBody.toString('utf8'), raw);

    const message = await stack.anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: question }] }).withResponse();
    assert.equal(message.response.headers.get('x-isartor-layer'), 'l3');
    assert.deepEqual(stack.fake.requests[1]!.json, { model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: question }] });
  });
});

void describe('a long local generation', () => {
  let stack: Stack;
  before(async () => {
    stack = await stackWithModel([{ token: 'S', logit: 20 }], 900);
  });
  after(() => stack.close());

  void test('does not block the proxy: /healthz answers while tokens are still streaming', async () => {
    const response = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` },
      // Within the client's own limit, so the answer is committed early and streams as it is written.
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }], max_tokens: 900, stream: true }),
    });
    assert.equal(response.headers.get('x-isartor-layer'), 'l2');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let streamed = decoder.decode((await reader.read()).value, { stream: true });
    let streamEnded = false;
    const rest = (async () => {
      for (let part = await reader.read(); !part.done; part = await reader.read()) streamed += decoder.decode(part.value, { stream: true });
      streamEnded = true;
    })();
    const health = await fetch(`${stack.proxy.url}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(streamEnded, false, 'the health check was answered in the middle of the generation');
    await rest;
    const text = streamed
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => (JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    assert.equal(text, 'S'.repeat(900));
  });
});

void describe('no model configured', () => {
  let stack: Stack;
  before(async () => {
    stack = await stackWithModel(undefined);
  });
  after(() => stack.close());

  void test('L2 costs nothing and /isartor/stats says why it is idle', async () => {
    const { response } = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }).withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l3');
    const stats = (await (await fetch(`${stack.proxy.url}/isartor/stats`)).json()) as { layers: Record<string, { enabled: boolean; detail: string }> };
    assert.deepEqual(stats.layers.local, { enabled: true, detail: 'idle: no model configured' });
  });
});
