/**
 * Shared set-up for integration tests: a fake upstream and a real proxy on 127.0.0.1, each test in
 * its own temporary data dir, and the official SDK clients pointed at the proxy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { defaultConfig, type EngineConfig } from '../../src/core/config';
import { silentLogger } from '../../src/core/logger';
import type { UpstreamTarget } from '../../src/core/request';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { startProxy, type ProxyServer } from '../../src/proxy/server';

export const OPENAI_KEY = 'sk-test-openai-key-0001';
export const ANTHROPIC_KEY = 'sk-ant-test-anthropic-key-0001';

export interface Stack {
  fake: FakeUpstream;
  proxy: ProxyServer;
  dataDir: string;
  config: EngineConfig;
  openai(options?: { apiKey?: string; baseURL?: string; defaultHeaders?: Record<string, string> }): OpenAI;
  anthropic(options?: { apiKey?: string; baseURL?: string; defaultHeaders?: Record<string, string> }): Anthropic;
  /** Restarts the proxy on the same data dir (and upstream). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Providers pointing at the fake, for routes and the default chain. */
export function fakeProviders(fake: FakeUpstream, keys: { openai?: string; anthropic?: string } = {}): UpstreamTarget[] {
  return [
    { name: 'fake-openai', kind: 'openai', baseUrl: fake.openaiBase, ...(keys.openai ? { apiKey: keys.openai } : {}) },
    { name: 'fake-anthropic', kind: 'anthropic', baseUrl: fake.anthropicBase, ...(keys.anthropic ? { apiKey: keys.anthropic } : {}) },
  ];
}

/**
 * Starts a fake upstream and a proxy whose default route forwards to it. `configure` may adjust the
 * configuration (retries, timeouts, providers) before the proxy starts.
 */
export async function startStack(configure: (config: EngineConfig, fake: FakeUpstream) => void = () => {}): Promise<Stack> {
  const fake = await startFakeUpstream();
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-it-'));
  const config = defaultConfig(dataDir);
  config.port = 0;
  config.semantic.enabled = false;
  config.local.enabled = false;
  config.upstream = { providers: fakeProviders(fake), timeoutMs: 10_000, retries: 0, maxBackoffMs: 50 };
  configure(config, fake);
  let proxy = await startProxy(config, { logger: silentLogger });
  const stack: Stack = {
    fake,
    get proxy() {
      return proxy;
    },
    dataDir,
    config,
    openai: (options = {}) =>
      new OpenAI({ apiKey: options.apiKey ?? OPENAI_KEY, baseURL: options.baseURL ?? `${proxy.url}/v1`, maxRetries: 0, defaultHeaders: options.defaultHeaders }),
    anthropic: (options = {}) =>
      new Anthropic({ apiKey: options.apiKey ?? ANTHROPIC_KEY, baseURL: options.baseURL ?? proxy.url, maxRetries: 0, defaultHeaders: options.defaultHeaders }),
    async restart() {
      await proxy.close();
      proxy = await startProxy(config, { logger: silentLogger });
    },
    async close() {
      await proxy.close();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Posts raw bytes to the proxy and returns status, headers and the parsed JSON body. */
export async function postRaw(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const response = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** A minimal chat request body. */
export function chatBody(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra };
}

/** Waits until the proxy's in-flight gauge satisfies `test`, by reading its own metrics. */
export async function waitForInFlight(proxy: ProxyServer, count: number, test: (inFlight: number, count: number) => boolean = (n, c) => n >= c): Promise<void> {
  for (;;) {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    const match = /^isartor_requests_in_flight (\d+)/m.exec(text);
    // The metrics request itself is not an API request, so it does not count.
    if (match && test(Number(match[1]), count)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
