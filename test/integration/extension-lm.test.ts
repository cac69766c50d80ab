// The extension's language-model provider and lifecycle controller on the real embedded proxy:
// chat requests through the Deflection Stack to a fake upstream on loopback, tool calls both ways,
// cancellation, and Enable / port moves / Disable / deactivate with the real Claude Code and Continue
// integrations on disk.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { startFakeUpstream } from '../../src/bench/fakeUpstream';
import type { FakeUpstream } from '../../src/bench/fakeUpstream';
import type { Logger } from '../../src/core/logger';
import { silentLogger } from '../../src/core/logger';
import type { IsartorSettings, SettingsSource } from '../../src/extension/config';
import { readSettings } from '../../src/extension/config';
import { copilotIntegration, IsartorChatProvider, setActiveChatProvider } from '../../src/extension/copilot';
import type { LmApi } from '../../src/extension/copilot';
import { claudeIntegration } from '../../src/extension/integrations/claude';
import { continueIntegration } from '../../src/extension/integrations/continue';
import { loadJournal } from '../../src/extension/integrations/journal';
import type { Integration } from '../../src/extension/integrations/integration';
import { reconcileJournal } from '../../src/extension/integrations/restore';
import { ENABLED_KEY, IsartorController } from '../../src/extension/lifecycle/controller';
import { ConnectedTools, toolStateFile } from '../../src/extension/lifecycle/connectedTools';
import type { ControllerUi } from '../../src/extension/lifecycle/controller';
import { isIsartorAt, ProxyHost } from '../../src/extension/lifecycle/proxyHost';
import { PersistentRouteRegistry } from '../../src/extension/routes';
import type { RouteMemento } from '../../src/extension/routes';
import { ProviderKeys } from '../../src/extension/secrets';
import { startProxy } from '../../src/proxy/server';
import type { ProxyServer } from '../../src/proxy/server';
import { MapSecrets } from '../fixtures/mapSecrets';

// --- stand-ins for the few VS Code classes the provider constructs (not the code under test) ---
class TextPart {
  constructor(public value: string) {}
}
class ToolCallPart {
  constructor(
    public callId: string,
    public name: string,
    public input: object,
  ) {}
}
class ToolResultPart {
  constructor(
    public callId: string,
    public content: unknown[],
  ) {}
}
class EventEmitter<T> {
  private listeners: ((value: T) => void)[] = [];
  event = (listener: (value: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
  dispose(): void {}
}
const api = { LanguageModelTextPart: TextPart, LanguageModelToolCallPart: ToolCallPart, LanguageModelToolResultPart: ToolResultPart, LanguageModelChatToolMode: { Auto: 1, Required: 2 }, EventEmitter } as unknown as LmApi;

const user = (...content: unknown[]) => ({ role: 1, content, name: undefined }) as unknown as vscode.LanguageModelChatRequestMessage;
const assistant = (...content: unknown[]) => ({ role: 2, content, name: undefined }) as unknown as vscode.LanguageModelChatRequestMessage;

function cancellation(): { token: vscode.CancellationToken; cancel(): void } {
  const listeners: (() => void)[] = [];
  const token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: () => void) => {
      listeners.push(listener);
      return { dispose() {} };
    },
  };
  return { token: token as unknown as vscode.CancellationToken, cancel: () => ((token.isCancellationRequested = true), listeners.forEach((l) => l())) };
}

class MapMemento implements RouteMemento {
  readonly values = new Map<string, unknown>();
  /** Set to reject every update with "Canceled", as VS Code does while an extension deactivates (microsoft/vscode#144118). */
  cancelUpdates = false;
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (this.cancelUpdates) throw new Error('Canceled');
    this.values.set(key, structuredClone(value));
  }
}

const OPENAI_KEY = 'sk-test-isartor-openai-0001';
const ANTHROPIC_KEY = 'sk-ant-test-isartor-0001';

