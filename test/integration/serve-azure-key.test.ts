/**
 * `isartor serve` with AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT: the OpenAI SDK cannot be built
 * without a key, so its users pass a dummy, sent as `Authorization: Bearer dummy`. Azure accepts a
 * key only in `api-key` (Bearer only for Entra ID tokens), so the dummy must not go: the
 * environment key answers. What Azure does accept from the client (its own `api-key`, an Entra ID
 * token) still passes through, and each client credential keeps its own cache partition.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import type { FakeUpstream } from '../../src/bench/fakeUpstream';
import { AZURE_ENV_KEY, startAzureServe, type AzureServe } from './azure-serve';

/** JWT-shaped, as Microsoft Entra ID issues them (header, claims, signature). */
const ENTRA_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJl';

let serve: AzureServe;
let fake: FakeUpstream;
let proxyUrl: string;

before(async () => {
  serve = await startAzureServe();
  ({ fake, proxyUrl } = serve);
});

after(() => serve?.close());

function openai(apiKey: string, defaultHeaders?: Record<string, string>): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${proxyUrl}/v1`, maxRetries: 0, defaultHeaders });
}

const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });

test('the OpenAI SDK\'s dummy key is not sent to Azure: the environment key answers, plain and streamed', async () => {
  fake.reset();
  const { data, response } = await openai('dummy').chat.completions.create(ask('Which key answers?')).withResponse();
  assert.equal(response.headers.get('x-isartor-layer'), 'l3');
  assert.match(data.choices[0]!.message.content ?? '', /Which key answers\?/);
  const stream = await openai('dummy').chat.completions.create({ ...ask('Which key answers a stream?'), stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.match(text, /Which key answers a stream\?/);
  const answer = await openai('sk-not-for-azure').responses.create({ model: 'gpt-4o-mini', input: 'And on the Responses API?' });
  assert.match(answer.output_text, /And on the Responses API\?/);
  assert.deepEqual(fake.requests.map((r) => r.path), ['/openai/deployments/gpt-4o-mini/chat/completions', '/openai/deployments/gpt-4o-mini/chat/completions', '/openai/v1/responses']);
  for (const received of fake.requests) {
    assert.equal(received.headers['api-key'], AZURE_ENV_KEY, received.path);
    assert.equal(received.headers.authorization, undefined, received.path);
  }
});

test("a plain OpenAI client set up for Azure's v1 surface works with only its host changed", async () => {
  fake.reset();
  const client = new OpenAI({ apiKey: 'dummy', baseURL: `${proxyUrl}/openai/v1`, maxRetries: 0 });
  const chat = await client.chat.completions.create(ask('Through /openai/v1?'));
  assert.match(chat.choices[0]!.message.content ?? '', /Through \/openai\/v1\?/);
  const answer = await client.responses.create({ model: 'gpt-4o-mini', input: 'Responses through /openai/v1?' });
  assert.match(answer.output_text, /Responses through \/openai\/v1\?/);
  assert.deepEqual(fake.requests.map((r) => r.path), ['/openai/deployments/gpt-4o-mini/chat/completions', '/openai/v1/responses']);
});

test('a client api-key and an Entra ID token still pass through (AzureOpenAI client)', async () => {
  fake.reset();
  const withKey = new AzureOpenAI({ apiKey: 'client-own-azure-key', apiVersion: '2024-10-21', baseURL: `${proxyUrl}/v1`, maxRetries: 0 });
  assert.match((await withKey.responses.create({ model: 'gpt-4o-mini', input: 'My own key?' })).output_text, /My own key\?/);
  const withToken = new AzureOpenAI({ azureADTokenProvider: async () => ENTRA_TOKEN, apiVersion: '2024-10-21', baseURL: `${proxyUrl}/v1`, maxRetries: 0 });
  assert.match((await withToken.responses.create({ model: 'gpt-4o-mini', input: 'My own token?' })).output_text, /My own token\?/);
  const [keyed, tokened] = fake.requests;
  assert.equal(keyed!.headers['api-key'], 'client-own-azure-key');
  assert.equal(keyed!.headers.authorization, undefined);
  assert.equal(tokened!.headers.authorization, `Bearer ${ENTRA_TOKEN}`);
  assert.equal(tokened!.headers['api-key'], undefined);
});

test('each client credential keeps its own cache partition', async () => {
  fake.reset();
  const question = ask('Cached for whom?');
  assert.equal((await openai('dummy').chat.completions.create(question).withResponse()).response.headers.get('x-isartor-layer'), 'l3');
  assert.equal((await openai('dummy').chat.completions.create(question).withResponse()).response.headers.get('x-isartor-layer'), 'l1a');
  // A real key of the client's is not answered from the dummy's entry (paid with the environment key).
  const own = await openai('dummy', { 'api-key': 'client-own-azure-key' }).chat.completions.create(question).withResponse();
  assert.equal(own.response.headers.get('x-isartor-layer'), 'l3');
  assert.equal(fake.requests.length, 2);
  assert.equal(fake.requests[1]!.headers['api-key'], 'client-own-azure-key', 'the client\'s api-key wins');
});
