/**
 * Upstream addressing and headers: URLs for OpenAI, Anthropic and Azure, which headers pass, and
 * when the configured key is added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpstreamTarget } from '../../src/core/request';
import { clientResponseHeaders, mayReceiveClientCredential, providerRefusesClientCredential, providersFor, upstreamHeaders, upstreamUrl } from '../../src/core/upstream/target';

const openai: UpstreamTarget = { name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1/', apiKey: 'sk-configured' };
const anthropic: UpstreamTarget = { name: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-configured' };
const azure: UpstreamTarget = { name: 'azure', kind: 'azure', baseUrl: 'https://res.openai.azure.com/', apiKey: 'az-key', azure: { apiVersion: '2024-10-21' } };

test('URLs per provider kind, with the client query string kept', () => {
  assert.equal(upstreamUrl(openai, 'chat', 'gpt-4o'), 'https://api.openai.com/v1/chat/completions');
  assert.equal(upstreamUrl(openai, 'embeddings', 'e'), 'https://api.openai.com/v1/embeddings');
  assert.equal(upstreamUrl(anthropic, 'messages', 'claude', 'beta=true'), 'https://api.anthropic.com/v1/messages?beta=true');
  assert.equal(upstreamUrl({ ...anthropic, baseUrl: 'http://127.0.0.1:9/v1' }, 'count_tokens', 'c'), 'http://127.0.0.1:9/v1/messages/count_tokens');
  assert.equal(upstreamUrl(azure, 'chat', 'gpt-4o'), 'https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
  const fixed: UpstreamTarget = { ...azure, azure: { apiVersion: '2025-01-01', deployment: 'my deploy' } };
  assert.equal(upstreamUrl(fixed, 'chat', 'gpt-4o', 'api-version=old&x=1'), 'https://res.openai.azure.com/openai/deployments/my%20deploy/chat/completions?api-version=2025-01-01&x=1');
  // A client's model of "." or ".." names a deployment, never a step up the path (a server would normalise it away).
  assert.equal(upstreamUrl(azure, 'chat', '..'), 'https://res.openai.azure.com/openai/deployments/%2E%2E/chat/completions?api-version=2024-10-21');
  assert.equal(upstreamUrl(azure, 'embeddings', '.'), 'https://res.openai.azure.com/openai/deployments/%2E/embeddings?api-version=2024-10-21');
  assert.equal(upstreamUrl(azure, 'chat', '...'), 'https://res.openai.azure.com/openai/deployments/.../chat/completions?api-version=2024-10-21');
  // One model: the id follows the models path in every provider kind.
  assert.equal(upstreamUrl(openai, 'openai.models', '', '', '/gpt-4o'), 'https://api.openai.com/v1/models/gpt-4o');
  assert.equal(upstreamUrl(anthropic, 'anthropic.models', '', '', '/claude-x'), 'https://api.anthropic.com/v1/models/claude-x');
  assert.equal(upstreamUrl(azure, 'openai.models', '', '', '/gpt-4o'), 'https://res.openai.azure.com/openai/models/gpt-4o?api-version=2024-10-21');
});

test('a deployment a client named in its path replaces the configured one, with the client\'s api-version', () => {
  const fixed: UpstreamTarget = { ...azure, azure: { apiVersion: '2024-10-21', deployment: 'configured' } };
  assert.equal(upstreamUrl(fixed, 'chat', 'gpt-4o', 'api-version=2025-01-01-preview', '', 'my dep'), 'https://res.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2025-01-01-preview');
  assert.equal(upstreamUrl(fixed, 'chat', 'gpt-4o', '', '', '..'), 'https://res.openai.azure.com/openai/deployments/%2E%2E/chat/completions?api-version=2024-10-21');
  assert.equal(upstreamUrl(fixed, 'azure.deployment', 'x', 'api-version=2025-01-01-preview', '/audio/speech', 'tts'), 'https://res.openai.azure.com/openai/deployments/tts/audio/speech?api-version=2025-01-01-preview');
  // Without a deployment path the configuration's api-version wins, as before.
  assert.equal(upstreamUrl(fixed, 'chat', 'gpt-4o', 'api-version=2025-01-01-preview'), 'https://res.openai.azure.com/openai/deployments/configured/chat/completions?api-version=2024-10-21');
  assert.deepEqual(providersFor([openai, azure], 'azure.deployment'), [azure]);
});

test('providers are filtered by the API they speak, in chain order', () => {
  const chain = [anthropic, openai, azure];
  assert.deepEqual(providersFor(chain, 'chat').map((p) => p.name), ['openai', 'azure']);
  assert.deepEqual(providersFor(chain, 'messages').map((p) => p.name), ['anthropic']);
});

test('client headers pass except hop-by-hop ones and x-isartor directives; the client key is untouched', () => {
  const headers = upstreamHeaders(
    {
      host: 'localhost:8787', connection: 'keep-alive', 'content-length': '12', 'transfer-encoding': 'chunked', 'accept-encoding': 'gzip',
      authorization: 'Bearer sk-client', 'anthropic-beta': 'tools-2024', 'openai-organization': 'org', 'x-isartor-semantic': 'off',
    },
    openai,
  );
  assert.deepEqual(headers, { authorization: 'Bearer sk-client', 'anthropic-beta': 'tools-2024', 'openai-organization': 'org', 'accept-encoding': 'identity' });
});

test('the configured key goes in the provider header only when the client sent none', () => {
  assert.equal(upstreamHeaders({}, openai)['authorization'], 'Bearer sk-configured');
  assert.equal(upstreamHeaders({}, anthropic)['x-api-key'], 'sk-ant-configured');
  assert.equal(upstreamHeaders({}, anthropic)['anthropic-version'], '2023-06-01');
  assert.equal(upstreamHeaders({}, azure)['api-key'], 'az-key');
  const own = upstreamHeaders({ 'x-api-key': 'sk-ant-own', 'anthropic-version': '2024-01-01' }, anthropic);
  assert.equal(own['x-api-key'], 'sk-ant-own');
  assert.equal(own['anthropic-version'], '2024-01-01');
  assert.equal(own['authorization'], undefined);
});

test('Azure with a key of its own answers a client Bearer that is not an Entra ID token with that key', () => {
  const entraToken = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJl';
  for (const dummy of ['Bearer dummy', 'bearer sk-not-a-jwt', 'Bearer ', 'Bearer', 'Bearer eyJhbGciOiJub25lIn0', 'Bearer eyJ.a.b.c', 'BEARER abc.def.ghi']) {
    const headers = upstreamHeaders({ authorization: dummy, 'content-type': 'application/json' }, azure);
    assert.equal(headers['api-key'], 'az-key', dummy);
    assert.equal(headers.authorization, undefined, dummy);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(providerRefusesClientCredential({ authorization: dummy }, azure), true, dummy);
  }
  // What Azure takes passes through: the client's api-key (whatever else it sent), or an Entra ID token.
  assert.deepEqual(pick(upstreamHeaders({ 'api-key': 'client-az-key' }, azure)), { 'api-key': 'client-az-key' });
  assert.deepEqual(pick(upstreamHeaders({ 'api-key': 'client-az-key', authorization: 'Bearer dummy' }, azure)), { 'api-key': 'client-az-key', authorization: 'Bearer dummy' });
  assert.deepEqual(pick(upstreamHeaders({ authorization: `Bearer ${entraToken}` }, azure)), { authorization: `Bearer ${entraToken}` });
  // Other schemes and headers are not Bearer tokens: they pass as before.
  assert.deepEqual(pick(upstreamHeaders({ authorization: 'Basic dXNlcjpwYXNz' }, azure)), { authorization: 'Basic dXNlcjpwYXNz' });
  assert.deepEqual(pick(upstreamHeaders({ 'x-api-key': 'sk-ant-own' }, azure)), { 'x-api-key': 'sk-ant-own' });
  // Azure without a key of its own, and other kinds, get the client's credential untouched.
  const keyless: UpstreamTarget = { ...azure, apiKey: undefined };
  assert.deepEqual(pick(upstreamHeaders({ authorization: 'Bearer dummy' }, keyless)), { authorization: 'Bearer dummy' });
  assert.deepEqual(pick(upstreamHeaders({ authorization: 'Bearer dummy' }, openai)), { authorization: 'Bearer dummy' });
  assert.equal(providerRefusesClientCredential({ authorization: 'Bearer dummy' }, openai), false);
  // Off the primary's origin the client's credential never goes anyway.
  assert.deepEqual(pick(upstreamHeaders({ 'api-key': 'client-az-key' }, azure, false, false)), { 'api-key': 'az-key' });
});

/** The credential headers of an upstream request. */
function pick(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name === 'authorization' || name === 'api-key' || name === 'x-api-key'));
}

