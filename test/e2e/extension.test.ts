/**
 * The packaged extension in a real VS Code (code-server 1.117), in the order a new user meets it:
 * Enable rewrites their tool settings, requests flow and the status bar moves, another extension
 * uses the Isartor models through `vscode.lm`, the savings panel fills, and Disable leaves every
 * file exactly as it was. One session for the whole file; a fake OpenAI upstream on loopback
 * stands in for the cloud.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import OpenAI from 'openai';
import type { FrameLocator, Locator } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { waitForFile } from './files';
import { freePort } from './freePort';
import { startSession, type E2eSession } from './harness';
import { LM_CLIENT_DIR } from './paths';
import { ensureIsartorVsix, packExtensionFolder } from './vsix';

const STATUS_ID = 'isartor.status';
const PROVIDER = 'fake-openai';
const MODEL = 'gpt-4o-mini';
/** Looks like a key to the extension; only the fake upstream ever sees it. */
const PROVIDER_KEY = 'sk-e2e-provider-0123456789abcdef';
const LM_PROMPT = 'Isartor e2e: greet the language-model client.';
/** The sample files Enable may rewrite and Disable must restore, relative to HOME. */
const SAMPLE_FILES = ['.continue/config.yaml', '.claude/settings.json'];
const STEP_TIMEOUT_MS = 180_000;

let session: E2eSession;
let fake: FakeUpstream;
let proxyUrl = '';
let workDir = '';
let lmResultFile = '';
const originalBytes = new Map<string, Buffer>();
const originalListings = new Map<string, string[]>();
/** Requests the tests sent through the proxy, and how many of them it answered itself. */
const sent = { requests: 0, deflected: 0 };

function homeFile(relative: string): string {
  return join(session.home, relative);
}

/** Every comment line of a sample file, which Enable must keep. */
function commentLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('#') || line.startsWith('//'));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A total in the savings panel: the element showing exactly `value` beside the label `label`. */
function figure(frame: FrameLocator, label: string, value: number): Locator {
  return frame.getByText(label, { exact: true }).first().locator('..').getByText(String(value), { exact: true });
}

/** Runs one step; on failure keeps a screenshot of the window for diagnosis, then fails. */
async function step(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    await session.screenshot(`extension-failed-${name}`).catch(() => undefined);
    throw error;
  }
}

before(
  async () => {
    fake = await startFakeUpstream();
    const port = await freePort();
    proxyUrl = `http://127.0.0.1:${port}`;
    workDir = mkdtempSync(join(tmpdir(), 'isartor-e2e-ext-'));
    lmResultFile = join(workDir, 'lm-result.json');
    const isartorVsix = ensureIsartorVsix();
    const clientVsix = await packExtensionFolder(LM_CLIENT_DIR, join(workDir, 'isartor-lm-client.vsix'));
    session = await startSession({
      name: 'extension',
      vsixFiles: [isartorVsix, clientVsix],
      userSettings: {
        'isartor.port': port,
        'isartor.providers': [{ name: PROVIDER, kind: 'openai', baseUrl: fake.openaiBase }],
        'isartor.models': [{ id: MODEL, provider: PROVIDER }],
        'isartorLmClient.resultFile': lmResultFile,
        'isartorLmClient.prompt': LM_PROMPT,
      },
    });
    for (const file of SAMPLE_FILES) originalBytes.set(file, readFileSync(homeFile(file)));
    for (const folder of ['.continue', '.claude']) originalListings.set(folder, readdirSync(homeFile(folder)).sort());

    // The extension activates on start-up finished; its status-bar item appearing is the signal.
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield' });
    // The provider key goes where a user puts it: the secret store, through the palette command.
    await session.runCommand('Isartor: Set Provider API Key');
    await session.pickQuickPickItem(PROVIDER);
    await session.submitInputBox(`API key for ${PROVIDER}`, PROVIDER_KEY);
    await session.waitForNotification(`key for ${PROVIDER} stored`, { failOn: /Isartor/ });
  },
  { timeout: 600_000 },
);

