/**
 * The browser savings page of `isartor serve` (src/proxy/savingsPage.ts) in real Chromium: the built
 * CLI serves the VS Code panel's bundle at /isartor/, it updates live as the official OpenAI SDK
 * sends requests, its layer switch and Clear button drive the proxy, and pages on other origins
 * (another loopback address, another port of 127.0.0.1) can neither read it nor drive it.
 * Needs `node scripts/build.mjs` first (the integration tier runs it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import type { PanelSnapshot } from '../../webview/protocol';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'isartor.js');
const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[name];
  return env;
}

/** The first `count` lines the server prints on stdout. */
async function startLines(child: ChildProcess, count: number): Promise<string[]> {
  const lines = createInterface({ input: child.stdout! });
  const seen: string[] = [];
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`isartor exited with ${code} before it was ready`);
  });
  const ready = new Promise<string[]>((resolve) => {
    lines.on('line', (line) => {
      seen.push(line);
      if (seen.length === count) resolve(seen);
    });
  });
  return Promise.race([ready, exited]);
}

/** A page another origin serves: it tries to read and drive the savings page and reports what it got. */
function attackerPage(target: string, token: string): string {
  return `<!DOCTYPE html><html><body><script>
const target = ${JSON.stringify(target)};
const token = ${JSON.stringify(token)};
async function attempt(name, run) {
  try { return [name, await run()]; } catch (error) { return [name, 'blocked: ' + error.name]; }
}
window.results = Promise.all([
  attempt('read page', async () => (await fetch(target + '/isartor/')).status),
  attempt('read stats', async () => (await fetch(target + '/isartor/stats')).status),
  attempt('post json', async () => (await fetch(target + '/isartor/command', { method: 'POST', headers: { 'content-type': 'application/json', 'x-isartor-token': token }, body: JSON.stringify({ id: 'a1', method: 'isartor/setLayer', params: { layer: 'exact', enabled: false } }) })).status),
  attempt('post simple', async () => (await fetch(target + '/isartor/command', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ id: 'a2', method: 'isartor/clearCache', params: {} }) })).type),
  attempt('post form', async () => (await fetch(target + '/isartor/command', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ id: 'a3', method: 'isartor/setLayer', params: { layer: 'exact', enabled: false } }) })).type),
  attempt('events', () => new Promise((resolve) => {
    const events = new EventSource(target + '/isartor/events?token=' + encodeURIComponent(token));
    events.addEventListener('snapshot', (event) => { events.close(); resolve('read: ' + event.data.slice(0, 20)); });
    events.onerror = () => { events.close(); resolve('blocked'); };
  })),
]).then(Object.fromEntries);
</script></body></html>`;
}

