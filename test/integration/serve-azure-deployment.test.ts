/**
 * `isartor serve` with an Azure provider, called by the official `AzureOpenAI` client pointed at
 * it as at an Azure endpoint: the SDK sends chat to `/openai/deployments/<deployment>/chat/completions
 * ?api-version=…`, which must be served like `/v1/chat/completions` (cached, streamed) with the
 * path's deployment and the client's api-version going upstream and into the cache partition.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AzureOpenAI } from 'openai';
import type { FakeUpstream } from '../../src/bench/fakeUpstream';
import { startAzureServe, type AzureServe } from './azure-serve';

const CLIENT_KEY = 'client-azure-key-9876543210';
/** Not the configured version: the client's must be the one that goes upstream. */
const CLIENT_API_VERSION = '2025-01-01-preview';

let serve: AzureServe;
let fake: FakeUpstream;
let proxyUrl: string;

before(async () => {
  serve = await startAzureServe();
  ({ fake, proxyUrl } = serve);
});

after(() => serve?.close());

/** The client as Azure's docs build it: the resource endpoint, a key and an API version. */
function azure(options: { deployment?: string; apiVersion?: string } = {}): AzureOpenAI {
  return new AzureOpenAI({ endpoint: proxyUrl, apiKey: CLIENT_KEY, apiVersion: options.apiVersion ?? CLIENT_API_VERSION, maxRetries: 0, ...(options.deployment ? { deployment: options.deployment } : {}) });
}

const ask = (content: string, model = 'chat-dep') => ({ model, messages: [{ role: 'user' as const, content }] });

test('chat on a deployment path: a miss goes to that deployment with the client\'s api-version, the repeat is an L1a hit', async () => {
  fake.reset();
  const first = await azure().chat.completions.create(ask('Which deployment answers?')).withResponse();
  assert.equal(first.response.headers.get('x-isartor-layer'), 'l3');
  assert.match(first.data.choices[0]!.message.content ?? '', /Which deployment answers\?/);
  const again = await azure().chat.completions.create(ask('Which deployment answers?')).withResponse();
  assert.equal(again.response.headers.get('x-isartor-layer'), 'l1a');
  assert.equal(again.data.choices[0]!.message.content, first.data.choices[0]!.message.content);
  assert.equal(fake.requests.length, 1);
  const [received] = fake.requests;
  assert.equal(received!.url, `/openai/deployments/chat-dep/chat/completions?api-version=${CLIENT_API_VERSION}`);
  assert.equal(received!.headers['api-key'], CLIENT_KEY, 'the client\'s own api-key passes through');
});

test('a streamed chat on a deployment path streams, and its repeat streams from L1a', async () => {
  fake.reset();
  const read = async (): Promise<[string, string | null]> => {
    const { data, response } = await azure({ deployment: 'stream-dep' }).chat.completions.create({ ...ask('Stream from a deployment?', 'ignored-model'), stream: true }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
    return [text, response.headers.get('x-isartor-layer')];
  };
  const [text, layer] = await read();
  assert.match(text, /Stream from a deployment\?/);
  assert.equal(layer, 'l3');
  const [again, againLayer] = await read();
  assert.equal(again, text);
  assert.equal(againLayer, 'l1a');
  assert.equal(fake.requests.length, 1);
  // The client's `deployment` option names the path's deployment; the body's model is sent as it is.
  assert.equal(fake.requests[0]!.url, `/openai/deployments/stream-dep/chat/completions?api-version=${CLIENT_API_VERSION}`);
  assert.equal(fake.requests[0]!.json.model, 'ignored-model');
});

test('two deployments, or two api-versions, never share a cache entry', async () => {
  fake.reset();
  const question = 'Same words, other deployment?';
  const one = await azure({ deployment: 'dep-one' }).chat.completions.create(ask(question, 'same-model')).withResponse();
  const two = await azure({ deployment: 'dep-two' }).chat.completions.create(ask(question, 'same-model')).withResponse();
  const older = await azure({ deployment: 'dep-one', apiVersion: '2024-06-01' }).chat.completions.create(ask(question, 'same-model')).withResponse();
  assert.deepEqual([one, two, older].map((r) => r.response.headers.get('x-isartor-layer')), ['l3', 'l3', 'l3']);
  assert.deepEqual(fake.requests.map((r) => r.url), [
    `/openai/deployments/dep-one/chat/completions?api-version=${CLIENT_API_VERSION}`,
    `/openai/deployments/dep-two/chat/completions?api-version=${CLIENT_API_VERSION}`,
    '/openai/deployments/dep-one/chat/completions?api-version=2024-06-01',
  ]);
});

test('legacy completions on a deployment path run through the cache too', async () => {
  fake.reset();
  const first = await azure().completions.create({ model: 'instruct-dep', prompt: 'Complete this deployment' }).withResponse();
  const again = await azure().completions.create({ model: 'instruct-dep', prompt: 'Complete this deployment' }).withResponse();
  assert.deepEqual([first, again].map((r) => r.response.headers.get('x-isartor-layer')), ['l3', 'l1a']);
  assert.deepEqual(fake.requests.map((r) => r.url), [`/openai/deployments/instruct-dep/completions?api-version=${CLIENT_API_VERSION}`]);
});

test('embeddings on a deployment path pass through to the Azure provider unchanged', async () => {
  fake.reset();
  const { data, response } = await azure().embeddings.create({ model: 'embed-dep', input: 'vectors please', encoding_format: 'float' }).withResponse();
  assert.deepEqual(data.data[0]!.embedding, [0.5, 0.25, -1]);
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(fake.requests.length, 1);
  const [received] = fake.requests;
  assert.equal(received!.url, `/openai/deployments/embed-dep/embeddings?api-version=${CLIENT_API_VERSION}`);
  assert.equal(received!.headers['api-key'], CLIENT_KEY);
  assert.deepEqual(received!.json, { model: 'embed-dep', input: 'vectors please', encoding_format: 'float' });
});
