// The savings panel in a real browser (Debian's Chromium through playwright-core): the bundled
// webview under the exact CSP the extension sends, talking the typed protocol to a test "host".
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { LedgerRecord, LedgerTotals } from '../../src/core/ledger-types';
import { panelHtml } from '../../src/extension/panelHtml';
import type { IpcMessage, PanelSnapshot } from '../../webview/protocol';
import { ClearCacheCommand, emptySummary, GetSnapshotRequest, ResponseMethod, SetLayerCommand, SnapshotNotification } from '../../webview/protocol';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const totals = (requests: number, deflected: number, savedTokens: number, savedUsd: number): LedgerTotals => ({ requests, deflected, inputTokens: requests * 900, outputTokens: requests * 120, savedTokens, savedUsd, failed: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 });

function record(minutesAgo: number, layer: LedgerRecord['layer'], tool: string, model: string): LedgerRecord {
  return { time: Date.UTC(2026, 10, 24, 15, 0) - minutesAgo * 60_000, tool, routeId: 'r', api: 'openai.chat', model, layer, status: 200, inputTokens: 900, outputTokens: 120, cachedInputTokens: 0, latencyMs: layer === 'l3' ? 812.4 : 3.2, savedTokens: layer === 'l3' ? 0 : 1020, savedUsd: layer === 'l3' ? 0 : 0.004, estimated: false };
}

function snapshot(): PanelSnapshot {
  const summary = emptySummary();
  summary.totals = totals(27, 10, 15_000, 4.12);
  summary.byLayer = { l1a: totals(8, 8, 12_000, 3.5), l1b: totals(2, 2, 3000, 0.62), l3: totals(17, 0, 0, 0) };
  summary.byTool = { continue: totals(20, 9, 14_000, 4), 'claude-code': totals(7, 1, 1000, 0.12) };
  summary.byModel = { 'gpt-4o': totals(20, 9, 14_000, 4), 'claude-sonnet-4-20250514': totals(7, 1, 1000, 0.12) };
  summary.byDayLayer = { '2026-11-23': { l1a: totals(3, 3, 0, 0), l3: totals(9, 0, 0, 0) }, '2026-11-24': { l1a: totals(5, 5, 0, 0), l1b: totals(2, 2, 0, 0), l3: totals(8, 0, 0, 0) } };
  summary.recent = [record(1, 'l1a', 'continue', 'gpt-4o'), record(3, 'l3', 'claude-code', 'claude-sonnet-4-20250514'), record(9, 'l1b', 'continue', 'gpt-4o')];
  return {
    state: 'on',
    enabled: true,
    proxyUrl: 'http://127.0.0.1:8787',
    summary,
    spentUsd: 1.37,
    disconnected: [],
    layers: [
      { name: 'exact', label: 'L1a exact cache', enabled: true, detail: '812 entries' },
      { name: 'semantic', label: 'L1b semantic cache', enabled: true },
      { name: 'local', label: 'L2 local model', enabled: false, detail: 'idle: no model configured' },
      { name: 'optimiser', label: 'L2.5 optimiser', enabled: true },
    ],
    cache: { entries: 812, bytes: 3_400_000 },
  };
}

