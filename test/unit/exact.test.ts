// The L1a exact layer through runLayers, on a real embedded store, with a stand-in upstream layer.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createExactLayer } from '../../src/core/layers/exact';
import { silentLogger } from '../../src/core/logger';
import type { Outcome, StoredAnswer } from '../../src/core/outcome';
import { runLayers, type Layer, type LayerContext } from '../../src/core/pipeline';
import { credentialHash, type JsonObject, type ProxyRequest } from '../../src/core/request';
import { openEmbeddedStore } from '../../src/core/store/embedded';
import type { KeyValueStore } from '../../src/core/store/store';

const config = { enabled: true, maxEntries: 1000, ttlSeconds: 0 };
let root: string;
let counter = 0;
const freshDir = (): string => join(root, `e${++counter}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-exact-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function request(body: JsonObject, overrides: Partial<ProxyRequest> = {}): ProxyRequest {
  return {
    api: 'openai.chat',
    route: { id: 'default', providers: [{ name: 'fake', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1' }] },
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    headers: {},
    model: String(body.model),
    stream: body.stream === true,
    credentialHash: credentialHash('sk-test'),
    clientTool: 'test',
    cache: { noCache: false, noStore: false, semanticOff: false, localOff: false },
    signal: new AbortController().signal,
    receivedAt: 0,
    ...overrides,
  };
}

const chat = (text: string, extra: JsonObject = {}): JsonObject => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], ...extra });
const context = (req: ProxyRequest): LayerContext => ({ req, notes: {}, responseHeaders: {} });

/** The upstream's answer to a request: an OpenAI chat.completion echoing the question with a call number. */
function answerFor(req: ProxyRequest, call: number): StoredAnswer {
  const question = (req.body.messages as Array<{ content: string }>)[0]!.content;
  return {
    api: req.api,
    body: { id: `chatcmpl-${call}`, object: 'chat.completion', model: req.model, choices: [{ index: 0, message: { role: 'assistant', content: `answer ${call} to ${question}` }, finish_reason: 'stop' }] },
    usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0 },
    createdAt: 1_700_000_000_000 + call,
  };
}

/**
 * Stands in for the upstream layer: returns a live `upstream` outcome whose body is a real Readable
 * and whose completion resolves once the body has been read to the end (undefined for an error
 * status). `gate` holds every call until the test opens it; `fail` decides which calls get a 500.
 */
function fakeUpstream(options: { gate?: Promise<void>; fail?: (call: number) => boolean } = {}): Layer & { calls: number } {
  const layer = {
    name: 'upstream',
    calls: 0,
    async handle(ctx: LayerContext): Promise<Outcome> {
      const call = ++layer.calls;
      await options.gate;
      const failed = options.fail?.(call) ?? false;
      const answer = answerFor(ctx.req, call);
      const bytes = Buffer.from(JSON.stringify(failed ? { error: { message: 'boom', type: 'server_error' } } : answer.body));
      const body = Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]);
      const completion = new Promise<StoredAnswer | undefined>((resolve) => {
        body.on('end', () => resolve(failed ? undefined : answer));
        body.on('close', () => resolve(undefined));
      });
      return { kind: 'upstream', layer: 'l3', provider: 'fake', status: failed ? 500 : 200, headers: failed ? { 'retry-after': '3' } : {}, body, completion, upstreamLatencyMs: 1 };
    },
  };
  return layer;
}

/** What the client would receive: the stored answer's body, or the upstream bytes read to the end. */
async function readAnswer(outcome: Outcome): Promise<JsonObject> {
  if (outcome.kind === 'stored') return outcome.answer.body;
  if (outcome.kind !== 'upstream') throw new Error(`unexpected ${outcome.kind} outcome`);
  const chunks: Buffer[] = [];
  for await (const chunk of outcome.body) chunks.push(chunk as Buffer);
  await outcome.completion;
  return JSON.parse(Buffer.concat(chunks).toString()) as JsonObject;
}

interface Harness {
  store: KeyValueStore;
  exact: ReturnType<typeof createExactLayer>;
  upstream: ReturnType<typeof fakeUpstream>;
  run(req: ProxyRequest): Promise<Outcome>;
  /** Runs a request, reads its answer like a client, and waits until any store write finished. */
  ask(req: ProxyRequest): Promise<{ outcome: Outcome; body: JsonObject }>;
}

async function harness(upstream = fakeUpstream(), dir = freshDir()): Promise<Harness> {
  const store = await openEmbeddedStore(dir, { maxEntries: config.maxEntries, ttlSeconds: 0 });
  const exact = createExactLayer({ store, config, logger: silentLogger });
  const run = (req: ProxyRequest) => runLayers([exact, upstream], context(req), () => true);
  return {
    store,
    exact,
    upstream,
    run,
    async ask(req) {
      const outcome = await run(req);
      const body = await readAnswer(outcome);
      await exact.close!();
      return { outcome, body };
    },
  };
}

describe('exact layer (L1a)', () => {
  it('misses, stores the complete upstream answer, then answers the repeat from the store', async () => {
    const h = await harness();
    const first = await h.ask(request(chat('hello')));
    assert.equal(first.outcome.kind, 'upstream');
    assert.equal(h.exact.entries(), 1);
    const second = await h.ask(request(chat('hello')));
    assert.equal(second.outcome.kind, 'stored');
    assert.equal(second.outcome.kind === 'stored' && second.outcome.layer, 'l1a');
    assert.deepEqual(second.body, first.body);
    assert.equal(h.upstream.calls, 1);
    await h.store.close();
  });

  it('serves a streamed request from an entry stored by a plain one', async () => {
    const h = await harness();
    await h.ask(request(chat('stream me')));
    const streamed = await h.ask(request(chat('stream me', { stream: true, stream_options: { include_usage: true } })));
    assert.equal(streamed.outcome.kind, 'stored');
    assert.equal(h.upstream.calls, 1);
    await h.store.close();
  });

  it('misses on anything that changes the answer (model, key, temperature, tools)', async () => {
    const h = await harness();
    await h.ask(request(chat('q')));
    await h.ask(request(chat('q', { temperature: 0.2 })));
    await h.ask(request(chat('q', { model: 'gpt-4o' }), { model: 'gpt-4o' }));
    await h.ask(request(chat('q'), { credentialHash: credentialHash('sk-other') }));
    await h.ask(request(chat('q', { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] })));
    assert.equal(h.upstream.calls, 5);
    assert.equal(h.exact.entries(), 5);
    await h.store.close();
  });

  it('passes the upstream outcome on before its body is read: storing never delays the response', async () => {
    const h = await harness();
    const outcome = await h.run(request(chat('slow body')));
    assert.equal(outcome.kind, 'upstream');
    assert.equal(h.exact.entries(), 0, 'nothing can be stored before the body was read');
    await readAnswer(outcome);
    await h.exact.close!();
    assert.equal(h.exact.entries(), 1);
    await h.store.close();
  });

  it('never stores an error answer', async () => {
    const h = await harness(fakeUpstream({ fail: (call) => call === 1 }));
    const failed = await h.ask(request(chat('flaky')));
    assert.equal(failed.outcome.kind === 'upstream' && failed.outcome.status, 500);
    assert.equal(h.exact.entries(), 0);
    const retried = await h.ask(request(chat('flaky')));
    assert.equal(retried.outcome.kind, 'upstream');
    assert.equal(h.upstream.calls, 2);
    assert.equal(h.exact.entries(), 1);
    await h.store.close();
  });

  it('never stores an answer whose stream the client abandoned', async () => {
    const h = await harness();
    const outcome = await h.run(request(chat('abandoned')));
    assert.equal(outcome.kind, 'upstream');
    if (outcome.kind === 'upstream') outcome.body.destroy();
    await h.exact.close!();
    assert.equal(h.exact.entries(), 0);
    await h.store.close();
  });

  it('no-cache skips the lookup but still stores; no-store answers without storing', async () => {
    const h = await harness();
    await h.ask(request(chat('fresh')));
    const noCache = { noCache: true, noStore: false, semanticOff: false, localOff: false };
    const refreshed = await h.ask(request(chat('fresh'), { cache: noCache }));
    assert.equal(refreshed.outcome.kind, 'upstream');
    assert.equal(h.upstream.calls, 2);
    const replay = await h.ask(request(chat('fresh')));
    assert.equal(replay.outcome.kind, 'stored');
    assert.match(String(JSON.stringify(replay.body)), /answer 2 to fresh/, 'the no-cache answer replaced the old entry');

    const noStore = { noCache: false, noStore: true, semanticOff: false, localOff: false };
    await h.ask(request(chat('secret'), { cache: noStore }));
    assert.equal(h.upstream.calls, 3);
    const again = await h.ask(request(chat('secret')));
    assert.equal(again.outcome.kind, 'upstream', 'a no-store answer must not be replayed');
    assert.equal(h.upstream.calls, 4);
    await h.store.close();
  });

  it('does not store answers of later caches or the local model', async () => {
    const store = await openEmbeddedStore(freshDir(), { maxEntries: 10, ttlSeconds: 0 });
    const exact = createExactLayer({ store, config, logger: silentLogger });
    const req = request(chat('local please'));
    const l1b: Layer = { name: 'semantic', handle: async (ctx) => ({ kind: 'stored', layer: 'l1b', answer: answerFor(ctx.req, 1) }) };
    await runLayers([exact, l1b], context(req), () => true);
    const generated: Layer = {
      name: 'local',
      handle: async (ctx) => {
        const done = Promise.resolve(answerFor(ctx.req, 2));
        return { kind: 'generated', layer: 'l2', localModel: 'tiny', id: 'chatcmpl-isartor-l2-test', createdAt: 0, deltas: Readable.from(['hi']), done };
      },
    };
    const outcome = await runLayers([exact, generated], context(req), () => true);
    if (outcome.kind === 'generated') await outcome.done;
    await exact.close!();
    assert.equal(exact.entries(), 0);
    await store.close();
  });

  it('single flight: 20 concurrent identical misses make one upstream call and all get the same body', async () => {
    let open!: () => void;
    const h = await harness(fakeUpstream({ gate: new Promise<void>((resolve) => (open = resolve)) }));
    const outcomes = Array.from({ length: 20 }, () => h.run(request(chat('popular'))));
    open();
    const bodies = await Promise.all(outcomes.map(async (pending) => readAnswer(await pending)));
    assert.equal(h.upstream.calls, 1);
    const kinds = (await Promise.all(outcomes)).map((o) => `${o.kind}:${o.kind === 'stored' ? o.layer : ''}`);
    assert.equal(kinds.filter((k) => k === 'upstream:').length, 1);
    assert.equal(kinds.filter((k) => k === 'stored:l1a').length, 19);
    for (const body of bodies) assert.deepEqual(body, bodies[0]);
    await h.exact.close!();
    assert.equal(h.exact.entries(), 1);
    await h.store.close();
  });

  it('single flight: different requests fly separately', async () => {
    let open!: () => void;
    const h = await harness(fakeUpstream({ gate: new Promise<void>((resolve) => (open = resolve)) }));
    const pending = [...Array.from({ length: 5 }, () => h.run(request(chat('one')))), ...Array.from({ length: 5 }, () => h.run(request(chat('two'))))];
    open();
    const bodies = await Promise.all(pending.map(async (p) => JSON.stringify(await readAnswer(await p))));
    assert.equal(h.upstream.calls, 2);
    assert.equal(new Set(bodies).size, 2);
    assert.ok(bodies.slice(0, 5).every((b) => b.includes('to one')));
    assert.ok(bodies.slice(5).every((b) => b.includes('to two')));
    await h.store.close();
  });

  it('single flight: an error response is shared: every waiting request gets its status, headers and body from one call', async () => {
    let open!: () => void;
    const upstream = fakeUpstream({ gate: new Promise<void>((resolve) => (open = resolve)), fail: () => true });
    const h = await harness(upstream);
    const pending = Array.from({ length: 4 }, () => h.run(request(chat('unlucky'))));
    open();
    const outcomes = await Promise.all(pending);
    assert.equal(h.upstream.calls, 1, 'one upstream call for four identical requests');
    for (const outcome of outcomes) {
      assert.ok(outcome.kind === 'upstream');
      assert.equal(outcome.status, 500);
      assert.equal(outcome.headers['retry-after'], '3');
      assert.deepEqual(await readAnswer(outcome), { error: { message: 'boom', type: 'server_error' } });
    }
    assert.equal(h.exact.entries(), 0);
    // The flight is over: the next attempt calls the upstream again.
    const retry = await h.run(request(chat('unlucky')));
    await readAnswer(retry);
    assert.equal(h.upstream.calls, 2);
    await h.store.close();
  });

  it('single flight: an error thrown by the later layers is shared with the waiting requests', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const unreachable: Layer = {
      name: 'upstream',
      async handle() {
        calls++;
        await gate;
        throw new Error('could not reach fake');
      },
    };
    const h = await harness(unreachable as ReturnType<typeof fakeUpstream>);
    const pending = Array.from({ length: 3 }, () => h.run(request(chat('nobody home'))));
    open();
    const results = await Promise.allSettled(pending);
    assert.equal(calls, 1);
    assert.deepEqual(results.map((r) => r.status === 'rejected' && String(r.reason)), Array(3).fill('Error: could not reach fake'));
    await h.store.close();
  });

  it('single flight: when the leader\'s own client leaves, one of the waiting requests leads the next call', async () => {
    let open!: () => void;
    const h = await harness(fakeUpstream({ gate: new Promise<void>((resolve) => (open = resolve)) }));
    const gone = new AbortController();
    const leader = h.run(request(chat('left'), { signal: gone.signal }));
    const followers = [h.run(request(chat('left'))), h.run(request(chat('left')))];
    open();
    const lead = await leader;
    assert.ok(lead.kind === 'upstream');
    gone.abort(new Error('client disconnected'));
    lead.body.destroy();
    const outcomes = await Promise.all(followers.map(async (p) => readAnswer(await p)));
    assert.equal(h.upstream.calls, 2, 'the followers share one new call instead of one each');
    assert.deepEqual(outcomes[0], outcomes[1]);
    await h.exact.close!();
    await h.store.close();
  });

  it('single flight: a follower whose client disconnects stops waiting; the others still get the answer', async () => {
    let open!: () => void;
    const h = await harness(fakeUpstream({ gate: new Promise<void>((resolve) => (open = resolve)) }));
    const leader = h.run(request(chat('wait')));
    const gone = new AbortController();
    const quitter = h.run(request(chat('wait'), { signal: gone.signal }));
    const stayer = h.run(request(chat('wait')));
    gone.abort(new Error('client disconnected'));
    await assert.rejects(quitter, /client disconnected/);
    open();
    const [leaderBody, stayerOutcome] = await Promise.all([leader.then(readAnswer), stayer]);
    assert.equal(stayerOutcome.kind, 'stored');
    assert.deepEqual(await readAnswer(stayerOutcome), leaderBody);
    assert.equal(h.upstream.calls, 1);
    await h.store.close();
  });

  it('answers from the store after a restart', async () => {
    const dir = freshDir();
    const first = await harness(fakeUpstream(), dir);
    const original = await first.ask(request(chat('remember me')));
    await first.store.close();
    const second = await harness(fakeUpstream(), dir);
    const replay = await second.ask(request(chat('remember me')));
    assert.equal(replay.outcome.kind, 'stored');
    assert.deepEqual(replay.body, original.body);
    assert.equal(second.upstream.calls, 0);
    await second.store.close();
  });

  it('treats an unreadable entry as a miss and removes it', async () => {
    const h = await harness();
    await h.ask(request(chat('garbled')));
    for await (const key of h.store.keys()) await h.store.set(key, Buffer.from('{not json'));
    const outcome = await h.ask(request(chat('garbled')));
    assert.equal(outcome.outcome.kind, 'upstream');
    assert.equal(h.upstream.calls, 2);
    const replay = await h.ask(request(chat('garbled')));
    assert.equal(replay.outcome.kind, 'stored');
    await h.store.close();
  });

  it('treats an entry too large to replay (stored by an older version) as a miss and removes it', async () => {
    const h = await harness();
    const first = await h.ask(request(chat('large')));
    const keys: string[] = [];
    for await (const key of h.store.keys()) keys.push(key);
    const key = keys[0];
    const stored = JSON.parse((await h.store.get(key!))!.toString()) as StoredAnswer;
    // The same answer, padded past 4 MiB with a field the replay ignores.
    await h.store.set(key!, Buffer.from(JSON.stringify({ ...stored, body: { ...stored.body, padding: 'x'.repeat(4 * 1024 * 1024) } })));
    const outcome = await h.ask(request(chat('large')));
    assert.equal(outcome.outcome.kind, 'upstream');
    assert.equal(h.upstream.calls, 2);
    const replay = await h.ask(request(chat('large')));
    assert.equal(replay.outcome.kind, 'stored');
    assert.notDeepEqual(replay.body, first.body, 'the replay is the new answer, not the oversized entry');
    await h.store.close();
  });

  it('clear() forgets every answer', async () => {
    const h = await harness();
    await h.ask(request(chat('a')));
    await h.ask(request(chat('b')));
    assert.equal(h.exact.entries(), 2);
    assert.ok(h.exact.bytes() > 0);
    await h.exact.clear();
    assert.equal(h.exact.entries(), 0);
    assert.equal((await h.ask(request(chat('a')))).outcome.kind, 'upstream');
    assert.match(h.exact.describe!(), /1 answers/);
    await h.store.close();
  });
});