interface Harness {
  controller: IsartorController<ProxyServer>;
  host: ProxyHost<ProxyServer>;
  provider: IsartorChatProvider;
  state: MapMemento;
  settings: Record<string, unknown>;
  notices: string[];
  warnings: string[];
  close(): Promise<void>;
}

/** The controller wired as extension.ts wires it, minus VS Code: in-memory state and secrets, a temp home. */
interface HarnessOptions {
  state?: MapMemento;
  port?: number;
  logger?: Logger;
  dataDir?: string;
  /** The button the user presses on the start-failure notification (default: none). */
  onStartFailed?: (message: string) => Promise<'retry' | 'log' | undefined>;
  /** Called with every information message. */
  onInfo?: (message: string) => void;
}

async function harness(fake: FakeUpstream, home: string, integrations: Integration[], options: HarnessOptions = {}): Promise<Harness> {
  const state = options.state ?? new MapMemento();
  const settings: Record<string, unknown> = {
    port: options.port ?? 0,
    'layers.semantic': false,
    'layers.local': false,
    providers: [
      { name: 'fake-openai', kind: 'openai', baseUrl: fake.openaiBase },
      { name: 'fake-anthropic', kind: 'anthropic', baseUrl: fake.anthropicBase },
    ],
    models: ['gpt-4o', 'claude-sonnet-4-20250514'],
  };
  const source: SettingsSource = { get: <T>(key: string) => settings[key] as T | undefined };
  const secrets = new MapSecrets();
  secrets.values.set('isartor.apiKey.fake-openai', OPENAI_KEY);
  secrets.values.set('isartor.apiKey.fake-anthropic', ANTHROPIC_KEY);
  const logger = options.logger ?? silentLogger;
  const host = new ProxyHost<ProxyServer>(startProxy, logger);
  const routes = new PersistentRouteRegistry(state);
  const notices: string[] = [];
  const warnings: string[] = [];
  const ui: ControllerUi = {
    startFailed: async (message) => {
      warnings.push(`start failed: ${message}`);
      return options.onStartFailed?.(message);
    },
    showLog: () => {},
    info: (message) => {
      notices.push(message);
      options.onInfo?.(message);
    },
    warn: (message) => warnings.push(message),
  };
  let provider: IsartorChatProvider | undefined;
  const controller: IsartorController<ProxyServer> = new IsartorController<ProxyServer>({
    state,
    settings: (): IsartorSettings => readSettings(source),
    dataDir: () => options.dataDir ?? join(home, 'storage', 'data'),
    keys: new ProviderKeys(secrets, {}),
    host,
    routes,
    integrations: () => integrations,
    journalDir: join(home, 'storage', 'global'),
    integrationContext: (proxyUrl) => ({ proxyUrl, routes, homeDir: home, journalDir: join(home, 'storage', 'global'), logger }),
    reconcileJournal,
    isIsartorAt,
    ui,
    logger,
    onDidChange: () => provider?.refresh(),
  });
  provider = new IsartorChatProvider({ api, models: () => controller.chatModels(), routeUrl: (m) => controller.chatRouteUrl(m), state, logger, version: 'test' });
  setActiveChatProvider(provider);
  await controller.activate();
  return {
    controller,
    host,
    provider,
    state,
    settings,
    notices,
    warnings,
    close: async () => {
      setActiveChatProvider(undefined);
      await host.stop();
    },
  };
}

async function respond(provider: IsartorChatProvider, modelName: string, messages: vscode.LanguageModelChatRequestMessage[], options: Partial<vscode.ProvideLanguageModelChatResponseOptions> = {}, token = cancellation().token) {
  const model = provider.provideLanguageModelChatInformation().find((m) => m.name === modelName);
  assert.ok(model, `model ${modelName} is offered`);
  const parts: unknown[] = [];
  await provider.provideLanguageModelChatResponse(model, messages, { toolMode: 1, ...options } as vscode.ProvideLanguageModelChatResponseOptions, { report: (part) => parts.push(part) }, token);
  return parts;
}