after(async () => {
  await session?.close();
  await fake?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

void test('1. "Isartor: Enable" points the sample Continue and Claude Code settings at proxy routes and the status bar shows the shield', { timeout: STEP_TIMEOUT_MS }, () =>
  step('enable', async () => {
    await session.runCommand('Isartor: Enable');
    await session.waitForNotification(/Isartor is on/, { failOn: /Isartor/ });
    const status = await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: / saved · \d+% local$/ });
    assert.match(status.text, /^\$0\.00 saved · 0% local$/, 'no requests yet');

    const routeUrl = new RegExp(`^${escapeRegExp(proxyUrl)}/r/[0-9a-f]{32}(/|$)`);
    const continueText = readFileSync(homeFile('.continue/config.yaml'), 'utf8');
    const models = (parseYaml(continueText) as { models: Array<{ name: string; apiBase?: string }> }).models;
    const byName = new Map(models.map((model) => [model.name, model]));
    assert.match(byName.get('GPT-4o')?.apiBase ?? '', routeUrl, 'OpenAI model routed through the proxy');
    assert.match(byName.get('Claude Sonnet')?.apiBase ?? '', routeUrl, 'Anthropic model (default base) routed through the proxy');
    assert.notEqual(byName.get('GPT-4o')?.apiBase, byName.get('Claude Sonnet')?.apiBase, 'two upstreams need two routes');
    assert.equal(byName.get('Local Qwen')?.apiBase, undefined, 'the local Ollama model is left alone');
    for (const comment of commentLines(originalBytes.get('.continue/config.yaml')!.toString('utf8'))) {
      assert.ok(continueText.includes(comment), `comment kept in config.yaml: ${comment}`);
    }

    const claudeText = readFileSync(homeFile('.claude/settings.json'), 'utf8');
    const errors: ParseError[] = [];
    const claude = parseJsonc(claudeText, errors) as { model: string; env: Record<string, string>; permissions: unknown; includeCoAuthoredBy: boolean };
    assert.deepEqual(errors, [], 'settings.json still parses');
    assert.match(claude.env.ANTHROPIC_BASE_URL ?? '', routeUrl, 'Claude Code routed through the proxy');
    assert.equal(claude.env.DISABLE_TELEMETRY, '1');
    assert.equal(claude.model, 'claude-sonnet-4-20250514');
    assert.deepEqual(claude.permissions, { allow: ['Bash(npm test:*)', 'Read(~/notes/**)'], deny: ['Bash(rm -rf:*)'] });
    assert.equal(claude.includeCoAuthoredBy, false);
    for (const comment of commentLines(originalBytes.get('.claude/settings.json')!.toString('utf8'))) {
      assert.ok(claudeText.includes(comment), `comment kept in settings.json: ${comment}`);
    }
  }),
);

void test('2. the same request sent twice with the official openai SDK is answered once upstream and moves the status bar', { timeout: STEP_TIMEOUT_MS }, () =>
  step('requests', async () => {
    const before = await session.readStatusBar(STATUS_ID);
    const upstreamBefore = fake.requests.length;
    const client = new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: 'sk-e2e-client-abcdef0123456789', maxRetries: 0 });
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'In one word: what colour is a clear daytime sky?' }] };
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    sent.requests += 2;
    sent.deflected += 1;
    assert.ok(first.choices[0]?.message.content, 'the upstream answered');
    assert.equal(second.choices[0]?.message.content, first.choices[0]?.message.content, 'the repeat gets the same answer');
    assert.equal(fake.requests.length - upstreamBefore, 1, 'only the first request reached the upstream');

    // One of two requests deflected, and some money saved: "<not zero> saved · 50% local".
    const after = await session.waitForStatusBar(STATUS_ID, { differsFrom: before.text, matches: /^(<\$0\.01|\$(?!0\.00 )[\d.]+[kM]?) saved · 50% local$/ });
    assert.ok(after.icons.includes('shield'));
  }),
);

