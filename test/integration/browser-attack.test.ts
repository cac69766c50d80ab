/**
 * A real Chromium page on another loopback address (http://127.0.0.2:PORT) tries every way a web
 * page has to reach `isartor serve` while OPENAI_API_KEY is configured: a sandboxed iframe (Origin
 * null), a text/plain form post, a no-cors fetch and a normal cross-origin fetch. The fake upstream,
 * which would answer with `access-control-allow-origin: *`, must receive nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';

const CHROMIUM_BIN = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');

let fake: FakeUpstream;
let dataDir: string;
let serve: ChildProcess;
let proxyUrl: string;
let page: Server;
let pageUrl: string;
let browser: Browser;

/** The attacker's page: four attempts, each reporting what it could see into window.results. */
function attackPage(target: string): string {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'spend the key' }] });
  // text/plain form encoding sends "name=value": the name carries the JSON up to a padding field.
  const formName = body.slice(0, -1) + ',"pad":"';
  const iframeScript = `fetch(${JSON.stringify(`${target}/v1/chat/completions`)}, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body)} })
    .then((r) => r.text()).then((t) => parent.postMessage({ sandboxed: 'read: ' + t }, '*'), (e) => parent.postMessage({ sandboxed: 'blocked: ' + e }, '*'));`;
  return `<!doctype html><meta charset="utf-8"><body>
<script>
window.results = {};
addEventListener('message', (event) => Object.assign(window.results, event.data));
const target = ${JSON.stringify(target)};
const body = ${JSON.stringify(body)};
fetch(target + '/v1/chat/completions', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body })
  .then((r) => { window.results.noCors = 'opaque ' + r.type; }, (e) => { window.results.noCors = 'blocked: ' + e; });
fetch(target + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  .then((r) => r.text()).then((t) => { window.results.cors = 'read: ' + t; }, (e) => { window.results.cors = 'blocked: ' + e; });
fetch(target + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'text/plain' }, body })
  .then((r) => r.text()).then((t) => { window.results.simple = 'read: ' + t; }, (e) => { window.results.simple = 'blocked: ' + e; });
</script>
<iframe sandbox="allow-scripts" srcdoc="${`<script>${iframeScript}</script>`.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"></iframe>
<iframe name="formTarget" id="formTarget"></iframe>
<form id="form" method="POST" enctype="text/plain" action="${target}/v1/chat/completions" target="formTarget">
  <input type="hidden" name="${formName.replace(/"/g, '&quot;')}" value='"}'>
</form>
<script>
document.getElementById('formTarget').addEventListener('load', () => { window.results.form = 'submitted'; }, { once: true });
document.getElementById('form').submit();
</script>
</body>`;
}

before(async () => {
  if (!existsSync(CHROMIUM_BIN)) {
    // Fail, never skip: this is the only test that proves a real browser cannot spend the key.
    throw new Error(`Chromium is missing at ${CHROMIUM_BIN}; install it with: apt-get install -y chromium`);
  }
  fake = await startFakeUpstream();
  fake.respondWith(() => ({ headers: { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' } }));
  dataDir = await mkdtemp(join(tmpdir(), 'isartor-browser-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: 'sk-configured-key-a-page-must-never-spend' };
  for (const name of ['ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_HOST']) delete env[name];
  serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: serve.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  proxyUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
  page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(attackPage(proxyUrl));
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.2', resolve));
  pageUrl = `http://127.0.0.2:${(page.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await once(serve, 'exit');
  }
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a page on 127.0.0.2 cannot get a single request to the upstream, nor read an answer', async () => {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => {
      const results = (window as unknown as { results: Record<string, string> }).results;
      return ['noCors', 'cors', 'simple', 'sandboxed', 'form'].every((key) => key in results);
    }, undefined, { timeout: 20_000 });
    const results = await tab.evaluate(() => (window as unknown as { results: Record<string, string> }).results);
    // Let anything still in flight arrive before counting.
    await fetch(`${proxyUrl}/healthz`);
    assert.deepEqual(fake.requests.map((request) => request.url), [], `the upstream saw requests; the page saw ${JSON.stringify(results)}`);
    assert.match(results.cors!, /^blocked/, 'the preflighted fetch could not read an answer');
    assert.match(results.simple!, /^blocked/, 'the text/plain fetch could not read an answer');
    assert.match(results.sandboxed!, /^blocked/, 'the sandboxed iframe could not read an answer');
    assert.equal(results.form, 'submitted', 'the form post did go out (and was refused)');
    assert.match(results.noCors!, /^opaque/, 'the no-cors fetch went out (and was refused)');
  } finally {
    await context.close();
  }
});
