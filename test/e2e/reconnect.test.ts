/**
 * Issue 13.1: Continue and Claude Code stay connected when the window reloads, when code-server
 * restarts and when it is killed (kill -9), and Disable still restores them byte for byte. After
 * each, both files point at a running Isartor proxy, a request sent through each file's route is
 * counted by that proxy's ledger under that route, and the status bar shows savings, not a warning.
 * The routes forward to the real clouds, unreachable here, so the requests end as counted errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { routeLabel } from '../../src/core/routeLabel';
import { freePort } from './freePort';
import { startSession, type E2eSession } from './harness';
import { ensureIsartorVsix } from './vsix';

const STATUS_ID = 'isartor.status';
const STEP_TIMEOUT_MS = 300_000;
const ROUTE = /(http:\/\/127\.0\.0\.1:\d+)\/r\/([0-9a-f]{32})/;

let session: E2eSession;
const originals = new Map<string, Buffer>();
const FILES = ['.continue/config.yaml', '.claude/settings.json'];

interface Connection {
  origin: string;
  claudeRoute: string;
  continueRoutes: string[];
}

/** Where both files point now, when both point at one Isartor proxy that answers. */
async function currentConnection(): Promise<Connection | undefined> {
  const claude = readFileSync(join(session.home, '.claude/settings.json'), 'utf8');
  const yaml = readFileSync(join(session.home, '.continue/config.yaml'), 'utf8');
  const claudeMatch = ROUTE.exec(claude);
  const continueMatches = [...yaml.matchAll(new RegExp(ROUTE, 'g'))];
  if (!claudeMatch || continueMatches.length === 0) return undefined;
  const origin = claudeMatch[1]!;
  if (continueMatches.some((match) => match[1] !== origin)) return undefined;
  try {
    const response = await fetch(`${origin}/isartor/stats`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
  } catch {
    return undefined;
  }
  return { origin, claudeRoute: claudeMatch[2]!, continueRoutes: continueMatches.map((match) => match[2]!) };
}

/** Waits until both tools point at a live proxy and stay there for a few seconds (the old window may still be closing). */
async function waitForStableConnection(timeoutMs = 120_000): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = 0;
  for (;;) {
    const connection = await currentConnection();
    const key = JSON.stringify(connection ?? null);
    if (key !== last) {
      last = key;
      since = Date.now();
    }
    if (connection && Date.now() - since >= 8_000) return connection;
    if (Date.now() > deadline) throw new Error(`the tools did not settle on a running proxy; last seen: ${key}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface Stats {
  ledger: { totals: { requests: number }; recent: { routeId: string }[] };
}

/** Sends one request through each tool's route with the official SDKs, and checks the proxy counted both. */
async function assertRequestsCounted(connection: Connection, label: string): Promise<void> {
  const stats = async (): Promise<Stats> => (await (await fetch(`${connection.origin}/isartor/stats`)).json()) as Stats;
  const before = (await stats()).ledger.totals.requests;
  const claude = new Anthropic({ baseURL: `${connection.origin}/r/${connection.claudeRoute}`, apiKey: 'sk-ant-e2e-0123456789', maxRetries: 0, timeout: 60_000 });
  const openai = new OpenAI({ baseURL: `${connection.origin}/r/${connection.continueRoutes[0]}/v1`, apiKey: 'sk-e2e-0123456789abcdef', maxRetries: 0, timeout: 60_000 });
  // The clouds are out of reach from this machine: the proxy answers with an error, and counts it.
  await claude.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 16, messages: [{ role: 'user', content: `ping ${label}` }] }).catch((error: unknown) => {
    if (!(error instanceof Anthropic.APIError) || error.status === 404) throw error;
  });
  await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `ping ${label}` }] }).catch((error: unknown) => {
    if (!(error instanceof OpenAI.APIError) || error.status === 404) throw error;
  });
  const deadline = Date.now() + 10_000;
  let after: Stats;
  do {
    after = await stats();
    if (after.ledger.totals.requests >= before + 2) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  } while (Date.now() < deadline);
  assert.equal(after.ledger.totals.requests, before + 2, `${label}: both requests counted`);
  const routes = after.ledger.recent.slice(0, 2).map((record) => record.routeId).sort();
  // The ledger records a one-way label of each route id (ids are capabilities), not the id itself.
  assert.deepEqual(routes, [routeLabel(connection.claudeRoute), routeLabel(connection.continueRoutes[0]!)].sort(), `${label}: counted under the files' routes`);
}

async function assertStatusOn(label: string): Promise<void> {
  const status = await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: /saved/ }, 90_000);
  assert.ok(!status.icons.includes('warning'), `${label}: no tool reported disconnected (${status.text})`);
}

before(
  async () => {
    const port = await freePort();
    session = await startSession({ name: 'reconnect', vsixFiles: [ensureIsartorVsix()], userSettings: { 'isartor.port': port } });
    for (const file of FILES) originals.set(file, readFileSync(join(session.home, file)));
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield' });
    await session.runCommand('Isartor: Enable');
    await session.waitForNotification(/Isartor is on/, { failOn: /Isartor/ });
  },
  { timeout: 600_000 },
);

after(async () => {
  await session?.close();
});

async function step(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    await session.screenshot(`reconnect-failed-${name}`).catch(() => undefined);
    throw error;
  }
}

void test('1. Enable connects both tools to the running proxy and requests through them are counted', { timeout: STEP_TIMEOUT_MS }, () =>
  step('enable', async () => {
    await assertRequestsCounted(await waitForStableConnection(), 'after Enable');
    await assertStatusOn('after Enable');
  }),
);

void test('2. after "Developer: Reload Window" both tools go through the new window’s proxy', { timeout: STEP_TIMEOUT_MS }, () =>
  step('reload', async () => {
    await session.reloadWindow();
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: /saved/ }, 90_000);
    await assertRequestsCounted(await waitForStableConnection(), 'after reload');
    await assertStatusOn('after reload');
  }),
);

void test('3. after code-server stops (SIGTERM) and starts again both tools go through the new proxy', { timeout: STEP_TIMEOUT_MS }, () =>
  step('restart', async () => {
    await session.restartEditor('graceful');
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: /saved/ }, 90_000);
    await assertRequestsCounted(await waitForStableConnection(), 'after restart');
    await assertStatusOn('after restart');
  }),
);

void test('4. after code-server is killed (kill -9) and starts again both tools go through the new proxy', { timeout: STEP_TIMEOUT_MS }, () =>
  step('kill', async () => {
    await session.restartEditor('kill');
    await session.waitForStatusBar(STATUS_ID, { icon: 'shield', matches: /saved/ }, 90_000);
    await assertRequestsCounted(await waitForStableConnection(), 'after kill -9');
    await assertStatusOn('after kill -9');
  }),
);

void test('5. Disable then restores both files byte for byte', { timeout: STEP_TIMEOUT_MS }, () =>
  step('disable', async () => {
    await session.runCommand('Isartor: Disable');
    await session.waitForNotification(/Isartor is off/, { failOn: /Isartor/ });
    for (const [file, bytes] of originals) assert.ok(readFileSync(join(session.home, file)).equals(bytes), `${file} byte-identical`);
  }),
);