const textOf = (parts: unknown[]): string => parts.map((part) => (part instanceof TextPart ? part.value : '')).join('');

describe('Isartor language models through the embedded proxy', () => {
  let fake: FakeUpstream;
  let home: string;
  let h: Harness;

  before(async () => {
    fake = await startFakeUpstream();
    home = await mkdtemp(join(tmpdir(), 'isartor-lm-'));
    h = await harness(fake, home, [copilotIntegration]);
    assert.equal(await h.controller.enable(), true);
  });
  after(async () => {
    await h?.close();
    await fake?.close();
    await rm(home, { recursive: true, force: true });
  });
  beforeEach(() => fake.reset());

  it('lists the configured models while Copilot is connected, nothing once disconnected', async () => {
    assert.deepEqual(h.provider.provideLanguageModelChatInformation().map((m) => [m.id, m.name, m.family]), [
      ['fake-openai/gpt-4o', 'GPT-4o via Isartor', 'gpt-4o'],
      ['fake-anthropic/claude-sonnet-4-20250514', 'Claude Sonnet 4 via Isartor', 'claude-sonnet-4-20250514'],
    ]);
    let changes = 0;
    const subscription = h.provider.onDidChangeLanguageModelChatInformation(() => changes++);
    await copilotIntegration.disconnect(h.controller.context());
    assert.deepEqual(h.provider.provideLanguageModelChatInformation(), []);
    assert.equal((await copilotIntegration.detect(h.controller.context())).state, 'available');
    await copilotIntegration.connect(h.controller.context());
    assert.equal(h.provider.provideLanguageModelChatInformation().length, 2);
    assert.equal(changes, 2);
    subscription.dispose();
  });

  it('streams an OpenAI answer through the proxy and serves the repeat from the exact cache', async () => {
    const messages = [user(new TextPart('Explain recursion in one line.'))];
    const first = await respond(h.provider, 'GPT-4o via Isartor', messages);
    assert.equal(textOf(first), 'Answer 1 to: Explain recursion in one line.');
    assert.equal(fake.requests.length, 1);
    const sent = fake.requests[0]!;
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(sent.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.equal(sent.json.model, 'gpt-4o');
    assert.equal(sent.json.stream, true);
    assert.deepEqual(sent.json.messages, [{ role: 'user', content: 'Explain recursion in one line.' }]);

    const again = await respond(h.provider, 'GPT-4o via Isartor', messages);
    assert.equal(textOf(again), textOf(first));
    assert.equal(fake.requests.length, 1, 'the repeat never reached the upstream');
    const ledger = h.controller.stats()!.ledger;
    assert.ok((ledger.byLayer.l1a?.requests ?? 0) >= 1);
    assert.ok((ledger.byTool.copilot?.requests ?? 0) >= 2);
  });

  it('maps tools both ways with OpenAI: tool calls out, tool results back', async () => {
    const tools = [{ name: 'read_file', description: 'Read a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } } } }];
    fake.enqueue({ toolCalls: [{ id: 'call_7', name: 'read_file', arguments: { path: 'src/a.ts' } }] });
    const parts = await respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('Open a.ts'))], { tools, toolMode: 2 } as never);
    const call = parts.find((part) => part instanceof ToolCallPart) as ToolCallPart;
    assert.deepEqual({ ...call }, { callId: 'call_7', name: 'read_file', input: { path: 'src/a.ts' } });
    assert.equal(fake.requests[0]!.json.tool_choice, 'required');
    assert.equal(fake.requests[0]!.json.tools[0].function.name, 'read_file');

    await respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('Open a.ts')), assistant(new ToolCallPart('call_7', 'read_file', { path: 'src/a.ts' })), user(new ToolResultPart('call_7', [new TextPart('export {}')]))], { tools } as never);
    assert.deepEqual(fake.requests[1]!.json.messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/a.ts"}' } }] },
      { role: 'tool', tool_call_id: 'call_7', content: 'export {}' },
    ]);
  });

  it('streams Anthropic text and tool_use through /v1/messages with the provider key', async () => {
    fake.enqueue({ text: 'Let me read it.', toolCalls: [{ id: 'toolu_9', name: 'read_file', arguments: { path: 'README.md' } }] });
    const parts = await respond(h.provider, 'Claude Sonnet 4 via Isartor', [user(new TextPart('What does README say?'))], { tools: [{ name: 'read_file', description: 'Read', inputSchema: { type: 'object' } }] } as never);
    assert.equal(textOf(parts), 'Let me read it.');
    assert.deepEqual({ ...(parts.find((part) => part instanceof ToolCallPart) as ToolCallPart) }, { callId: 'toolu_9', name: 'read_file', input: { path: 'README.md' } });
    const sent = fake.requests[0]!;
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], ANTHROPIC_KEY);
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.json.max_tokens, 16_384);
  });

  it('reports upstream errors with the provider and status, and the proxy keeps serving', async () => {
    fake.enqueue({ status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } } });
    await assert.rejects(respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('fail please'))]), /fake-openai answered 401: Incorrect API key provided/);
    assert.equal(textOf(await respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('and now?'))])), 'Answer 2 to: and now?');
  });

  it('an upstream error that echoes the stored key reaches the caller redacted, before or mid-stream', async () => {
    const echo = `Incorrect API key provided: ${OPENAI_KEY}. You can find your API key at https://platform.openai.com`;
    fake.enqueue({ status: 401, body: { error: { message: echo, type: 'invalid_request_error' } } });
    const secret = OPENAI_KEY.slice(12);
    await assert.rejects(respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('echo my key'))]), (error: Error) => {
      assert.match(error.message, /answered 401: Incorrect API key provided: sk-test-isa…\[redacted\]/);
      assert.ok(!error.message.includes(secret), error.message);
      return true;
    });
    fake.enqueue({ headers: { 'content-type': 'text/event-stream' }, body: `data: ${JSON.stringify({ error: { message: echo, type: 'server_error' } })}\n\n` });
    await assert.rejects(respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('echo it mid-stream'))]), (error: Error) => {
      assert.match(error.message, /Incorrect API key provided/);
      assert.ok(!error.message.includes(secret), error.message);
      return true;
    });
  });

  it('stops streaming when VS Code cancels, without an error', async () => {
    fake.enqueue({ text: 'a long answer that stalls', stallAfterEvents: 2 });
    const { token, cancel } = cancellation();
    const pending = respond(h.provider, 'GPT-4o via Isartor', [user(new TextPart('stall'))], {}, token);
    await fake.waitForRequests(1);
    cancel();
    await pending;
    await fake.waitForAborts(1);
  });

  it('counts tokens of strings and messages', async () => {
    const model = h.provider.provideLanguageModelChatInformation()[0]!;
    const plain = await h.provider.provideTokenCount(model, 'hello world');
    const message = await h.provider.provideTokenCount(model, user(new TextPart('hello world'), new ToolResultPart('c', [new TextPart('more text here')])));
    assert.equal(plain, 2);
    assert.ok(message > plain);
    // Bounded work in the extension host (issue 11): gpt-tokenizer alone took seconds on a 64 KiB run of one letter.
    const started = process.cpuUsage();
    const long = await h.provider.provideTokenCount(model, user(new TextPart('x'.repeat(64 * 1024))));
    const used = process.cpuUsage(started);
    assert.ok(long > 0);
    assert.ok((used.user + used.system) / 1000 < 100, `${(used.user + used.system) / 1000} ms of CPU`);
  });
});