test('response headers drop hop-by-hop ones and cookies and flatten repeats', () => {
  assert.deepEqual(
    clientResponseHeaders({ 'content-type': 'application/json', connection: 'close', 'set-cookie': ['a=1'], 'x-request-id': 'r1', vary: ['a', 'b'] }),
    { 'content-type': 'application/json', 'x-request-id': 'r1', vary: 'a, b' },
  );
});

test('the client key goes only to the primary origin; elsewhere it is replaced by the provider key or dropped', () => {
  const primary: UpstreamTarget = { name: 'p', kind: 'openai', baseUrl: 'https://api.openai.com/v1' };
  const elsewhere: UpstreamTarget = { name: 'e', kind: 'openai', baseUrl: 'https://other.example.com/v1', apiKey: 'sk-other' };
  const elsewhereNoKey: UpstreamTarget = { name: 'n', kind: 'openai', baseUrl: 'https://third.example.com/v1' };
  assert.equal(mayReceiveClientCredential({ ...primary, name: 'same' }, primary), true);
  assert.equal(mayReceiveClientCredential(elsewhere, primary), false);
  const client = { authorization: 'Bearer sk-client', 'content-type': 'application/json' };
  assert.equal(upstreamHeaders(client, primary, true)['authorization'], 'Bearer sk-client');
  assert.equal(upstreamHeaders(client, elsewhere, false)['authorization'], 'Bearer sk-other');
  const dropped = upstreamHeaders(client, elsewhereNoKey, false);
  assert.equal(dropped['authorization'], undefined);
  assert.equal(dropped['content-type'], 'application/json');
});

test('headers the client names in Connection stay on this hop; the credential still goes', () => {
  const headers = upstreamHeaders({ connection: 'keep-alive, X-Hop-Secret, authorization', 'x-hop-secret': 'internal-token', 'x-kept': 'yes', authorization: 'Bearer sk-client' }, openai);
  assert.equal(headers['x-hop-secret'], undefined);
  assert.equal(headers['x-kept'], 'yes');
  assert.equal(headers.authorization, 'Bearer sk-client');
});
