/**
 * `isartor serve --allow-origin ORIGIN` lets a page on that origin use the API from a real browser:
 * Chromium's preflight is answered, the page reads plain and streamed answers and Isartor's
 * headers, and a page on any other origin still gets nothing through (browser-attack.test.ts
 * covers that case without an allowed origin).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const CHROMIUM_BIN = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

interface PageResult {
  status?: number;
  layer?: string | null;
  text?: string;
  error?: string;
}

let fake: FakeUpstream;
let dataDir: string;
let serve: ChildProcess;
let proxyUrl: string;
let allowedPage: Server;
let allowedOrigin: string;
let otherPage: Server;
let otherOrigin: string;
let browser: Browser;

/** A page that asks one question twice (plain), then another streamed, reporting what it could read. */
function clientPage(target: string, question: string): string {
  return `<!doctype html><meta charset="utf-8"><body><script>
window.results = {};
const target = ${JSON.stringify(target)};
const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-the-page-own-key', 'x-stainless-lang': 'js' };
const body = (stream) => JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: ${JSON.stringify(question)} + (stream ? ' Stream it.' : '') }] });
async function ask(name, stream) {
  try {
    const response = await fetch(target + '/v1/chat/completions', { method: 'POST', headers, body: body(stream) });
    window.results[name] = { status: response.status, layer: response.headers.get('x-isartor-layer'), text: await response.text() };
  } catch (error) {
    window.results[name] = { error: String(error) };
  }
}
(async () => {
  await ask('first', false);
  await ask('again', false);
  await ask('streamed', true);
  window.results.done = true;
})();
</script></body>`;
}

function listenPage(host: string, question: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(clientPage(proxyUrl, question));
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, origin: `http://${host}:${(server.address() as AddressInfo).port}` })));
}

async function runPage(origin: string): Promise<Record<string, PageResult>> {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(`${origin}/`);
    await tab.waitForFunction(() => (window as unknown as { results: { done?: boolean } }).results.done === true, undefined, { timeout: 20_000 });
    return await tab.evaluate(() => (window as unknown as { results: Record<string, PageResult> }).results);
  } finally {
    await context.close();
  }
}

/** A raw OPTIONS request, as a browser's preflight sends it. */
function preflight(headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxyUrl}/v1/chat/completions`, { method: 'OPTIONS', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  if (!existsSync(CHROMIUM_BIN)) throw new Error(`Chromium is missing at ${CHROMIUM_BIN}; install it with: apt-get install -y chromium`);
  fake = await startFakeUpstream();
  // A provider's own CORS header must not be what lets the page read the answer.
  fake.respondWith(() => ({ headers: { 'access-control-allow-origin': '*' } }));
  dataDir = await mkdtemp(join(tmpdir(), 'isartor-cors-'));
  // The pages must exist before serve starts (their origins are its arguments); they read proxyUrl
  // only when a browser loads them.
  ({ server: allowedPage, origin: allowedOrigin } = await listenPage('127.0.0.2', 'Which origin may call Isartor?'));
  ({ server: otherPage, origin: otherOrigin } = await listenPage('127.0.0.3', 'Can another origin call Isartor?'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST']) delete env[name];
  serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase, '--allow-origin', `${allowedOrigin}/`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: serve.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  proxyUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
  browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  for (const server of [allowedPage, otherPage]) await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await once(serve, 'exit');
  }
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a page on an allowed origin reads plain and streamed answers and the x-isartor-layer header', async () => {
  fake.reset();
  fake.respondWith(() => ({ headers: { 'access-control-allow-origin': '*' } }));
  const results = await runPage(allowedOrigin);
  assert.equal(results.first?.status, 200, JSON.stringify(results));
  assert.equal(results.first?.layer, 'l3');
  assert.match(results.first!.text!, /Which origin may call Isartor\?/);
  assert.equal(results.again?.layer, 'l1a', 'the repeat came from the exact cache, and the page could read the header saying so');
  assert.equal(JSON.parse(results.again!.text!).choices[0].message.content, JSON.parse(results.first!.text!).choices[0].message.content);
  assert.equal(results.streamed?.status, 200);
  assert.equal(results.streamed?.layer, 'l3');
  assert.match(results.streamed!.text!, /"content":" Stream"/, "the streamed question reached the provider and its answer the page");
  assert.match(results.streamed!.text!, /data: \[DONE\]/);
  // The page's own key went to the provider; the preflights never did.
  const posts = fake.requests.filter((recorded) => recorded.method === 'POST');
  assert.equal(posts.length, 2, 'one plain call and one streamed call reached the provider');
  assert.equal(fake.requests.length, 2, 'no preflight was forwarded');
  assert.ok(posts.every((recorded) => recorded.headers.authorization === 'Bearer sk-the-page-own-key'));
});

test('a page on any other origin still gets nothing through, with no CORS header to read', async () => {
  fake.reset();
  const results = await runPage(otherOrigin);
  for (const name of ['first', 'again', 'streamed']) assert.match(results[name]?.error ?? '', /Failed to fetch/, `${name}: ${JSON.stringify(results[name])}`);
  await fetch(`${proxyUrl}/healthz`);
  assert.deepEqual(fake.requests.map((recorded) => recorded.url), []);
  const refused = await preflight({ origin: otherOrigin, 'access-control-request-method': 'POST' });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
});

test('a preflight is granted only what it asked for, and only header names', async () => {
  const granted = await preflight({
    origin: allowedOrigin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type, x-stainless-os',
    'access-control-request-private-network': 'true',
  });
  assert.equal(granted.status, 204);
  assert.equal(granted.headers['access-control-allow-origin'], allowedOrigin);
  assert.equal(granted.headers['access-control-allow-headers'], 'authorization, content-type, x-stainless-os');
  assert.equal(granted.headers['access-control-allow-private-network'], 'true');
  assert.match(String(granted.headers.vary), /Origin/);
  const odd = await preflight({ origin: allowedOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, <script>' });
  assert.equal(odd.status, 204);
  assert.equal(odd.headers['access-control-allow-headers'], undefined, 'a value that is not a list of header names is not echoed');
  assert.equal(odd.headers['access-control-allow-private-network'], undefined);
});

test('the savings page and its controls get no CORS headers, even for an allowed origin', async () => {
  const page = await fetch(`${proxyUrl}/isartor/`, { headers: { origin: allowedOrigin } });
  await page.arrayBuffer();
  assert.equal(page.headers.get('access-control-allow-origin'), null);
  const stats = await fetch(`${proxyUrl}/isartor/stats`, { headers: { origin: allowedOrigin } });
  await stats.arrayBuffer();
  assert.equal(stats.headers.get('access-control-allow-origin'), null);
});
