/**
 * The savings page's HTTP surface (src/proxy/savingsPage.ts) on an in-process proxy: which calls it
 * refuses and how, without a browser. The Chromium test (savings-page.test.ts) covers the page itself.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, type Stack } from './helpers';

let stack: Stack;
let token: string;

before(async () => {
  stack = await startStack();
  const page = await fetch(`${stack.proxy.url}/isartor/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'.*frame-ancestors 'none'/);
  token = /name="isartor-token" content="([^"]+)"/.exec(await page.text())![1]!;
});
after(async () => {
  await stack?.close();
});

const command = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${stack.proxy.url}/isartor/command`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-isartor-token': token, ...headers }, body });
const setLayer = JSON.stringify({ id: 'a', method: 'isartor/setLayer', params: { layer: 'exact', enabled: false } });

test('the token is random per start and at least 256 bits', () => {
  assert.match(token, /^[A-Za-z0-9_-]{43,}$/);
});

test('calls from another origin or site are refused before the token counts', async () => {
  for (const headers of <Record<string, string>[]>[{ origin: 'http://127.0.0.1:1' }, { origin: 'http://localhost:9' }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'cross-site' }]) {
    const response = await command(setLayer, headers);
    assert.equal(response.status, 403, JSON.stringify(headers));
    // A foreign Origin is refused by the proxy's guard (forbidden_origin) before the page's own check (forbidden).
    assert.match(((await response.json()) as { error: { code: string } }).error.code, /^forbidden(_origin)?$/);
  }
  assert.equal(stack.proxy.stats().layers.exact?.enabled, true);
});

test('a wrong or missing token is refused, for commands and for the event stream', async () => {
  assert.equal((await command(setLayer, { 'x-isartor-token': `${token.slice(0, -1)}x` })).status, 403);
  assert.equal((await fetch(`${stack.proxy.url}/isartor/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: setLayer })).status, 403);
  assert.equal((await fetch(`${stack.proxy.url}/isartor/events?token=nope`)).status, 403);
  assert.equal(stack.proxy.stats().layers.exact?.enabled, true);
});

test('bad bodies get a clear error in the OpenAI shape', async () => {
  const badJson = await command('{not json');
  assert.equal(badJson.status, 400);
  assert.match(((await badJson.json()) as { error: { message: string } }).error.message, /Bad savings page command/);
  assert.equal((await command(JSON.stringify({ id: 'a', method: 'isartor/setLayer', params: { layer: 'upstream', enabled: false } }))).status, 400);
  assert.equal((await command(JSON.stringify({ id: 'a', method: 'isartor/setEnabled', params: { enabled: false } }))).status, 409);
  assert.equal((await command(setLayer, { 'content-type': 'text/plain' })).status, 415);
});

test('with its token and from itself, a switch works and the stream sends snapshots', async () => {
  const response = await command(setLayer, { origin: stack.proxy.url, 'sec-fetch-site': 'same-origin' });
  assert.equal(response.status, 204);
  assert.equal(stack.proxy.stats().layers.exact?.enabled, false);
  const controller = new AbortController();
  const events = await fetch(`${stack.proxy.url}/isartor/events?token=${encodeURIComponent(token)}`, { signal: controller.signal });
  assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = events.body!.getReader();
  let text = '';
  while (!text.includes('\n\n', text.indexOf('event: snapshot'))) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  const data = /event: snapshot\ndata: (.+)\n/.exec(text)![1]!;
  assert.equal((JSON.parse(data) as { layers: { name: string; enabled: boolean }[] }).layers.find((layer) => layer.name === 'exact')?.enabled, false);
});

test('a switch or a clear from the page is announced, so VS Code views refresh (and a repeated switch is not)', async () => {
  let heard = 0;
  const subscription = stack.proxy.onStateChange(() => heard++);
  try {
    const headers = { origin: stack.proxy.url, 'sec-fetch-site': 'same-origin' };
    const enabled = !stack.proxy.stats().layers.exact!.enabled;
    const flip = JSON.stringify({ id: 'b', method: 'isartor/setLayer', params: { layer: 'exact', enabled } });
    assert.equal((await command(flip, headers)).status, 204);
    assert.equal(heard, 1);
    assert.equal((await command(flip, headers)).status, 204);
    assert.equal(heard, 1);
    assert.equal((await command(JSON.stringify({ id: 'c', method: 'isartor/clearCache', params: {} }), headers)).status, 204);
    assert.equal(heard, 2);
  } finally {
    subscription.dispose();
  }
});
