/**
 * Issue 13.4: the savings panel and the Savings side-bar view, with real numbers, in Dark Modern
 * and Light Modern switched live, the side bar at its default ~300 px width. Screenshots go to
 * test/e2e/artifacts/ (savings-panel-dark.png, savings-panel-light.png, savings-panel-hc-dark.png,
 * savings-panel-hc-light.png, savings-sidebar-dark.png, savings-sidebar-light.png) and are looked at
 * by a person; the test checks what can be measured: no sideways scrolling, the Saved, Tokens and
 * Layer columns visible, the panel's body taking the new theme's class when the theme changes, and
 * WCAG AA contrast of the colours the webview actually paints in all four default themes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { FrameLocator } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { contrastRatio } from '../../src/shared/layerColours';
import { freePort } from './freePort';
import { startSession, type E2eSession } from './harness';
import { ensureIsartorVsix } from './vsix';

const STATUS_ID = 'isartor.status';
const PROVIDER = 'fake-openai';
const STEP_TIMEOUT_MS = 240_000;

let session: E2eSession;
let fake: FakeUpstream;
let proxyUrl = '';

/** Picks a colour theme with "Preferences: Color Theme", as a user does; VS Code applies it live. */
async function switchTheme(theme: string, bodyClass: string, frame: FrameLocator): Promise<void> {
  const page = session.page;
  await session.runCommand('Preferences: Color Theme');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(theme);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ state: 'visible' });
  await input.press('Enter');
  await frame.locator(`body.${bodyClass}`).waitFor({ state: 'attached', timeout: 60_000 });
  // chart.js rebuilds on the class change; give it a frame.
  await page.waitForTimeout(500);
}

/** What the webview paints, read from its DOM and canvas pixels: the colours as the theme applied them. */
interface PaintedColours {
  background: string;
  /** Body text and each layer tag in the tables (#rrggbb). */
  texts: { what: string; colour: string }[];
  /** Opaque colours covering at least 80 pixels of a chart canvas (bars, arcs, legend boxes). */
  graphics: { what: string; colour: string }[];
}

async function paintedColours(frame: FrameLocator): Promise<PaintedColours> {
  // tsx compiles the named helpers below with esbuild's keepNames, which wraps them in __name();
  // the page has no such helper, so give it a pass-through one first.
  // (As a string: a function here would itself be wrapped.)
  await frame.locator('body').evaluate('globalThis.__name = (fn) => fn');
  return frame.locator('body').evaluate((body) => {
    const hex = (r: number, g: number, b: number): string => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    const parse = (css: string): string => {
      const [r, g, b, a] = (/rgba?\(([^)]+)\)/.exec(css)?.[1] ?? '').split(/[\s,/]+/).filter(Boolean).map(Number);
      if (r === undefined || g === undefined || b === undefined || (a !== undefined && a < 1)) throw new Error(`not an opaque colour: ${css}`);
      return hex(r, g, b);
    };
    const texts = [{ what: 'body text', colour: parse(getComputedStyle(body).color) }];
    for (const tag of Array.from(body.querySelectorAll('.layer'))) texts.push({ what: `layer tag ${tag.className}`, colour: parse(getComputedStyle(tag).color) });
    const graphics: { what: string; colour: string }[] = [];
    for (const canvas of Array.from(body.querySelectorAll('canvas'))) {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const counts = new Map<string, number>();
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] !== 255) continue;
        const colour = hex(pixels[i]!, pixels[i + 1]!, pixels[i + 2]!);
        counts.set(colour, (counts.get(colour) ?? 0) + 1);
      }
      for (const [colour, count] of counts) if (count >= 80) graphics.push({ what: `${canvas.getAttribute('aria-label') ?? 'chart'} (${count} px)`, colour });
    }
    return { background: parse(getComputedStyle(body).backgroundColor), texts, graphics };
  });
}