describe('Enable, port moves and Disable with the real Claude Code integration', () => {
  let fake: FakeUpstream;
  let home: string;
  let blocker: Server | undefined;

  before(async () => {
    fake = await startFakeUpstream();
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'isartor-life-'));
  });

  async function occupy(port = 0): Promise<number> {
    // Something that is not Isartor: it accepts connections and hangs up.
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    return (blocker.address() as AddressInfo).port;
  }
  async function release(): Promise<void> {
    await new Promise((resolve) => blocker?.close(resolve));
    blocker = undefined;
  }

  it('starts on a free port when the configured one is taken, re-points on restart, restores on Disable', async () => {
    const settingsFile = join(home, '.claude', 'settings.json');
    await mkdir(join(home, '.claude'));
    const original = '{\n  // my settings\n  "model": "opus",\n  "env": { "FOO": "1" }\n}\n';
    await writeFile(settingsFile, original);
    const takenPort = await occupy();
    const state = new MapMemento();
    const first = await harness(fake, home, [claudeIntegration], { state, port: takenPort });
    try {
      assert.equal(await first.controller.enable(), true);
      const url1 = first.host.proxy!.url;
      assert.notEqual(new URL(url1).port, String(takenPort), 'moved off the taken port');
      const connected = await readFile(settingsFile, 'utf8');
      assert.match(connected, new RegExp(`"ANTHROPIC_BASE_URL": "${url1.replace(/[.]/g, '\\.')}/r/[0-9a-f]{32}"`));
      assert.match(connected, /\/\/ my settings/);
      // Requests through the rewritten URL reach the original base (the public API is replaced by the fake here).
      assert.match(first.notices.join('\n'), /Connected: .*Claude Code/);
    } finally {
      await first.close();
    }

    // A new window on the same state: the old port is taken now, so the proxy moves and Claude Code is re-pointed.
    await release();
    const oldPort = Number(new URL(String(state.get('isartor.lastProxyUrl'))).port);
    await occupy(oldPort);
    const second = await harness(fake, home, [claudeIntegration], { state, port: takenPort });
    try {
      const url2 = second.host.proxy!.url;
      assert.ok(url2, 'an enabled Isartor starts again on activation');
      assert.notEqual(url2, `http://127.0.0.1:${oldPort}`);
      const repointed = await readFile(settingsFile, 'utf8');
      assert.ok(repointed.includes(`"ANTHROPIC_BASE_URL": "${url2}/r/`), repointed);
      const routeId = /\/r\/([0-9a-f]{32})/.exec(repointed)![1]!;
      assert.ok(second.host.proxy!.routes().some((route) => route.id === routeId), 'the persisted route id is served by the new proxy');

      await second.controller.disable();
      assert.equal(await readFile(settingsFile, 'utf8'), original, 'byte-identical after Disable');
      assert.equal(second.host.proxy, undefined);
      assert.equal(second.host.snapshot.state, 'off');
      assert.deepEqual(second.warnings, []);
    } finally {
      await second.close();
      await release();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a second window leaves the tools with the first window’s proxy instead of re-pointing them', async () => {
    const settingsFile = join(home, '.claude', 'settings.json');
    await mkdir(join(home, '.claude'));
    const original = '{ "model": "opus" }\n';
    await writeFile(settingsFile, original);
    const state = new MapMemento();
    const windowA = await harness(fake, home, [claudeIntegration], { state });
    const windowB = { current: undefined as Harness | undefined };
    try {
      assert.equal(await windowA.controller.enable(), true);
      const urlA = windowA.host.proxy!.url;
      const connected = await readFile(settingsFile, 'utf8');
      // Window B is configured for window A's port, which is taken, by an Isartor.
      // (Another workspace, so another data folder: one store has one writer.)
      windowB.current = await harness(fake, home, [claudeIntegration], { state, port: Number(new URL(urlA).port), dataDir: join(home, 'storage', 'data-b') });
      const urlB = windowB.current.host.proxy!.url;
      assert.notEqual(urlB, urlA);
      assert.equal(await readFile(settingsFile, 'utf8'), connected, 'Claude Code still goes to window A');
      assert.equal(state.get('isartor.lastProxyUrl'), urlA);
      assert.equal(await isIsartorAt(urlA), true);
      assert.equal(await isIsartorAt(fake.url), false);

      await windowB.current.controller.disable();
      assert.equal(await readFile(settingsFile, 'utf8'), original);
    } finally {
      await windowB.current?.close();
      await windowA.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('shows one start failure, touches no tool, and Retry enables fully once the cause is gone', async () => {
    const settingsFile = join(home, '.claude', 'settings.json');
    await mkdir(join(home, '.claude'));
    await writeFile(settingsFile, '{ "model": "opus" }\n');
    // A data dir that cannot be created: its parent is a file.
    const blocker = join(home, 'storage');
    await writeFile(blocker, 'not a folder');
    let pressRetry: (choice: 'retry') => void = () => {};
    const retryPressed = new Promise<'retry'>((resolve) => (pressRetry = resolve));
    let enabledAgain: (message: string) => void = () => {};
    const onAgain = new Promise<string>((resolve) => (enabledAgain = resolve));
    const h = await harness(fake, home, [claudeIntegration], { onStartFailed: () => retryPressed, onInfo: (message) => enabledAgain(message) });
    try {
      assert.equal(await h.controller.enable(), false);
      assert.equal(h.host.snapshot.state, 'error');
      assert.equal(h.warnings.filter((w) => w.startsWith('start failed:')).length, 1);
      assert.equal(await readFile(settingsFile, 'utf8'), '{ "model": "opus" }\n');

      await rm(blocker);
      pressRetry('retry');
      assert.match(await onAgain, /Isartor is on\. Connected: Claude Code/);
      assert.equal(h.host.snapshot.state, 'on');
      assert.match(await readFile(settingsFile, 'utf8'), /ANTHROPIC_BASE_URL/);
      await h.controller.disable();
      assert.equal(await readFile(settingsFile, 'utf8'), '{ "model": "opus" }\n');
    } finally {
      await h.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('VS Code closing: file-based tools never point at a dead proxy', () => {
  let fake: FakeUpstream;
  let home: string;
  let claudeFile: string;
  let continueFile: string;
  let originals: { claude: string; continue: string };
  const tools = [continueIntegration, claudeIntegration];

  before(async () => {
    fake = await startFakeUpstream();
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'isartor-close-'));
    claudeFile = join(home, '.claude', 'settings.json');
    continueFile = join(home, '.continue', 'config.yaml');
    await mkdir(join(home, '.claude'));
    await mkdir(join(home, '.continue'));
    await writeFile(claudeFile, '{\n  // mine\n  "model": "opus"\n}\n');
    await copyFile(join(__dirname, '..', 'fixtures', 'integrations', 'continue-config.yaml'), continueFile);
    originals = { claude: await readFile(claudeFile, 'utf8'), continue: await readFile(continueFile, 'utf8') };
  });

  async function assertRestored(why: string): Promise<void> {
    assert.equal(await readFile(claudeFile, 'utf8'), originals.claude, `settings.json byte-identical ${why}`);
    assert.equal(await readFile(continueFile, 'utf8'), originals.continue, `config.yaml byte-identical ${why}`);
  }
  /** The connected / suspended lists as the next activation will read them. */
  const markedTools = (): ConnectedTools => new ConnectedTools(toolStateFile(join(home, 'storage', 'global')));
  const routeIds = (text: string): string[] => [...text.matchAll(/\/r\/([0-9a-f]{32})/g)].map((m) => m[1]!).sort();

  it('deactivate restores the files exactly; the next activation connects them again with the same routes', async () => {
    const state = new MapMemento();
    const first = await harness(fake, home, tools, { state });
    let connected: { claude: string; continue: string };
    try {
      assert.equal(await first.controller.enable(), true);
      connected = { claude: await readFile(claudeFile, 'utf8'), continue: await readFile(continueFile, 'utf8') };
      assert.ok(connected.claude.includes(`${first.host.proxy!.url}/r/`));
      assert.ok(connected.continue.includes(`${first.host.proxy!.url}/r/`));

      await first.controller.deactivate();
      await assertRestored('after deactivate');
      assert.equal(first.host.proxy, undefined, 'the proxy is stopped');
      assert.deepEqual(await loadJournal(join(home, 'storage', 'global')), [], 'nothing left to restore');
      assert.deepEqual(markedTools().suspended().sort(), ['claude', 'continue']);
      assert.equal(state.get(ENABLED_KEY), true, 'Isartor stays enabled');
    } finally {
      await first.close();
    }

    const second = await harness(fake, home, tools, { state });
    try {
      const url = second.host.proxy!.url;
      const claudeNow = await readFile(claudeFile, 'utf8');
      const continueNow = await readFile(continueFile, 'utf8');
      assert.ok(claudeNow.includes(`"ANTHROPIC_BASE_URL": "${url}/r/`), claudeNow);
      assert.ok(continueNow.includes(`${url}/r/`), continueNow);
      assert.deepEqual(routeIds(claudeNow), routeIds(connected.claude), 'Claude Code keeps its route id');
      assert.deepEqual(routeIds(continueNow), routeIds(connected.continue), 'Continue keeps its route ids');
      for (const id of [...routeIds(claudeNow), ...routeIds(continueNow)]) assert.ok(second.host.proxy!.routes().some((route) => route.id === id));
      assert.deepEqual(markedTools().suspended(), []);
      assert.deepEqual(second.warnings, []);

      await second.controller.disable();
      await assertRestored('after Disable');
    } finally {
      await second.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a reload whose deactivate cannot write globalState (VS Code cancels it) still connects the tools again', async () => {
    const state = new MapMemento();
    const first = await harness(fake, home, tools, { state });
    try {
      assert.equal(await first.controller.enable(), true);
      state.cancelUpdates = true;
      await first.controller.deactivate();
      await assertRestored('after deactivate');
      assert.deepEqual(first.warnings, []);
    } finally {
      state.cancelUpdates = false;
      await first.close();
    }
    const second = await harness(fake, home, tools, { state });
    try {
      const url = second.host.proxy!.url;
      assert.ok((await readFile(claudeFile, 'utf8')).includes(`"ANTHROPIC_BASE_URL": "${url}/r/`), 'Claude Code connected again');
      assert.ok((await readFile(continueFile, 'utf8')).includes(`${url}/r/`), 'Continue connected again');
      assert.deepEqual(await second.controller.disconnectedTools(), []);
      await second.controller.disable();
      await assertRestored('after Disable');
    } finally {
      await second.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a tool marked connected whose file was put back is reported disconnected, and one Connect Tools pick connects it', async () => {
    const h = await harness(fake, home, tools, { state: new MapMemento() });
    try {
      assert.equal(await h.controller.enable(), true);
      await writeFile(claudeFile, originals.claude); // restored behind Isartor's back
      assert.deepEqual(await h.controller.disconnectedTools(), ['Claude Code']);
      assert.equal(await h.controller.toggle(claudeIntegration), 'connected');
      assert.ok((await readFile(claudeFile, 'utf8')).includes(`${h.host.proxy!.url}/r/`));
      assert.deepEqual(await h.controller.disconnectedTools(), []);
      assert.equal(await h.controller.toggle(claudeIntegration), 'disconnected');
      assert.equal(await readFile(claudeFile, 'utf8'), originals.claude);
      await h.controller.disable();
    } finally {
      await h.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a reload whose new window started while the old one held the port takes the tools over once the old one is gone', async () => {
    const state = new MapMemento();
    const oldWindow = await harness(fake, home, tools, { state });
    let newWindow: Harness | undefined;
    try {
      assert.equal(await oldWindow.controller.enable(), true);
      newWindow = await harness(fake, home, tools, { state, port: oldWindow.host.proxy!.port, dataDir: join(home, 'storage', 'data-b') });
      await newWindow.controller.adoptSuspendedTools();
      assert.ok((await readFile(claudeFile, 'utf8')).includes(`${oldWindow.host.proxy!.url}/r/`), 'still with the old window while it runs');
      state.cancelUpdates = true; // VS Code, as the old window deactivates
      await oldWindow.controller.deactivate();
      state.cancelUpdates = false;
      await assertRestored('after the old window closed');
      await newWindow.controller.adoptSuspendedTools();
      const url = newWindow.host.proxy!.url;
      assert.ok((await readFile(claudeFile, 'utf8')).includes(`"ANTHROPIC_BASE_URL": "${url}/r/`), 'Claude Code with the new window');
      assert.ok((await readFile(continueFile, 'utf8')).includes(`${url}/r/`), 'Continue with the new window');
      assert.deepEqual(markedTools().suspended(), []);
      await newWindow.controller.disable();
      await assertRestored('after Disable');
    } finally {
      await newWindow?.close();
      await oldWindow.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('after a crash, an activation whose proxy cannot start restores the tools; Enable connects them again', async () => {
    const state = new MapMemento();
    const crashed = await harness(fake, home, tools, { state });
    assert.equal(await crashed.controller.enable(), true);
    await crashed.close(); // no deactivate: the files still point at the closed port
    assert.notEqual(await readFile(claudeFile, 'utf8'), originals.claude);

    // The data dir cannot be created now: its parent is a file.
    const blocker = join(home, 'blocked');
    await writeFile(blocker, 'not a folder');
    const h = await harness(fake, home, tools, { state, dataDir: join(blocker, 'data') });
    try {
      assert.equal(h.host.snapshot.state, 'error');
      await assertRestored('after a failed start');
      assert.deepEqual(markedTools().suspended().sort(), ['claude', 'continue']);

      await rm(blocker);
      assert.equal(await h.controller.enable(), true);
      assert.ok((await readFile(claudeFile, 'utf8')).includes(`${h.host.proxy!.url}/r/`), 'Claude Code connected again');
      assert.ok((await readFile(continueFile, 'utf8')).includes(`${h.host.proxy!.url}/r/`), 'Continue connected again');
      await h.controller.disable();
      await assertRestored('after Disable');
      assert.deepEqual(markedTools().suspended(), []);
    } finally {
      await h.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a crash in the middle of Disable is finished on the next activation', async () => {
    const state = new MapMemento();
    const crashed = await harness(fake, home, tools, { state });
    assert.equal(await crashed.controller.enable(), true);
    await state.update(ENABLED_KEY, false); // Disable's first step, then the crash
    await crashed.close();
    const h = await harness(fake, home, tools, { state });
    try {
      assert.equal(h.host.proxy, undefined);
      await assertRestored('after the activation');
      assert.deepEqual(markedTools().connected(), []);
    } finally {
      await h.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a second window closing leaves the tools with the first window’s proxy', async () => {
    const state = new MapMemento();
    const windowA = await harness(fake, home, tools, { state });
    let windowB: Harness | undefined;
    try {
      assert.equal(await windowA.controller.enable(), true);
      const connected = await readFile(claudeFile, 'utf8');
      windowB = await harness(fake, home, tools, { state, port: windowA.host.proxy!.port, dataDir: join(home, 'storage', 'data-b') });
      assert.notEqual(windowB.host.proxy!.url, windowA.host.proxy!.url);
      await windowB.controller.deactivate();
      assert.equal(await readFile(claudeFile, 'utf8'), connected, 'still through window A');

      await windowA.controller.deactivate();
      await assertRestored('after the last window closed');
    } finally {
      await windowB?.close();
      await windowA.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