describe('savings panel in Chromium', () => {
  let browser: Browser;
  let bundleDir: string;
  let server: ReturnType<typeof createServer>;
  let origin: string;

  before(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'isartor-webview-'));
    // Built exactly as scripts/build.mjs does, from the current sources.
    await build({ entryPoints: ['webview/main.ts'], outfile: join(bundleDir, 'webview.js'), bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'silent' });
    await build({ entryPoints: ['webview/styles.css'], outfile: join(bundleDir, 'webview.css'), bundle: true, logLevel: 'silent' });
    server = createServer((req, res) => {
      void (async () => {
        if (req.url === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(panelHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview.js`, styleUri: `${origin}/dist/webview.css`, title: 'Isartor Savings' }));
        } else if (req.url === '/dist/webview.js' || req.url === '/dist/webview.css') {
          const file = req.url.slice('/dist/'.length);
          res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
          res.end(await readFile(join(bundleDir, file)));
        } else {
          res.writeHead(404).end();
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await rm(bundleDir, { recursive: true, force: true });
  });

  /** Opens the panel at `width`, with a stand-in for VS Code's webview API that records what the panel sends. */
  async function openPanel(width: number): Promise<{ page: Page; violations: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
    // A string, not a function: tsx's transform would add helpers the page does not have.
    await page.addInitScript(`
      window.__sent = [];
      document.addEventListener('securitypolicyviolation', (event) => window.__sent.push({ violation: event.violatedDirective + ' ' + event.blockedURI }));
      window.acquireVsCodeApi = () => ({ postMessage: (message) => window.__sent.push(message), getState: () => undefined, setState: () => undefined });
    `);
    await page.goto(`${origin}/`);
    return { page, violations };
  }

  /** Set ISARTOR_PANEL_SCREENSHOTS=DIR to look at the rendering; otherwise nothing is written. */
  async function saveScreenshot(page: Page, name: string): Promise<void> {
    const dir = process.env.ISARTOR_PANEL_SCREENSHOTS;
    if (dir) await page.screenshot({ path: join(dir, name), fullPage: true });
  }

  const sent = (page: Page): Promise<(IpcMessage & { violation?: string })[]> => page.evaluate(() => (window as unknown as { __sent: (IpcMessage & { violation?: string })[] }).__sent);
  const deliver = (page: Page, message: IpcMessage): Promise<void> => page.evaluate((data) => window.dispatchEvent(new MessageEvent('message', { data })), message as unknown as Record<string, unknown>).then(() => undefined);

  /** Answers the panel's first request the way the host does. */
  async function answerSnapshot(page: Page, value: PanelSnapshot): Promise<void> {
    await page.waitForFunction(() => (window as unknown as { __sent: { method?: string }[] }).__sent.some((m) => m.method === 'isartor/getSnapshot'));
    const request = (await sent(page)).find((message) => message.method === GetSnapshotRequest.method)!;
    await deliver(page, { id: 'host-1', method: ResponseMethod, completionId: request.id, params: { ok: true, value } });
    await page.waitForSelector('.card-value');
  }

  it('renders totals, charts, tables and switches under the strict CSP', async () => {
    const { page, violations } = await openPanel(1000);
    await answerSnapshot(page, snapshot());
    const cards = await page.locator('.card-value').allTextContents();
    assert.deepEqual(cards, ['27', '10', '$4.12', '$1.37']);
    assert.deepEqual(await page.locator('.card-note').allTextContents(), ['37% local · 10 of 27 answered requests', '15.0k tokens', '75% of the bill saved']);
    // The optimiser answers nothing itself; its row shows the saving booked on the cloud requests.
    assert.match((await page.locator('#layer-optimiser').locator('xpath=../..').locator('.switch-figures').textContent()) ?? '', /on 17 cloud requests · 0 tokens · \$0\.00 net of cache writes/);
    assert.match(await page.locator('#header').innerText(), /On/);
    assert.match(await page.locator('#cache-size').innerText(), /812 entries · 3\.2 MB/);
    assert.match(await page.locator('#tools').innerText(), /continue\s+20\s+45%\s+14\.0k\s+\$4\.00/);
    assert.match(await page.locator('#models').innerText(), /claude-sonnet-4-20250514/);
    assert.equal(await page.locator('#recent tbody tr').count(), 3);
    assert.equal(await page.locator('#layer-local').isChecked(), false);
    assert.match(await page.locator('#timeline h2').innerText(), /by day/i);
    // chart.js drew on both canvases: some pixel is not transparent.
    const painted = await page.$$eval('canvas', (canvases) =>
      canvases.map((canvas) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      }),
    );
    assert.deepEqual(painted, [true, true]);
    assert.deepEqual(violations, []);
    assert.deepEqual((await sent(page)).filter((message) => message.violation), []);
    await saveScreenshot(page, 'panel-wide.png');
    await page.close();
  });

  it('stays usable at 300 px: no page-wide horizontal scroll, tables scroll inside their box', async () => {
    const { page, violations } = await openPanel(300);
    await answerSnapshot(page, snapshot());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page overflows by ${overflow}px`);
    const toggle = page.locator('#toggle-enabled');
    assert.ok(await toggle.isVisible());
    const box = await page.locator('#timeline canvas').boundingBox();
    assert.ok(box && box.width > 200 && box.width <= 300, `chart width ${box?.width}`);
    assert.deepEqual(violations, []);
    await saveScreenshot(page, 'panel-300px.png');
    await page.close();
  });

  it('sends typed commands for the Clear button and the layer switches, and applies live snapshots', async () => {
    const { page } = await openPanel(800);
    await answerSnapshot(page, snapshot());
    await page.click('#clear-cache');
    await page.click('#layer-semantic');
    const commands = (await sent(page)).filter((message) => message.method !== GetSnapshotRequest.method);
    assert.deepEqual(
      commands.map((message) => [message.method, message.params]),
      [
        [ClearCacheCommand.method, {}],
        [SetLayerCommand.method, { layer: 'semantic', enabled: false }],
      ],
    );
    const next = snapshot();
    next.summary.totals = totals(28, 11, 16_020, 4.124);
    next.state = 'off';
    next.cache = null;
    await deliver(page, { id: 'host-2', method: SnapshotNotification.method, params: next });
    await page.waitForFunction(() => document.body.dataset.requests === '28');
    assert.deepEqual(await page.locator('.card-value').allTextContents(), ['28', '11', '$4.12', '$1.37']);
    assert.equal(await page.locator('#clear-cache').isDisabled(), true);
    assert.match(await page.locator('#header').innerText(), /Off/);
    await page.close();
  });
});