/** WCAG AA: 4.5:1 for text, 3:1 for graphics, against the background the webview paints. */
function assertContrast(theme: string, painted: PaintedColours): string {
  assert.ok(painted.texts.length > 1, `${theme}: layer tags are on screen`);
  assert.ok(painted.graphics.length >= 2, `${theme}: the charts painted their layers (${JSON.stringify(painted.graphics)})`);
  const failures = [
    ...painted.texts.filter((text) => contrastRatio(text.colour, painted.background) < 4.5).map((text) => ({ ...text, need: 4.5 })),
    ...painted.graphics.filter((graphic) => contrastRatio(graphic.colour, painted.background) < 3).map((graphic) => ({ ...graphic, need: 3 })),
  ].map((failure) => `${failure.what} ${failure.colour} on ${painted.background}: ${contrastRatio(failure.colour, painted.background).toFixed(2)}:1 < ${failure.need}:1`);
  assert.deepEqual(failures, [], `${theme}: colours below WCAG AA`);
  const lowest = (colours: { colour: string }[]): string => Math.min(...colours.map((entry) => contrastRatio(entry.colour, painted.background))).toFixed(2);
  return `${theme} on ${painted.background}: lowest text ${lowest(painted.texts)}:1 (${painted.texts.length}), lowest graphic ${lowest(painted.graphics)}:1 (${painted.graphics.length})`;
}

/** The visible webview's content frame (only one is visible at a time in these steps). */
function visibleWebview(): FrameLocator {
  return session.page.frameLocator('iframe.webview.ready:visible').first().frameLocator('#active-frame');
}

before(
  async () => {
    fake = await startFakeUpstream();
    const port = await freePort();
    proxyUrl = `http://127.0.0.1:${port}`;
    session = await startSession({
      name: 'savings-views',
      vsixFiles: [ensureIsartorVsix()],
      userSettings: {
        'isartor.port': port,
        'isartor.providers': [{ name: PROVIDER, kind: 'openai', baseUrl: fake.openaiBase }],
        'workbench.colorTheme': 'Default Dark Modern',
      },
    });
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield' });
    await session.runCommand('Isartor: Set Provider API Key');
    await session.pickQuickPickItem(PROVIDER);
    await session.submitInputBox(`API key for ${PROVIDER}`, 'sk-e2e-provider-0123456789abcdef');
    await session.waitForNotification(`key for ${PROVIDER} stored`, { failOn: /Isartor/ });
    await session.runCommand('Isartor: Enable');
    await session.waitForNotification(/Isartor is on/, { failOn: /Isartor/ });
    const client = new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: 'sk-e2e-client-0123456789', maxRetries: 0 });
    for (const [model, question, times] of [
      ['gpt-4o', 'Explain what a closure is in JavaScript, briefly.', 3],
      ['gpt-4o-mini', 'What does git rebase do?', 2],
      ['gpt-4o', 'How do I read a file line by line in Python?', 1],
    ] as const) {
      for (let i = 0; i < times; i++) await client.chat.completions.create({ model, messages: [{ role: 'user', content: question }] });
    }
    await session.runCommand('Notifications: Clear All Notifications');
  },
  { timeout: 600_000 },
);

after(async () => {
  await session?.close();
  await fake?.close();
});

void test('the status bar says what it counts', { timeout: STEP_TIMEOUT_MS }, async () => {
  // Redraws are throttled, so wait for the figures of the requests sent before.
  const status = await session.waitForStatusBar(STATUS_ID, { matches: /^(\$[\d.]+[kM]?|<\$0\.01) saved · 50% local$/ });
  assert.ok(!status.icons.includes('warning'), status.text);
});

void test('the editor panel in Dark Modern and Light Modern (live switch)', { timeout: STEP_TIMEOUT_MS }, async () => {
  await session.runCommand('Isartor: Show Savings');
  const frame = await session.webviewFrame('Isartor Savings');
  await frame.getByText('Spent in the cloud', { exact: true }).waitFor({ state: 'visible' });
  await session.screenshot('savings-panel-dark');
  await switchTheme('Light Modern', 'vscode-light', frame);
  await session.screenshot('savings-panel-light');
  await switchTheme('Dark Modern', 'vscode-dark', frame);
  await session.runCommand('View: Close All Editors');
});

