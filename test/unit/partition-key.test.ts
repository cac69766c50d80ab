// What the caches' partition is made of: Azure's deployment and API version and the client's query
// string join it, and a request without them keeps the partition it had, so caches stay valid.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { answerChangingHeaders, partitionKey, type Route } from '../../src/core/request';

const openaiRoute: Route = { id: 'default', providers: [{ name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }] };
const azureRoute = (deployment: string | undefined, apiVersion: string): Route => ({
  id: 'default',
  providers: [{ name: 'azure', kind: 'azure', baseUrl: 'https://r.openai.azure.com', azure: { apiVersion, ...(deployment ? { deployment } : {}) } }],
});
const request = (route: Route, query?: string) => ({ api: 'openai.chat' as const, route, credentialHash: 'c'.repeat(64), model: 'gpt-4o-mini', ...(query ? { query } : {}) });

test('a plain request keeps the partition of earlier versions', () => {
  const before = createHash('sha256').update(['v1', 'https://api.openai.com/v1', 'c'.repeat(64), 'openai.chat', 'gpt-4o-mini'].join('\n')).digest('hex');
  assert.equal(partitionKey(request(openaiRoute)), before);
  assert.equal(answerChangingHeaders({}), 'anthropic-version:\nanthropic-beta:');
});

test('the query string, and Azure deployment and API version, each make another partition', () => {
  const keys = [
    partitionKey(request(openaiRoute)),
    partitionKey(request(openaiRoute, 'api-version=2025-01-01')),
    partitionKey(request(openaiRoute, 'api-version=2024-10-21')),
    partitionKey(request(azureRoute(undefined, '2024-10-21'))),
    partitionKey(request(azureRoute('gpt-4o-mini', '2024-10-21'))),
    partitionKey(request(azureRoute('o3-deployment', '2024-10-21'))),
    partitionKey(request(azureRoute('o3-deployment', '2025-01-01'))),
  ];
  assert.equal(new Set(keys).size, keys.length);
});

test("OpenAI's organisation, project and beta opt-ins change the answer-changing headers only when sent", () => {
  const texts = [
    answerChangingHeaders({}),
    answerChangingHeaders({ 'openai-organization': 'org-a' }),
    answerChangingHeaders({ 'openai-organization': 'org-b' }),
    answerChangingHeaders({ 'openai-project': 'proj-a' }),
    answerChangingHeaders({ 'openai-beta': 'responses=v1' }),
    answerChangingHeaders({ 'openai-beta': 'responses=experimental' }),
  ];
  assert.equal(new Set(texts).size, texts.length);
});
