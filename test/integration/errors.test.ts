/**
 * Every error the proxy answers itself: right status, the called API's error shape, a message that
 * says what to do, nothing forwarded that should not be, and the proxy still serving afterwards.
 */
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ANTHROPIC_KEY, OPENAI_KEY, chatBody, postRaw, startStack, type Stack } from './helpers';

let stack: Stack;
before(async () => {
  stack = await startStack((config) => {
    config.maxBodyBytes = 64 * 1024;
  });
});
after(() => stack.close());

const openaiAuth = { authorization: `Bearer ${OPENAI_KEY}` };
const anthropicAuth = { 'x-api-key': ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

async function stillServes(): Promise<void> {
  const { response } = await stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `alive ${Math.random()}` }] }).withResponse();
  assert.equal(response.status, 200);
}

test('malformed JSON: 400 in the OpenAI shape on OpenAI endpoints and in the Anthropic shape on Messages', async () => {
  const calls = stack.fake.requests.length;
  const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, '{"model": "gpt-4o-mini", "messages": [', openaiAuth);
  assert.equal(openai.status, 400);
  assert.equal(openai.json.error.type, 'invalid_request_error');
  assert.equal(openai.json.error.code, 'invalid_json');
  assert.match(openai.json.error.message, /not valid JSON.*Send one JSON object/);
  assert.ok('param' in openai.json.error);
  const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, 'not json', anthropicAuth);
  assert.equal(anthropic.status, 400);
  assert.equal(anthropic.json.type, 'error');
  assert.equal(anthropic.json.error.type, 'invalid_request_error');
  assert.match(anthropic.json.error.message, /not valid JSON/);
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
  await stillServes();
});

test('a body that is not valid UTF-8: 400 in the API\'s shape, nothing forwarded', async () => {
  const calls = stack.fake.requests.length;
  const broken = (prefix: string): Uint8Array => Buffer.concat([Buffer.from(prefix), Buffer.from([0xff, 0xc3]), Buffer.from('"}]}')]);
  const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, broken('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello '), openaiAuth);
  assert.equal(openai.status, 400);
  assert.equal(openai.json.error.code, 'invalid_utf8');
  assert.match(openai.json.error.message, /not valid UTF-8/);
  const anthropic = await postRaw(
    `${stack.proxy.url}/v1/messages`,
    broken('{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hello '),
    anthropicAuth,
  );
  assert.equal(anthropic.status, 400);
  assert.equal(anthropic.json.type, 'error');
  assert.match(anthropic.json.error.message, /not valid UTF-8/);
  // The replacement characters a decoder would have made are a different body, and still welcome.
  const replaced = await postRaw(`${stack.proxy.url}/v1/chat/completions`, '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello \ufffd\ufffd"}]}', openaiAuth);
  assert.equal(replaced.status, 200);
  assert.equal(replaced.headers.get('x-isartor-layer'), 'l3');
  assert.equal(stack.fake.requests.length, calls + 1, 'only the valid body was forwarded');
  await stillServes();
});

/** Sends `head` (and `body`) on a raw socket and returns everything the proxy answers before it closes. */
function rawExchange(head: string, body = ''): Promise<string> {
  const { port } = new URL(stack.proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(head + body));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Status line and JSON body of a raw HTTP answer. */
function parseAnswer(answer: string): { status: number; headers: string; json: any } {
  const split = answer.indexOf('\r\n\r\n');
  return { status: Number(answer.split(' ')[1]), headers: answer.slice(0, split).toLowerCase(), json: JSON.parse(answer.slice(split + 4)) };
}

test('requests Node\'s parser refuses: 431 and 400 with a JSON error, not an empty body', async () => {
  const calls = stack.fake.requests.length;
  const long = parseAnswer(await rawExchange(`GET /v1/models?${'a'.repeat(20_000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`));
  assert.equal(long.status, 431);
  assert.equal(long.json.error.code, 'request_header_too_large');
  assert.match(long.json.error.message, /larger than Isartor accepts \(16 KB\)/);
  const badLength = parseAnswer(await rawExchange('POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: abc\r\n\r\n', '{}'));
  assert.equal(badLength.status, 400);
  assert.equal(badLength.json.error.type, 'invalid_request_error');
  assert.equal(badLength.json.error.code, 'malformed_http');
  assert.match(badLength.headers, /connection: close/);
  assert.equal(stack.fake.requests.length, calls);
  await stillServes();
});

test('405 names the methods the path takes in an Allow header', async () => {
  const chat = await fetch(`${stack.proxy.url}/v1/chat/completions`, { headers: openaiAuth });
  assert.equal(chat.status, 405);
  assert.equal(chat.headers.get('allow'), 'POST');
  assert.equal(((await chat.json()) as any).error.code, 'method_not_allowed');
  const models = await fetch(`${stack.proxy.url}/v1/models`, { method: 'POST', headers: openaiAuth, body: '{}' });
  assert.equal(models.status, 405);
  assert.equal(models.headers.get('allow'), 'GET');
  await models.arrayBuffer();
  const stored = await fetch(`${stack.proxy.url}/v1/responses/resp_1`, { method: 'PUT', headers: openaiAuth, body: '{}' });
  assert.equal(stored.status, 405);
  assert.equal(stored.headers.get('allow'), 'GET, DELETE');
  assert.match(((await stored.json()) as any).error.message, /Use GET or DELETE for \/responses\/resp_1/);
});

test('JSON nested 10,000 deep: 400 in the API\'s shape, not a 500 from a blown stack', async () => {
  const deep = (field: string): string => `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"${field}":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
  const calls = stack.fake.requests.length;
  const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, deep('metadata'), openaiAuth);
  assert.equal(openai.status, 400);
  assert.equal(openai.json.error.code, 'json_too_deep');
  assert.equal(openai.json.error.type, 'invalid_request_error');
  const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, deep('metadata'), anthropicAuth);
  assert.equal(anthropic.status, 400);
  assert.equal(anthropic.json.type, 'error');
  assert.match(anthropic.json.error.message, /more than 256 levels deep/);
  const inMessages = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`;
  assert.equal((await postRaw(`${stack.proxy.url}/v1/chat/completions`, inMessages, openaiAuth)).status, 400);
  assert.equal((await postRaw(`${stack.proxy.url}/v1/messages/count_tokens`, deep('metadata'), anthropicAuth)).status, 400);
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
  const nested = JSON.parse(`{"type":"object","properties":{"a":${'{"type":"object","properties":{"a":'.repeat(40)}{"type":"string"}${'}}'.repeat(40)}}}`);
  const tools = [{ type: 'function', function: { name: 'deep_schema', parameters: nested } }];
  const ok = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify(chatBody('a deep but real tool schema', { tools })), openaiAuth);
  assert.equal(ok.status, 200, 'a tool schema nested 80 levels deep is still served');
  await stillServes();
});