void test('the editor panel meets WCAG AA in Dark Modern, Light Modern and both High Contrast themes', { timeout: STEP_TIMEOUT_MS }, async (t) => {
  await session.runCommand('Isartor: Show Savings');
  const frame = await session.webviewFrame('Isartor Savings');
  await frame.getByText('Spent in the cloud', { exact: true }).waitFor({ state: 'visible' });
  for (const [theme, bodyClass, shot] of [
    ['Dark High Contrast', 'vscode-high-contrast', 'savings-panel-hc-dark'],
    ['Light High Contrast', 'vscode-high-contrast-light', 'savings-panel-hc-light'],
    ['Light Modern', 'vscode-light', undefined],
    ['Dark Modern', 'vscode-dark', undefined],
  ] as const) {
    await switchTheme(theme, bodyClass, frame);
    if (shot) await session.screenshot(shot);
    t.diagnostic(assertContrast(theme, await paintedColours(frame)));
  }
  await session.runCommand('View: Close All Editors');
});

void test('the Savings side-bar view at its default width keeps the Saved, Tokens and Layer columns', { timeout: STEP_TIMEOUT_MS }, async () => {
  await session.page.locator('.activitybar .action-item a[aria-label^="Isartor"]').first().click();
  const frame = visibleWebview();
  await frame.getByText('Spent in the cloud', { exact: true }).waitFor({ state: 'visible', timeout: 60_000 });
  const sideBar = session.page.locator('.part.sidebar').first();
  const width = (await sideBar.boundingBox())?.width ?? 0;
  assert.ok(width > 0 && width <= 320, `side bar ~300 px wide (${width})`);
  for (const [name, bodyClass] of [['dark', 'vscode-dark'], ['light', 'vscode-light']] as const) {
    if (name === 'light') await switchTheme('Light Modern', bodyClass, frame);
    await session.screenshot(`savings-sidebar-${name}`, sideBar);
    const overflow = await frame.locator('html').evaluate((root) => root.scrollWidth - root.clientWidth);
    assert.ok(overflow <= 1, `no sideways scrolling in the side bar (${overflow}px)`);
    for (const section of ['#tools', '#models', '#recent']) {
      const headers = await frame.locator(`${section} th`).evaluateAll((cells) =>
        cells.filter((cell) => getComputedStyle(cell).display !== 'none' && cell.getBoundingClientRect().right <= document.documentElement.clientWidth + 1).map((cell) => cell.textContent),
      );
      assert.ok(headers.includes('Saved') && headers.includes('Tokens'), `${section} shows Saved and Tokens: ${headers.join(', ')}`);
      if (section === '#recent') assert.ok(headers.includes('Layer'), `${section} shows Layer: ${headers.join(', ')}`);
    }
    // The tables, further down the view.
    await frame.locator('#tools').evaluate((element) => element.scrollIntoView());
    await session.screenshot(`savings-sidebar-${name}-tables`, sideBar);
    await frame.locator('html').evaluate((root) => root.scrollTo(0, 0));
  }
});

void test('with Isartor off the panel still shows the history recorded on disk', { timeout: STEP_TIMEOUT_MS }, async () => {
  await session.runCommand('Isartor: Disable');
  await session.waitForNotification(/Isartor is off/, { failOn: /Isartor/ });
  await session.runCommand('Isartor: Show Savings');
  const frame = await session.webviewFrame('Isartor Savings');
  await frame.getByText('Isartor is off; these are the figures recorded so far.').waitFor({ state: 'visible', timeout: 60_000 });
  const requests = frame.getByText('Requests', { exact: true }).first().locator('..').locator('.card-value');
  assert.equal(await requests.textContent(), '6');
  await session.screenshot('savings-panel-off');
});
