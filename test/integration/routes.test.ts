/**
 * Tool routes under /r/<id>/ (with and without /v1), the default route at the root, health,
 * Prometheus metrics and the stats endpoint.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { OPENAI_KEY, chatBody, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack((config) => {
    config.models = ['configured-a', 'configured-b'];
  });
});
after(() => stack.close());

test('a tool route forwards to its own upstream, with or without /v1 in the path', async () => {
  const route = stack.proxy.addRoute({ providers: [{ name: 'tool', kind: 'openai', baseUrl: stack.fake.openaiBase }], tool: 'continue' });
  assert.match(route.id, /^[0-9a-f]{32}$/, '128 random bits, hex');
  assert.ok(stack.proxy.routes().some((r) => r.id === route.id));
  const auth = { authorization: `Bearer ${OPENAI_KEY}` };
  const withV1 = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('route with v1')), auth);
  assert.equal(withV1.status, 200);
  const withoutV1 = await postRaw(`${stack.proxy.url}/r/${route.id}/chat/completions`, JSON.stringify(chatBody('route without v1')), auth);
  assert.equal(withoutV1.status, 200);
  assert.equal(stack.fake.requests.at(-1)!.path, '/v1/chat/completions');
  const root = await postRaw(`${stack.proxy.url}/chat/completions`, JSON.stringify(chatBody('root without v1')), auth);
  assert.equal(root.status, 200);

  stack.proxy.removeRoute(route.id);
  const gone = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('removed')), auth);
  assert.equal(gone.status, 404);
});

test('the ledger records each request with its tool, layer and tokens', async () => {
  const records: Array<{ layer: string; tool: string; inputTokens: number }> = [];
  const subscription = stack.proxy.onRecord((record) => records.push(record));
  const client = stack.openai();
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ledger me' }] });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ledger me' }] });
  subscription.dispose();
  assert.deepEqual(records.map((r) => r.layer), ['l3', 'l1a']);
  assert.equal(records[0]!.tool, 'openai-sdk');
  assert.ok(records[0]!.inputTokens > 0, 'tokens come from the upstream usage');
  const stats = stack.proxy.stats();
  assert.ok(stats.ledger.totals.requests >= 2);
  assert.ok(stats.ledger.totals.deflected >= 1);
  assert.equal(stats.layers.exact?.enabled, true);
  assert.ok((stats.caches.exact?.entries ?? 0) >= 1);
  const http = await (await fetch(`${stack.proxy.url}/isartor/stats`)).json();
  assert.equal(http.ledger.totals.requests, stats.ledger.totals.requests);
});

test('turning the exact layer off sends repeats upstream; clearing caches forgets answers', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'switch me' }] };
  const client = stack.openai();
  await client.chat.completions.create(request);
  stack.proxy.setLayerEnabled('exact', false);
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  stack.proxy.setLayerEnabled('exact', true);
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l1a');
  await stack.proxy.clearCaches();
  assert.equal((await client.chat.completions.create(request).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  assert.throws(() => stack.proxy.setLayerEnabled('upstream', false), /cannot be turned off/);
});

test('GET /models falls back to the configured list when the upstream has none', async () => {
  stack.fake.enqueue({ status: 404 });
  const models = [];
  for await (const model of stack.openai().models.list()) models.push(model.id);
  assert.deepEqual(models, ['configured-a', 'configured-b']);
});

test('GET /models/{id} is forwarded as the provider answers it, in both APIs, its 404 for an unknown model included', async () => {
  const openaiModel = { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' };
  stack.fake.enqueue({ body: openaiModel, headers: { 'x-request-id': 'req_model' } });
  const { data, response, request_id } = await stack.openai().models.retrieve('gpt-4o').withResponse();
  assert.deepEqual({ ...data }, openaiModel);
  assert.equal(request_id, 'req_model');
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.at(-1)!.method, 'GET');
  assert.equal(stack.fake.requests.at(-1)!.url, '/v1/models/gpt-4o');

  // Gateways name models with a vendor prefix; the id goes on as the client encoded it.
  stack.fake.enqueue({ body: { id: 'openai/gpt-4o', object: 'model', created: 0, owned_by: 'openai' } });
  assert.equal((await stack.openai().models.retrieve('openai/gpt-4o')).id, 'openai/gpt-4o');
  assert.equal(stack.fake.requests.at(-1)!.url, '/v1/models/openai%2Fgpt-4o');

  const claude = { type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' };
  stack.fake.enqueue({ body: claude });
  assert.deepEqual({ ...(await stack.anthropic().models.retrieve('claude-sonnet-4-5')) }, claude);
  assert.equal(stack.fake.requests.at(-1)!.url, '/v1/models/claude-sonnet-4-5');

  stack.fake.enqueue({ status: 404, body: { error: { message: 'The model `nope` does not exist', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } } });
  await assert.rejects(stack.openai().models.retrieve('nope'), (error: unknown) => error instanceof Error && 'status' in error && error.status === 404 && /The model `nope` does not exist/.test(error.message));
});

test('GET /models/{id} without a fitting provider answers a configured model and 404s any other, in the API\'s shape', async () => {
  const route = stack.proxy.addRoute({ providers: [{ name: 'claude-only', kind: 'anthropic', baseUrl: stack.fake.anthropicBase }] });
  const client = stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1` });
  const calls = stack.fake.requests.length;
  assert.deepEqual({ ...(await client.models.retrieve('configured-b')) }, { id: 'configured-b', object: 'model', created: 0, owned_by: 'isartor' });
  await assert.rejects(client.models.retrieve('other'), (error: unknown) => error instanceof Error && 'status' in error && error.status === 404);
  assert.equal(stack.fake.requests.length, calls, 'nothing went upstream');
  // A "." or ".." segment is no model id: it would reach another endpoint once the URL is normalised.
  // (A raw path: fetch and a URL string would resolve the dots on the client's side.)
  for (const path of ['/v1/models/../files', '/v1/models/%2E%2e/files', '/v1/models/a/..', '/v1/models/..\\files']) {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(stack.proxy.url);
      request({ hostname, port, path, headers: { authorization: `Bearer ${OPENAI_KEY}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject).end();
    });
    assert.equal(status, 404, path);
  }
  assert.equal(stack.fake.requests.length, calls);
  stack.proxy.removeRoute(route.id);
});

test('/healthz answers and /metrics is valid Prometheus text with the request counters', async () => {
  assert.deepEqual(await (await fetch(`${stack.proxy.url}/healthz`)).json(), { status: 'ok' });
  const response = await fetch(`${stack.proxy.url}/metrics`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|NaN)$/;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    assert.match(line, sample, `not a Prometheus sample line: ${line}`);
  }
  assert.match(text, /^isartor_requests_total\{layer="l1a",api="openai\.chat",status="200"\} [1-9]/m);
  assert.match(text, /^isartor_deflections_total\{layer="l1a"\} [1-9]/m);
  assert.match(text, /^isartor_upstream_latency_seconds_count\{provider="fake-openai"\} [1-9]/m);
  assert.match(text, /^isartor_errors_total\{endpoint="chat",status="404",code="unknown_route"\} 1/m);
});

test('route ids, which are capabilities, appear neither in /isartor/stats nor in any file of the data dir', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const route = stack.proxy.addRoute({ providers: [{ name: 'tool', kind: 'openai', baseUrl: stack.fake.openaiBase }], tool: 'cline' });
  const recorded = new Promise<void>((resolve) => {
    const subscription = stack.proxy.onRecord(() => {
      subscription.dispose();
      resolve();
    });
  });
  const res = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('a capability stays secret')), { authorization: `Bearer ${OPENAI_KEY}` });
  assert.equal(res.status, 200);
  await recorded;
  const stats = await (await fetch(`${stack.proxy.url}/isartor/stats`)).text();
  assert.ok(!stats.includes(route.id), 'the stats page does not carry the route id');
  const recent = (JSON.parse(stats) as { ledger?: { recent?: Array<{ routeId: string }> }; recent?: Array<{ routeId: string }> });
  const records = recent.ledger?.recent ?? recent.recent ?? [];
  assert.ok(records.some((record) => /^r-[0-9a-f]{8}$/.test(record.routeId)), `a short label stands in for it: ${JSON.stringify(records.map((r) => r.routeId))}`);
  await stack.restart();
  const files = (await readdir(stack.dataDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  assert.ok(files.some((entry) => entry.name.startsWith('ledger')), 'the ledger was written');
  for (const entry of files) {
    const text = await readFile(join(entry.parentPath ?? entry.path, entry.name), 'latin1');
    assert.ok(!text.includes(route.id), `${entry.name} does not carry the route id`);
  }
});
