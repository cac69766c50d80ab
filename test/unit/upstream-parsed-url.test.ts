import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { errors } from 'undici';
import { parseUpstreamUrl } from '../../src/core/upstream/parsedUrl';
import { loadUndici } from '../../src/core/upstream/undici';

// The client loads undici before it parses a URL; so does this test.
before(async () => {
  await loadUndici();
});

/** How undici's top-level `request(url)` splits a URL string (undici/index.js, makeDispatcher). */
function undiciSplit(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname };
}

test('upstream URLs split into the origin and path undici would send, whether parsed afresh or remembered', () => {
  const urls = [
    'http://127.0.0.1:8080/v1/chat/completions',
    'https://api.openai.com/v1/responses?beta=true',
    'https://api.anthropic.com/v1/messages?',
    'https://example.openai.azure.com/openai/deployments/gpt%204o/chat/completions?api-version=2024-10-21',
    'http://[::1]:9000/a/../b/./c?x=1&y=%20',
    'HTTPS://Example.COM:443/Path',
  ];
  for (let round = 0; round < 2; round++) {
    for (const url of urls) assert.deepEqual(parseUpstreamUrl(url), undiciSplit(url), url);
  }
});

test('an encoded dot segment (an Azure deployment named "." or "..") is not resolved as a step up the path', () => {
  const base = 'https://res.openai.azure.com/openai/deployments';
  for (const dots of ['%2E%2E', '%2e', '.%2E', '%2E.']) {
    const url = `${base}/${dots}/chat/completions?api-version=2024-10-21`;
    assert.deepEqual(parseUpstreamUrl(url), { origin: 'https://res.openai.azure.com', path: `/openai/deployments/${dots}/chat/completions?api-version=2024-10-21` }, url);
  }
  // Literal dot segments and encoded dots within a name are still what undici would send.
  assert.equal(parseUpstreamUrl(`${base}/a%2Eb/../x`).path, '/openai/deployments/x');
});

test('an invalid upstream URL fails as undici fails it', () => {
  assert.throws(() => parseUpstreamUrl('not a url'), { code: 'ERR_INVALID_URL' });
  assert.throws(() => parseUpstreamUrl('ftp://example.com/v1'), errors.InvalidArgumentError);
});