void test('3. a second extension finds the Isartor models with vscode.lm.selectChatModels and gets an answer through the proxy', { timeout: STEP_TIMEOUT_MS }, () =>
  step('lm-client', async () => {
    const upstreamBefore = fake.requests.length;
    await session.runCommand('Isartor E2E: Query Isartor Models');
    await waitForFile(lmResultFile);
    const result = JSON.parse(readFileSync(lmResultFile, 'utf8')) as {
      models: Array<{ id: string; name: string; vendor: string }>;
      answer: string | null;
      error: string | null;
    };
    const seen = fake.requests.slice(upstreamBefore).filter((request) => JSON.stringify(request.json ?? {}).includes(LM_PROMPT));
    // Counted before asserting, so the panel step checks the right totals even if this step fails.
    sent.requests += seen.length;
    assert.equal(result.error, null);
    assert.ok(result.models.length > 0, 'selectChatModels({ vendor: "isartor" }) found models');
    assert.ok(result.models.every((model) => model.vendor === 'isartor'));
    assert.ok(result.models.some((model) => model.id.includes(MODEL) && /via Isartor/.test(model.name)), JSON.stringify(result.models));
    assert.ok(result.answer?.includes(LM_PROMPT), `the answer comes from the fake upstream: ${result.answer}`);

    assert.equal(seen.length, 1, 'the upstream saw the language-model request once');
    assert.equal(seen[0]!.json.model, MODEL);
  }),
);

void test('4. "Isartor: Show Savings" opens the panel with the request counts; window and narrow-panel screenshots are saved', { timeout: STEP_TIMEOUT_MS }, () =>
  step('panel', async () => {
    await session.runCommand('Isartor: Show Savings');
    const frame = await session.webviewFrame('Isartor Savings');
    // Two requests from the SDK (one deflected) and the language-model client's one.
    assert.ok(sent.requests > 0, 'earlier steps sent requests through the proxy');
    await figure(frame, 'Requests', sent.requests).waitFor({ state: 'visible' });
    await figure(frame, 'Deflected', sent.deflected).waitFor({ state: 'visible' });
    // Earlier toasts would cover the panel's lower right corner in the screenshots.
    await session.runCommand('Notifications: Clear All Notifications');
    await session.screenshot('savings-panel-window');

    const page = session.page;
    const viewport = page.viewportSize();
    try {
      await session.runCommand('View: Close Primary Side Bar');
      await page.setViewportSize({ width: 480, height: 900 });
      const panel = page.locator('iframe.webview.ready:visible').first();
      await figure(frame, 'Requests', sent.requests).waitFor({ state: 'visible' });
      await session.screenshot('savings-panel-narrow', panel);
      const overflow = await frame.locator('html').evaluate((root) => root.scrollWidth - root.clientWidth);
      assert.ok(overflow <= 1, `the panel fits a narrow editor without scrolling sideways (overflows by ${overflow}px)`);
    } finally {
      if (viewport) await page.setViewportSize(viewport);
    }
  }),
);

void test('5. "Isartor: Disable" leaves every sample file byte-identical to before', { timeout: STEP_TIMEOUT_MS }, () =>
  step('disable', async () => {
    // Otherwise this step would pass without proving anything.
    assert.ok(!readFileSync(homeFile('.continue/config.yaml')).equals(originalBytes.get('.continue/config.yaml')!), 'Enable had rewritten config.yaml');
    assert.ok(!readFileSync(homeFile('.claude/settings.json')).equals(originalBytes.get('.claude/settings.json')!), 'Enable had rewritten settings.json');
    await session.runCommand('Isartor: Disable');
    await session.waitForNotification(/Isartor is off/, { failOn: /Isartor/ });
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: /Off/ });
    for (const [file, bytes] of originalBytes) {
      const now = readFileSync(homeFile(file));
      assert.equal(now.toString('utf8'), bytes.toString('utf8'), `${file} restored`);
      assert.ok(now.equals(bytes), `${file} is byte-identical`);
    }
    for (const [folder, names] of originalListings) {
      assert.deepEqual(readdirSync(homeFile(folder)).sort(), names, `nothing left behind in ~/${folder}`);
    }
  }),
);