test('missing model or messages and wrong types: 400 naming the field; the SDK throws BadRequestError', async () => {
  const noModel = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify({ messages: [] }), openaiAuth);
  assert.equal(noModel.status, 400);
  assert.equal(noModel.json.error.param, 'model');
  const noMessages = await postRaw(`${stack.proxy.url}/v1/messages`, JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 5 }), anthropicAuth);
  assert.equal(noMessages.status, 400);
  assert.match(noMessages.json.error.message, /`messages` is required/);
  const wrongType = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify(chatBody('x', { temperature: 'hot' })), openaiAuth);
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.json.error.param, 'temperature');
  const arrayBody = await postRaw(`${stack.proxy.url}/v1/chat/completions`, '[1,2]', openaiAuth);
  assert.equal(arrayBody.status, 400);
  await assert.rejects(
    stack.openai().chat.completions.create({ model: 'gpt-4o-mini', messages: 'hello' as never }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /messages/.test(error.message),
  );
  await assert.rejects(
    stack.anthropic().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 'ten' as never, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof Anthropic.BadRequestError && /max_tokens/.test(error.message),
  );
  await stillServes();
});

test('unknown route: 404 in the API shape, nothing forwarded', async () => {
  const calls = stack.fake.requests.length;
  const unknown = 'f'.repeat(32);
  await assert.rejects(
    stack.openai({ baseURL: `${stack.proxy.url}/r/${unknown}/v1` }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.NotFoundError && /No route/.test(error.message),
  );
  await assert.rejects(
    stack.anthropic({ baseURL: `${stack.proxy.url}/r/${unknown}` }).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof Anthropic.NotFoundError && (error.error as any)?.error?.type === 'not_found_error',
  );
  assert.equal(stack.fake.requests.length, calls);
  await stillServes();
});

test('an endpoint Isartor does not serve: 404 in the Anthropic shape for Anthropic clients, the OpenAI shape otherwise', async () => {
  const calls = stack.fake.requests.length;
  await assert.rejects(
    stack.anthropic().messages.batches.list(),
    (error: unknown) => error instanceof Anthropic.NotFoundError && (error.error as any)?.type === 'error' && (error.error as any)?.error?.type === 'not_found_error' && /no endpoint GET \/v1\/messages\/batches/.test(error.message),
  );
  await assert.rejects(
    stack.openai().files.list(),
    (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'not_found' && /no endpoint GET \/v1\/files/.test(error.message),
  );
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
  await stillServes();
});

test('a body over maxBodyBytes: 413, the proxy keeps serving', async () => {
  const huge = JSON.stringify(chatBody('x'.repeat(100 * 1024)));
  const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, huge, openaiAuth);
  assert.equal(openai.status, 413);
  assert.match(openai.json.error.message, /limit of 65536 bytes.*maxBodyBytes/);
  const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, huge, anthropicAuth);
  assert.equal(anthropic.status, 413);
  assert.equal(anthropic.json.error.type, 'request_too_large');
  await stillServes();
});