describe('savings page of isartor serve in Chromium', () => {
  let fake: FakeUpstream;
  let dataDir: string;
  let child: ChildProcess;
  let stderr = '';
  let proxyUrl: string;
  let pageUrl: string;
  let browser: Browser;
  let client: OpenAI;

  before(async () => {
    fake = await startFakeUpstream();
    dataDir = await mkdtemp(join(tmpdir(), 'isartor-page-'));
    child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--upstream', fake.openaiBase], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [listening, page] = await startLines(child, 2);
    proxyUrl = /^isartor listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(listening!)![1]!;
    pageUrl = /^isartor savings page: (\S+)$/.exec(page!)![1]!;
    client = new OpenAI({ apiKey: 'sk-page-test-key-0001', baseURL: `${proxyUrl}/v1`, maxRetries: 0 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await once(child, 'exit');
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The snapshot as the page itself fetches it: same origin, with its token. */
  async function snapshotFrom(page: Page): Promise<PanelSnapshot> {
    return page.evaluate(async () => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="isartor-token"]')!.content;
      const response = await fetch('/isartor/command', { method: 'POST', headers: { 'content-type': 'application/json', 'x-isartor-token': token }, body: JSON.stringify({ id: 't1', method: 'isartor/getSnapshot', params: {} }) });
      return ((await response.json()) as { params: { value: PanelSnapshot } }).params.value;
    });
  }

  it('names its URL at start, loads under its CSP, updates live and drives the proxy', async () => {
    assert.equal(pageUrl, `${proxyUrl}/isartor/`);
    const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(pageUrl);
    await page.waitForSelector('body[data-requests="0"]');
    assert.equal(await page.textContent('h1'), 'Isartor Savings');
    // The editor-only buttons (Enable/Disable, Show Log) are not offered in a browser.
    assert.equal(await page.isVisible('#toggle-enabled'), false);
    // Dark system setting → the dark theme variables reach the panel's stylesheet.
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(31, 31, 31)');

    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'what does the savings page show?' }] };
    await client.chat.completions.create(request);
    await page.waitForSelector('body[data-requests="1"]');
    const repeat = await client.chat.completions.create(request).withResponse();
    assert.equal(repeat.response.headers.get('x-isartor-layer'), 'l1a');
    await page.waitForSelector('body[data-requests="2"]');
    await page.waitForFunction(() => document.querySelector('#recent')?.textContent?.includes('L1a'));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'savings-page-dark.png'), fullPage: true });

    // The exact-cache switch turns L1a off in the running proxy: L1a no longer answers the repeat.
    assert.equal(await page.isChecked('#layer-exact'), true);
    await page.uncheck('#layer-exact');
    await page.waitForFunction(() => !(document.querySelector('#layer-exact') as HTMLInputElement).checked);
    assert.equal((await snapshotFrom(page)).layers.find((layer) => layer.name === 'exact')?.enabled, false);
    const offRepeat = await client.chat.completions.create(request).withResponse();
    assert.notEqual(offRepeat.response.headers.get('x-isartor-layer'), 'l1a');
    await page.check('#layer-exact');
    await page.waitForFunction(() => (document.querySelector('#layer-exact') as HTMLInputElement).checked);

    // Clear empties the caches: the repeat goes upstream again.
    assert.ok(((await snapshotFrom(page)).cache?.entries ?? 0) > 0);
    await page.click('#clear-cache');
    await page.waitForFunction(() => document.querySelector('#cache-size')?.textContent?.startsWith('0 entries'));
    const afterClear = await client.chat.completions.create(request).withResponse();
    assert.equal(afterClear.response.headers.get('x-isartor-layer'), 'l3');
    assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    // Same origin but without the token: refused.
    const tokenless = await page.evaluate(async () => (await fetch('/isartor/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', method: 'isartor/clearCache', params: {} }) })).status);
    assert.equal(tokenless, 403);
    await context.close();

    const light = await browser.newContext({ colorScheme: 'light', viewport: { width: 1100, height: 900 } });
    const lightPage = await light.newPage();
    await lightPage.goto(pageUrl);
    await lightPage.waitForSelector('body[data-requests="4"]');
    assert.equal(await lightPage.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
    await lightPage.screenshot({ path: join(ARTIFACTS, 'savings-page-light.png'), fullPage: true });
    await light.close();
  });

  it('serve --open hands the page URL to the system opener', async () => {
    // A stand-in xdg-open first on PATH records what it was asked to open.
    const fakeBin = join(dataDir, 'fake-bin');
    const opened = join(dataDir, 'opened.txt');
    await mkdir(fakeBin, { recursive: true });
    await writeFile(join(fakeBin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const env = { ...cleanEnv(), PATH: `${fakeBin}:${process.env.PATH ?? ''}` };
    const serve = spawn(process.execPath, [BIN, 'serve', '--open', '--port', '0', '--data-dir', join(dataDir, 'open'), '--upstream', fake.openaiBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [, line] = await startLines(serve, 2);
      const url = /^isartor savings page: (\S+)$/.exec(line!)![1]!;
      for (let waited = 0; !existsSync(opened) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await readFile(opened, 'utf8'), url);
    } finally {
      serve.kill('SIGTERM');
      if (serve.exitCode === null) await once(serve, 'exit');
    }
  });

  it('a page on another origin can neither read it nor switch a layer or clear the cache', async () => {
    // The real token, as if it had leaked: the origin checks alone must keep foreign pages out.
    const context = await browser.newContext();
    const own = await context.newPage();
    await own.goto(pageUrl);
    const token = await own.evaluate(() => document.querySelector<HTMLMetaElement>('meta[name="isartor-token"]')!.content);
    const before = await snapshotFrom(own);
    assert.ok((before.cache?.entries ?? 0) > 0, 'something in the cache to protect');

    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage(proxyUrl, token));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const attackerPort = (attacker.address() as AddressInfo).port;
    // Linux answers the whole 127/8 on the loopback interface.
    const otherAddress: Server = createServer(attacker.listeners('request')[0] as Parameters<typeof createServer>[0] & object);
    await new Promise<void>((resolve) => otherAddress.listen(attackerPort, '127.0.0.2', resolve));
    try {
      // Another port of 127.0.0.1 (same site, other origin) and another loopback address.
      for (const origin of [`http://127.0.0.1:${attackerPort}`, `http://127.0.0.2:${attackerPort}`]) {
        const page = await context.newPage();
        await page.goto(`${origin}/`);
        const results = (await page.evaluate('window.results')) as Record<string, string | number>;
        for (const [name, outcome] of Object.entries(results)) {
          assert.ok(typeof outcome === 'string' && (outcome.startsWith('blocked') || outcome === 'opaque'), `${origin} ${name}: ${String(outcome)}`);
        }
        await page.close();
      }
      const after = await snapshotFrom(own);
      assert.equal(after.layers.find((layer) => layer.name === 'exact')?.enabled, true, 'no foreign page switched L1a off');
      assert.equal(after.cache?.entries, before.cache?.entries, 'no foreign page cleared the cache');
      // The server logs each action it takes: only the own page's (one clear, two switches) appear.
      assert.equal(stderr.split('savings page: isartor/clearCache').length - 1, 1, stderr);
      assert.equal(stderr.split('savings page: isartor/setLayer').length - 1, 2, stderr);
    } finally {
      attacker.close();
      otherAddress.close();
      await context.close();
    }
  });
});
