/**
 * The body parser (src/proxy/bodyParser.ts): large bodies are parsed on its worker thread and come
 * back with the digests the caches key them by. Those digests must be exactly what this thread
 * would compute from the same bytes, or a large request would miss (or, worse, hit) the wrong entry.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBodyParser, OversizedBody } from '../../../src/proxy/bodyParser';
import { jsonNodesUpTo, MAX_MAIN_THREAD_NODES } from '../../../src/core/jsonNodes';
import { ProxyError } from '../../../src/proxy/errors';
import { digestsOf } from '../../../src/core/digestMemo';
import { canonicalHash, type ApiStyle, type JsonObject, type ProxyRequest } from '../../../src/core/request';
import { semanticKey } from '../../../src/core/semantic/keys';
import { createLogger, silentLogger } from '../../../src/core/logger';
import { defaultConfig, type OptimiserConfig } from '../../../src/core/config';
import { createOptimiserLayer } from '../../../src/core/layers/optimiser';
import { createRequestOptimiser } from '../../../src/core/optimiser/optimise';
import type { LayerContext } from '../../../src/core/pipeline';
import type { Outcome } from '../../../src/core/outcome';
import { approximateTokens } from '../../../src/core/tokens';

const SMALL_LIMIT = 1024; // bodies from 1 KiB on go to the worker in these tests

function requestFor(api: ApiStyle, body: JsonObject): Pick<ProxyRequest, 'api' | 'route' | 'credentialHash' | 'model' | 'body' | 'headers'> {
  return { api, body, model: String(body.model), credentialHash: 'anonymous', headers: {}, route: { id: 'default', providers: [{ kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' }] } as unknown as ProxyRequest['route'] };
}

const bodies: Array<[ApiStyle, JsonObject]> = [
  ['openai.chat', {
    model: 'gpt-4o-mini', temperature: 0.2, stream: true,
    messages: [{ role: 'system', content: 'You review code.\n'.repeat(200) }, { role: 'user', content: 'first' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'Is `a <= b` the same as `!(a > b)`?' }],
    tools: [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }],
  }],
  ['anthropic.messages', { model: 'claude-sonnet-4-5', max_tokens: 64, system: 'é ☃ 𝄞 '.repeat(300), messages: [{ role: 'user', content: [{ type: 'text', text: 'What does x ^= y do?' }] }] }],
  ['openai.responses', { model: 'gpt-4.1', instructions: 'Be brief. '.repeat(200), input: [{ role: 'user', content: 'a' }, { role: 'user', content: [{ type: 'input_text', text: 'Price?' }] }] }],
];

describe('the body parser', () => {
  const parser = createBodyParser({ logger: silentLogger, offThreadBytes: SMALL_LIMIT });
  after(() => parser.close());

  for (const [api, body] of bodies) {
    it(`${api}: a large body comes back equal, with the digests this thread would compute`, async () => {
      // Key order and spacing differ from JSON.stringify's, so the digests cannot be of the text.
      const raw = Buffer.from(JSON.stringify(body, null, 1));
      assert.ok(raw.length >= SMALL_LIMIT);
      const parsed = (await parser.parse(raw, api)) as JsonObject;
      assert.deepEqual(parsed, body);
      // Present before this thread asked for any key: computed on the worker.
      const fromWorker = digestsOf(parsed);
      assert.ok(Object.keys(fromWorker).length >= 3, `digests: ${JSON.stringify(fromWorker)}`);
      const fresh = JSON.parse(raw.toString('utf8')) as JsonObject; // a new object: nothing remembered
      assert.deepEqual(digestsOf(fresh), {});
      assert.equal(canonicalHash(requestFor(api, parsed)), canonicalHash(requestFor(api, fresh)));
      assert.deepEqual(semanticKey(requestFor(api, parsed)), semanticKey(requestFor(api, fresh)));
    });
  }

  it('a large body holding an integer beyond 2^53 comes back from the worker without a cache key', async () => {
    const [api, body] = bodies[0]!;
    const raw = Buffer.from(JSON.stringify(body).replace('"temperature":0.2', '"seed":9007199254740993,"temperature":0.2'));
    assert.ok(raw.length >= SMALL_LIMIT && raw.includes('9007199254740993'));
    const parsed = (await parser.parse(raw, api)) as JsonObject;
    assert.ok(Object.keys(digestsOf(parsed)).length >= 3, 'digested on the worker');
    assert.equal(canonicalHash(requestFor(api, parsed)), undefined);
    assert.deepEqual(semanticKey(requestFor(api, parsed)), { eligible: false, reason: 'unkeyable_number' });
  });

  it('a changed copy of a parsed body gets its own key, not the remembered one', async () => {
    const [api, body] = bodies[0]!;
    const parsed = (await parser.parse(Buffer.from(JSON.stringify(body)), api)) as JsonObject;
    const changed = { ...parsed, temperature: 0.3 };
    assert.notEqual(canonicalHash(requestFor(api, changed)), canonicalHash(requestFor(api, parsed)));
  });

  it('a small body is parsed here and digested only when a key is asked for', async () => {
    const parsed = (await parser.parse(Buffer.from('{"model":"m","messages":[]}'), 'openai.chat')) as JsonObject;
    assert.deepEqual(parsed, { model: 'm', messages: [] });
    assert.deepEqual(digestsOf(parsed), {});
  });

  it('a body of more pieces than this thread takes in stays in the worker, which says its model', async () => {
    // 50,001 messages of 5 pieces each: over MAX_MAIN_THREAD_NODES, ~1.5 MB.
    const messages = Array.from({ length: 50_001 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` }));
    const raw = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages }));
    assert.ok(jsonNodesUpTo(JSON.parse(raw.toString()), MAX_MAIN_THREAD_NODES) > MAX_MAIN_THREAD_NODES);
    const engine = await parser.parse(raw, 'openai.chat');
    assert.ok(engine instanceof OversizedBody);
    assert.equal(engine.model, 'gpt-4o-mini');
    const plain = await parser.parse(raw);
    assert.ok(plain instanceof OversizedBody);
    assert.equal(plain.model, 'gpt-4o-mini');
    // An array at the top has no model; an engine request without one is the 400 validateBody gives.
    const list = await parser.parse(Buffer.from(JSON.stringify(messages)));
    assert.ok(list instanceof OversizedBody);
    assert.equal(list.model, undefined);
    await assert.rejects(parser.parse(Buffer.from(JSON.stringify({ messages })), 'openai.chat'), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 400);
      assert.equal(error.param, 'model');
      return true;
    });
    // Just under the limit, the parsed body comes back.
    const under = { model: 'gpt-4o-mini', messages: messages.slice(0, 19_000) };
    assert.deepEqual(await parser.parse(Buffer.from(JSON.stringify(under)), 'openai.chat'), under);
  });

  it('a malformed or too deep large body is a 400 that says why, and the worker goes on', async () => {
    const padding = ' '.repeat(SMALL_LIMIT);
    await assert.rejects(parser.parse(Buffer.from(`{"model": "m",${padding} "messages": [}`), 'openai.chat'), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_json');
      assert.match(error.message, /not valid JSON \(.+\)/);
      return true;
    });
    await assert.rejects(parser.parse(Buffer.from(`${padding}${'['.repeat(300)}${']'.repeat(300)}`)), (error: unknown) => error instanceof ProxyError && error.code === 'json_too_deep');
    assert.deepEqual(await parser.parse(Buffer.from(`${padding}{"ok":true}`)), { ok: true });
  });
});

describe('the optimiser on the body worker', () => {
  const parser = createBodyParser({ logger: silentLogger, offThreadBytes: SMALL_LIMIT });
  after(() => parser.close());
  const DEFAULTS: OptimiserConfig = defaultConfig('/unused').optimiser;
  const ALL_ON: OptimiserConfig = { ...DEFAULTS, whitespace: true, htmlComments: true, dedupeBlocks: true };
  // Instructions with whitespace to shrink, a long history (cache hints), an odd number and non-ASCII text.
  const body: JsonObject = {
    model: 'claude-sonnet-4-5', max_tokens: 64, seed: 12345678901234567890,
    system: `# Rules  \n\n\n\n<!-- internal -->${'Prefer small modules. é 𝄞 '.repeat(800)}`,
    messages: [{ role: 'user', content: 'x'.repeat(20_000) }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'and now?' }],
  };
  // Not JSON.stringify's output: the worker must splice the client's own bytes.
  const raw = Buffer.from(JSON.stringify(body, null, 2).replace('12345678901234567890', '12345678901234567890.0'));

  for (const [name, settings] of [['defaults', DEFAULTS], ['every edit on', ALL_ON]] as const) {
    it(`${name}: forwards exactly the bytes the optimiser makes on this thread`, async () => {
      const here = createRequestOptimiser(settings, approximateTokens, { memoiseCounts: false }).optimise({ api: 'anthropic.messages', model: 'claude-sonnet-4-5', body, rawBody: raw });
      assert.ok(here.forwardBody, 'the case must edit something');
      const there = await parser.optimise(settings, { api: 'anthropic.messages', model: 'claude-sonnet-4-5', rawBody: raw });
      assert.ok(there);
      assert.equal(there.forwardBody?.toString('utf8'), here.forwardBody.toString('utf8'));
      assert.equal(there.tokensSaved, here.tokensSaved);
      assert.equal(there.cacheHints, here.cacheHints);
    });
  }

  it('a small body is left to this thread', () => {
    assert.equal(parser.optimise(DEFAULTS, { api: 'anthropic.messages', model: 'm', rawBody: Buffer.from('{}') }), undefined);
  });

  it('the layer forwards the worker\'s bytes for a large body, and the client\'s when the worker fails', async () => {
    const config = defaultConfig('/unused');
    let offThread = 0;
    const layer = createOptimiserLayer({
      config, logger: silentLogger,
      offThreadOptimise: (settings, input) => {
        const running = parser.optimise(settings, input);
        if (running) offThread++;
        return running;
      },
    });
    const context = (rawBody: Buffer): LayerContext => ({
      req: { api: 'anthropic.messages', route: { id: 'default', providers: [] }, body, rawBody, headers: {}, model: 'claude-sonnet-4-5', stream: false, credentialHash: 'anonymous', clientTool: 'test', cache: { noCache: false, noStore: false, semanticOff: false, localOff: false }, signal: new AbortController().signal, receivedAt: 0 },
      notes: {}, responseHeaders: {},
    });
    const answered = { kind: 'stored' } as unknown as Outcome;
    const ctx = context(raw);
    await layer.handle(ctx, async () => answered);
    const expected = createRequestOptimiser(config.optimiser, approximateTokens).optimise({ api: 'anthropic.messages', model: 'claude-sonnet-4-5', body, rawBody: raw });
    assert.equal(ctx.forwardBody?.toString('utf8'), expected.forwardBody?.toString('utf8'));
    assert.equal(ctx.notes.cacheHints, expected.cacheHints);
    assert.equal(offThread, 1, 'the large body went to the worker');
    // Bytes that are not JSON fail in the worker: the request still goes on, unedited.
    const broken = context(Buffer.from(`{${' '.repeat(SMALL_LIMIT)}`));
    let passedOn = false;
    await layer.handle(broken, async () => ((passedOn = true), answered));
    assert.ok(passedOn);
    assert.equal(broken.forwardBody, undefined);
    assert.equal(offThread, 2);
  });
});

describe('the body parser when its worker is missing or dies', () => {
  const dir = mkdtemp(join(tmpdir(), 'isartor-body-worker-'));
  after(async () => rm(await dir, { recursive: true, force: true }));

  it('without the worker script it parses here and says once that the install is broken', async () => {
    const lines: string[] = [];
    const parser = createBodyParser({ logger: createLogger((line) => lines.push(line)), offThreadBytes: 1, script: undefined });
    assert.deepEqual(await parser.parse(Buffer.from('{"a":1}')), { a: 1 });
    assert.deepEqual(await parser.parse(Buffer.from('{"b":2}')), { b: 2 });
    await parser.close();
    assert.equal(lines.filter((line) => /body worker .* is missing/.test(line)).length, 1, lines.join('\n'));
  });

  it('a worker that exits fails the body it held with a 500, and the next body gets a new worker', async () => {
    // Exits on its first job, answers like the real worker afterwards (a marker file says which).
    const script = join(await dir, 'flaky-worker.js');
    const marker = join(await dir, 'crashed');
    await writeFile(script, `
      const { parentPort } = require('node:worker_threads');
      const fs = require('node:fs');
      parentPort.on('message', (job) => {
        if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); }
        parentPort.postMessage({ id: job.id, value: JSON.parse(Buffer.from(job.bytes).toString()), digests: {} });
      });`);
    const parser = createBodyParser({ logger: silentLogger, offThreadBytes: 1, script });
    try {
      await assert.rejects(parser.parse(Buffer.from('{"first":1}')), (error: unknown) => error instanceof ProxyError && error.status === 500);
      assert.deepEqual(await parser.parse(Buffer.from('{"second":2}')), { second: 2 });
    } finally {
      await parser.close();
    }
  });
});