/**
 * POSTs `body` over a raw socket the way many HTTP clients do (Python's http.client, for one):
 * the whole upload first, failing on any write error, and only then the response.
 */
async function uploadThenRead(path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const { connect } = await import('node:net');
  const { port } = new URL(stack.proxy.url);
  const socket = connect(Number(port), '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const head = [`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', `Content-Length: ${body.length}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    socket.write(body, (error) => (error ? reject(error) : resolve()));
  });
  await closed;
  const text = Buffer.concat(received).toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, text: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

test('an oversized upload on a closing connection still gets its 413 body, not a broken pipe', async () => {
  const huge = Buffer.from(JSON.stringify(chatBody('y'.repeat(8 * 1024 * 1024))));
  for (let i = 0; i < 3; i++) {
    const openai = await uploadThenRead('/v1/chat/completions', huge, { 'content-type': 'application/json', ...openaiAuth });
    assert.equal(openai.status, 413);
    assert.match(JSON.parse(openai.text).error.message, /limit of 65536 bytes/);
    const anthropic = await uploadThenRead('/v1/messages', huge, { 'content-type': 'application/json', ...anthropicAuth });
    assert.equal(anthropic.status, 413);
    assert.equal(JSON.parse(anthropic.text).error.type, 'request_too_large');
  }
  const refused = await uploadThenRead('/v1/chat/completions', huge, { 'content-type': 'text/plain', ...openaiAuth });
  assert.equal(refused.status, 415, 'a refusal before reading the body is answered the same way');
  await stillServes();
});

test('no key sent and none configured: 401 naming the environment variable', async () => {
  const openai = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify(chatBody('no key')));
  assert.equal(openai.status, 401);
  assert.match(openai.json.error.message, /OPENAI_API_KEY/);
  const anthropic = await postRaw(`${stack.proxy.url}/v1/messages`, JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), { 'anthropic-version': '2023-06-01' });
  assert.equal(anthropic.status, 401);
  assert.equal(anthropic.json.error.type, 'authentication_error');
  assert.match(anthropic.json.error.message, /ANTHROPIC_API_KEY/);
  await stillServes();
});

test('upstream unreachable after retries: 502 naming the provider', async () => {
  const dead = stack.proxy.addRoute({ providers: [{ name: 'dead', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1' }] });
  await assert.rejects(
    stack.openai({ baseURL: `${stack.proxy.url}/r/${dead.id}/v1` }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.APIError && error.status === 502 && /could not reach dead/.test(error.message),
  );
  await stillServes();
});

test('a default key configured for the provider is used only when the client sends none', async () => {
  const route = stack.proxy.addRoute({ providers: [{ name: 'keyed', kind: 'openai', baseUrl: stack.fake.openaiBase, apiKey: 'sk-configured-key-123456' }] });
  const withOwn = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('own key')), openaiAuth);
  assert.equal(withOwn.status, 200);
  assert.equal(stack.fake.requests.at(-1)!.headers['authorization'], `Bearer ${OPENAI_KEY}`);
  const without = await postRaw(`${stack.proxy.url}/r/${route.id}/v1/chat/completions`, JSON.stringify(chatBody('configured key')));
  assert.equal(without.status, 200);
  assert.equal(stack.fake.requests.at(-1)!.headers['authorization'], 'Bearer sk-configured-key-123456');
});

test('a request addressed to another host name (DNS rebinding) or from a web page is refused with 403', async () => {
  const calls = stack.fake.requests.length;
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${stack.proxy.url}/v1/chat/completions`, { method: 'POST', headers: { host: 'rebound.example:80', 'content-type': 'application/json', authorization: `Bearer ${OPENAI_KEY}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify(chatBody('rebinding')));
  });
  assert.equal(status, 403);
  const fromPage = await postRaw(`${stack.proxy.url}/v1/chat/completions`, JSON.stringify(chatBody('cross-site')), { ...openaiAuth, origin: 'https://attacker.example' });
  assert.equal(fromPage.status, 403);
  assert.equal(fromPage.json.error.type, 'permission_error');
  assert.equal(stack.fake.requests.length, calls, 'nothing was forwarded');
  await stillServes();
});

test('a gzip-encoded body is decoded and forwarded plain; an unknown encoding gets 415', async () => {
  const { gzipSync } = await import('node:zlib');
  const json = JSON.stringify(chatBody('compressed request'));
  const response = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
    method: 'POST',
    body: gzipSync(json),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...openaiAuth },
  });
  assert.equal(response.status, 200);
  const received = stack.fake.requests.at(-1)!;
  assert.equal(received.rawBody.toString('utf8'), json);
  assert.equal(received.headers['content-encoding'], undefined);
  const unknown = await postRaw(`${stack.proxy.url}/v1/chat/completions`, json, { ...openaiAuth, 'content-encoding': 'zstd-ish' });
  assert.equal(unknown.status, 415);
  assert.match(unknown.json.error.message, /Content-Encoding "zstd-ish"/);
  await stillServes();
});
