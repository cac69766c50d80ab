/**
 * Azure deployment paths (`/openai/deployments/<name>/…`) beyond the plain case (see
 * serve-azure-deployment.test.ts): under a tool route's prefix, with names that need encoding, other
 * operations than chat (a multipart audio upload), and on a route whose primary is not Azure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AzureOpenAI, NotFoundError, toFile } from 'openai';
import type { UpstreamTarget } from '../../src/core/request';
import { startFakeUpstream } from '../../src/bench/fakeUpstream';
import { startStack, type Stack } from './helpers';

const AZURE_KEY = 'azure-config-key-000111222';
let stack: Stack;
let azureProvider: UpstreamTarget;

before(async () => {
  stack = await startStack((config, fake) => {
    azureProvider = { name: 'azure-test', kind: 'azure', baseUrl: fake.url, apiKey: AZURE_KEY, azure: { apiVersion: '2024-10-21', deployment: 'configured-dep' } };
    config.upstream.providers = [azureProvider];
  });
});

after(async () => {
  await stack.close();
});

function azure(endpoint: string, deployment?: string): AzureOpenAI {
  return new AzureOpenAI({ endpoint, apiKey: 'client-key-0123', apiVersion: '2024-12-01-preview', maxRetries: 0, ...(deployment ? { deployment } : {}) });
}

/**
 * POSTs JSON to a path exactly as written: fetch's WHATWG URL would resolve `%2E%2E` as a dot
 * segment before sending, as a browser does, while other clients send it as it is.
 */
function postPath(path: string, body: string): Promise<{ status: number; json: any }> {
  const url = new URL(stack.proxy.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'api-key': 'client-key-0123' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ask = (content: string) => ({ model: 'gpt-4o', messages: [{ role: 'user' as const, content }] });

test('under a tool route\'s prefix, the path\'s deployment replaces the configured one and the repeat is a hit', async () => {
  stack.fake.reset();
  const route = stack.proxy.addRoute({ providers: [azureProvider] });
  const client = azure(`${stack.proxy.url}/r/${route.id}`, 'route-dep');
  const first = await client.chat.completions.create(ask('Through a route?')).withResponse();
  const again = await client.chat.completions.create(ask('Through a route?')).withResponse();
  assert.deepEqual([first, again].map((r) => r.response.headers.get('x-isartor-layer')), ['l3', 'l1a']);
  assert.deepEqual(stack.fake.requests.map((r) => r.url), ['/openai/deployments/route-dep/chat/completions?api-version=2024-12-01-preview']);
  // An AzureOpenAI client given a `/v1` base URL (the OpenAI recipe's) puts the deployment after it.
  const v1 = new AzureOpenAI({ baseURL: `${stack.proxy.url}/r/${route.id}/v1`, apiKey: 'client-key-0123', apiVersion: '2024-12-01-preview', maxRetries: 0 });
  await v1.chat.completions.create(ask('Through /v1?'));
  assert.equal(stack.fake.requests.at(-1)!.url, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-12-01-preview');
  // The OpenAI paths still use the configured deployment and api-version.
  await stack.openai({ baseURL: `${stack.proxy.url}/r/${route.id}/v1` }).chat.completions.create(ask('Through OpenAI\'s path?'));
  assert.equal(stack.fake.requests.at(-1)!.url, '/openai/deployments/configured-dep/chat/completions?api-version=2024-10-21');
});

test('a deployment name is decoded and encoded again; dot segments stay encoded', async () => {
  stack.fake.reset();
  const body = JSON.stringify(ask('Encoded names?'));
  const encoded = await postPath('/openai/deployments/my%20dep%2Fv2/chat/completions?api-version=2024-12-01-preview', body);
  assert.equal(encoded.status, 200, JSON.stringify(encoded.json));
  for (const dots of ['..', '%2E%2E', '.%2e']) {
    const answer = await postPath(`/openai/deployments/${dots}/chat/completions?api-version=2024-12-01-preview`, JSON.stringify(ask(`Dots spelt ${dots}?`)));
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
  }
  assert.deepEqual(stack.fake.requests.map((r) => r.path), [
    '/openai/deployments/my%20dep%2Fv2/chat/completions',
    ...Array(3).fill('/openai/deployments/%2E%2E/chat/completions'),
  ]);
  const broken = await postPath('/openai/deployments/%E0%A4/chat/completions', body);
  assert.equal(broken.status, 400);
  assert.equal(broken.json.error.code, 'invalid_deployment');
  const climbing = await postPath('/openai/deployments/dep/%2E%2E/keys', body);
  assert.equal(climbing.status, 400);
  assert.equal(climbing.json.error.code, 'invalid_path');
  assert.equal(stack.fake.requests.length, 4, 'nothing invalid was forwarded');
});

test('an audio upload (multipart) on a deployment path goes to the Azure provider byte for byte', async () => {
  stack.fake.reset();
  stack.fake.enqueue({ body: { text: 'transcribed' } });
  const audio = Buffer.from('RIFF fake wave bytes');
  const result = await azure(stack.proxy.url).audio.transcriptions.create({ model: 'whisper-dep', file: await toFile(audio, 'clip.wav') });
  assert.equal(result.text, 'transcribed');
  const [received] = stack.fake.requests;
  assert.equal(received!.url, '/openai/deployments/whisper-dep/audio/transcriptions?api-version=2024-12-01-preview');
  assert.match(received!.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
  assert.ok(received!.rawBody.includes(audio), 'the file arrived unchanged');
  assert.equal(received!.headers['api-key'], 'client-key-0123');
});

test('a deployment path on a route whose primary is not Azure is an OpenAI-shaped 404 naming the fix', async () => {
  stack.fake.reset();
  const route = stack.proxy.addRoute({ providers: [{ name: 'plain-openai', kind: 'openai', baseUrl: stack.fake.openaiBase, apiKey: 'sk-x' }, azureProvider] });
  await assert.rejects(azure(`${stack.proxy.url}/r/${route.id}`).chat.completions.create(ask('Azure paths on OpenAI?')), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, 'deployment_needs_azure');
    assert.match(error.message, /not an Azure provider/);
    return true;
  });
  assert.equal(stack.fake.requests.length, 0);
});

test('a fallback Azure resource elsewhere keeps its own deployment and api-version', async () => {
  stack.fake.reset();
  const other = await startFakeUpstream();
  try {
    const fallback: UpstreamTarget = { name: 'azure-other', kind: 'azure', baseUrl: other.url, apiKey: 'other-key-000111', azure: { apiVersion: '2024-06-01', deployment: 'other-dep' } };
    const route = stack.proxy.addRoute({ providers: [azureProvider, fallback] });
    stack.fake.enqueue({ status: 503 });
    const { response } = await azure(`${stack.proxy.url}/r/${route.id}`, 'primary-dep').chat.completions.create(ask('Primary down?')).withResponse();
    assert.equal(response.headers.get('x-isartor-layer'), 'l3');
    assert.equal(stack.fake.requests[0]!.url, '/openai/deployments/primary-dep/chat/completions?api-version=2024-12-01-preview');
    assert.equal(other.requests[0]!.url, '/openai/deployments/other-dep/chat/completions?api-version=2024-06-01');
    assert.equal(other.requests[0]!.headers['api-key'], 'other-key-000111', 'the client\'s key stays with the primary\'s resource');
  } finally {
    await other.close();
  }
});
