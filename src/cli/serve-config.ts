/**
 * Builds the EngineConfig for `isartor serve` from, in rising precedence: the embedded defaults, a
 * JSON config file, environment variables and command-line flags. Bad input is a UsageError.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { defaultConfig, type EngineConfig } from '../core/config';
import type { ProviderKind, UpstreamTarget } from '../core/request';
import { storeUrlProblem } from '../core/store/redisUrl';
import { isIpLiteral, normaliseHostName } from '../proxy/hostNames';

/** Wrong flags, values or config: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {}

export interface ServeArgs {
  port?: number;
  host?: string;
  dataDir?: string;
  upstream?: string;
  anthropicUpstream?: string;
  configFile?: string;
  /** `--allow-origin`, repeatable: browser origins added to security.allowedOrigins. */
  allowOrigins?: string[];
  /** `--allow-host`, repeatable: Host names added to security.allowedHosts. */
  allowHosts?: string[];
  /** `redis://…` or `rediss://…`: the caches on a Redis shared by every replica. */
  store?: string;
}

/** `value`, refused when empty: `--data-dir ""` (an unset shell variable) would mean the current folder. */
export function nonEmpty(value: string, source: string): string {
  if (value.trim() === '') throw new UsageError(`${source} must not be empty`);
  return value;
}

function parsePort(value: string, source: string): number {
  const port = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${source} must be a port number from 0 to 65535 (got "${value}")`);
  return port;
}

function parseUrl(value: string, source: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return value;
  } catch {
    throw new UsageError(`${source} must be an http(s) URL (got "${value}")`);
  }
}

/** A browser origin ("scheme://host[:port]", or the opaque "null" when a user really means it). */
function parseOrigin(value: string, source: string): string {
  if (value === 'null') return value;
  try {
    const url = new URL(value);
    if (url.origin !== 'null' && url.origin === value.replace(/\/+$/, '')) return url.origin;
  } catch {
    // reported below
  }
  throw new UsageError(`${source} must be an origin such as http://localhost:5173, without a path (got "${value}")`);
}

/** A host name, or ".domain" for a domain and its subdomains; IP addresses need no allowing. */
const HOST_NAME = /^\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/** A name for security.allowedHosts, lower case without the FQDN's trailing dot. */
function parseAllowedHost(value: string, source: string): string {
  const name = normaliseHostName(value);
  if (HOST_NAME.test(name) || isIpLiteral(name)) return name;
  throw new UsageError(`${source} must be a host name such as proxy.example.com, or .example.com for that domain and its subdomains, without scheme, port or "*" (got "${value}")`);
}

function parseStoreUrl(value: string, source: string): string {
  const problem = storeUrlProblem(value);
  if (problem) throw new UsageError(`${source} ${problem}`);
  return value;
}

/** Parses the flags after `serve`. */
export function parseServeArgs(argv: string[]): ServeArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        upstream: { type: 'string' },
        'anthropic-upstream': { type: 'string' },
        config: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        store: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const args: ServeArgs = {};
  if (typeof values.port === 'string') args.port = parsePort(values.port, '--port');
  if (typeof values.host === 'string') args.host = nonEmpty(values.host, '--host');
  if (typeof values['data-dir'] === 'string') args.dataDir = resolve(nonEmpty(values['data-dir'], '--data-dir'));
  if (typeof values.upstream === 'string') args.upstream = parseUrl(values.upstream, '--upstream');
  if (typeof values['anthropic-upstream'] === 'string') args.anthropicUpstream = parseUrl(values['anthropic-upstream'], '--anthropic-upstream');
  if (typeof values.config === 'string') args.configFile = resolve(values.config);
  if (Array.isArray(values['allow-origin'])) args.allowOrigins = values['allow-origin'].map((origin) => parseOrigin(origin, '--allow-origin'));
  if (Array.isArray(values['allow-host'])) args.allowHosts = values['allow-host'].map((name) => parseAllowedHost(name, '--allow-host'));
  if (typeof values.store === 'string') args.store = parseStoreUrl(values.store, '--store');
  return args;
}

/** `$XDG_DATA_HOME/isartor`, else `~/.local/share/isartor`. */
export function defaultDataDir(env: NodeJS.ProcessEnv, home = homedir()): string {
  return env.XDG_DATA_HOME ? join(env.XDG_DATA_HOME, 'isartor') : join(home, '.local', 'share', 'isartor');
}

/** Leaves that may be absent from the defaults but set in a config file, with their JSON type. */
const OPTIONAL_LEAVES: Record<string, string> = {
  'semantic.threshold': 'number',
  'semantic.model': 'string',
  'local.modelPath': 'string',
  'local.backendUrl': 'string',
  'local.backendModel': 'string',
  'store.url': 'string',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function checkProviders(value: unknown, path: string): UpstreamTarget[] {
  if (!Array.isArray(value)) throw new UsageError(`${path} must be an array of providers`);
  return value.map((entry, index) => {
    const at = `${path}[${index}]`;
    const p = entry as Partial<UpstreamTarget> | null;
    if (!p || typeof p !== 'object') throw new UsageError(`${at} must be an object`);
    if (typeof p.name !== 'string' || !p.name) throw new UsageError(`${at}.name must be a non-empty string`);
    if (p.kind !== 'openai' && p.kind !== 'anthropic' && p.kind !== 'azure') throw new UsageError(`${at}.kind must be "openai", "anthropic" or "azure"`);
    if (typeof p.baseUrl !== 'string') throw new UsageError(`${at}.baseUrl must be a URL`);
    parseUrl(p.baseUrl, `${at}.baseUrl`);
    if (p.apiKey !== undefined && typeof p.apiKey !== 'string') throw new UsageError(`${at}.apiKey must be a string`);
    if (p.kind === 'azure' && (typeof p.azure?.apiVersion !== 'string')) throw new UsageError(`${at}.azure.apiVersion is required for Azure`);
    return { ...p } as UpstreamTarget;
  });
}

/** Copies `source` over `target`, checking every key against the shape of the defaults. */
function mergeChecked(target: Record<string, unknown>, source: unknown, path: string): void {
  if (kindOf(source) !== 'object') throw new UsageError(`${path || 'the config file'} must be a JSON object`);
  for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (at === 'upstream.providers') {
      target[key] = checkProviders(value, at);
    } else if (at === 'prices') {
      if (kindOf(value) !== 'object') throw new UsageError('prices must map model ids to {input, output} USD per million tokens');
      for (const [model, price] of Object.entries(value as Record<string, unknown>)) {
        const p = price as Record<string, unknown> | null;
        if (!p || typeof p.input !== 'number' || typeof p.output !== 'number') throw new UsageError(`prices.${model} needs numeric "input" and "output" (USD per million tokens)`);
      }
      target[key] = value;
    } else if (at === 'security.allowedOrigins') {
      if (!Array.isArray(value) || value.some((origin) => typeof origin !== 'string')) throw new UsageError('security.allowedOrigins must be an array of origins such as "http://localhost:5173"');
      target[key] = value.map((origin: string) => parseOrigin(origin, 'security.allowedOrigins'));
    } else if (at === 'security.allowedHosts') {
      if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) throw new UsageError('security.allowedHosts must be an array of host names such as "proxy.example.com"');
      target[key] = value.map((name: string) => parseAllowedHost(name, 'security.allowedHosts'));
    } else if (at === 'models') {
      if (!Array.isArray(value) || value.some((m) => typeof m !== 'string')) throw new UsageError('models must be an array of model ids');
      target[key] = value;
    } else if (Object.hasOwn(target, key)) {
      const expected = kindOf(target[key]);
      if (kindOf(value) !== expected) throw new UsageError(`${at} must be ${expected === 'object' ? 'an object' : `a ${expected}`} (got ${kindOf(value)})`);
      if (expected === 'object') mergeChecked(target[key] as Record<string, unknown>, value, at);
      else target[key] = value;
    } else if (OPTIONAL_LEAVES[at]) {
      if (kindOf(value) !== OPTIONAL_LEAVES[at]) throw new UsageError(`${at} must be a ${OPTIONAL_LEAVES[at]}`);
      target[key] = value;
    } else {
      throw new UsageError(`unknown setting "${at}" in the config file`);
    }
  }
}

/** Each numeric setting's allowed values, by its path in the config file. */
const RANGES: ReadonlyArray<readonly [path: string, check: (value: number) => boolean, allowed: string]> = [
  ['port', (v) => Number.isInteger(v) && v >= 0 && v <= 65535, 'a port number from 0 to 65535'],
  ['maxBodyBytes', (v) => Number.isInteger(v) && v > 0, 'a positive whole number of bytes'],
  ['exact.maxEntries', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
  ['exact.ttlSeconds', (v) => v >= 0, 'a number of seconds, 0 or more (0: no expiry)'],
  ['semantic.maxEntries', (v) => Number.isInteger(v) && v > 0, 'a positive whole number'],
  ['semantic.ttlSeconds', (v) => v >= 0, 'a number of seconds, 0 or more (0: no expiry)'],
  ['semantic.threshold', (v) => v > 0 && v <= 1, 'a cosine similarity above 0 and at most 1'],
  ['local.threads', (v) => Number.isInteger(v) && v >= 0, 'a whole number, 0 or more (0: automatic)'],
  ['local.contextSize', (v) => Number.isInteger(v) && v > 0, 'a positive whole number of tokens'],
  ['local.confidence', (v) => v >= 0 && v <= 1, 'a number from 0 to 1'],
  ['local.triageBudgetMs', (v) => v >= 0, 'a number of milliseconds, 0 or more'],
  ['local.firstTokenTimeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
  ['local.idleTimeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
  ['local.maxPromptTokens', (v) => Number.isInteger(v) && v > 0, 'a positive whole number of tokens'],
  ['local.maxHistoryTokens', (v) => Number.isInteger(v) && v >= 0, 'a whole number of tokens, 0 or more'],
  ['local.maxAnswerTokens', (v) => Number.isInteger(v) && v > 0, 'a positive whole number of tokens'],
  ['local.idleUnloadSeconds', (v) => v >= 0, 'a number of seconds, 0 or more'],
  ['upstream.timeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
  ['upstream.firstByteTimeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
  ['upstream.idleTimeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
  ['upstream.retries', (v) => Number.isInteger(v) && v >= 0, 'a whole number, 0 or more'],
  ['upstream.maxBackoffMs', (v) => v >= 0, 'a number of milliseconds, 0 or more'],
  ['store.timeoutMs', (v) => v > 0, 'a positive number of milliseconds'],
];

/**
 * Values of the right type that no setting can take (a negative size, a threshold of 5): refused at
 * start with the setting's name, instead of every request failing later.
 */
function checkRanges(config: EngineConfig): void {
  for (const [path, check, allowed] of RANGES) {
    const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw new UsageError(`${path} must be ${allowed} (got ${JSON.stringify(value)})`);
  }
  if (config.semantic.embedder !== 'lexical' && config.semantic.embedder !== 'transformers') {
    throw new UsageError(`semantic.embedder must be "lexical" or "transformers" (got ${JSON.stringify(config.semantic.embedder)})`);
  }
  if (config.local.backendUrl !== undefined) parseUrl(config.local.backendUrl, 'local.backendUrl');
}

/** Reads a JSON (comments allowed) config file. */
async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const errors: ParseError[] = [];
  // Editors on Windows often save a byte-order mark; it is not part of the JSON.
  const value: unknown = parseJsonc(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true });
  if (errors.length > 0) throw new UsageError(`config file ${path} is not valid JSON: ${printParseErrorCode(errors[0]!.error)} at offset ${errors[0]!.offset}`);
  return value;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/**
 * Providers with no key of their own on another origin than the first provider of their kind:
 * neither an environment key nor a client's key is sent there, so they answer nothing until the
 * configuration gives them an `apiKey`.
 */
export function providersWithoutKey(providers: readonly UpstreamTarget[]): UpstreamTarget[] {
  return providers.filter((provider) => !provider.apiKey && !sameOrigin(provider.baseUrl, firstOfKind(providers, provider.kind)!.baseUrl));
}

function firstOfKind(providers: readonly UpstreamTarget[], kind: ProviderKind): UpstreamTarget | undefined {
  return providers.find((provider) => provider.kind === kind);
}

/**
 * Applies URLs and keys: `--upstream` / `--anthropic-upstream` set the base URLs, OPENAI_API_KEY and
 * ANTHROPIC_API_KEY fill in keys, AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT add an Azure provider
 * (first in the chain when there is no OpenAI key, else the fallback).
 */
function applyUpstreams(config: EngineConfig, args: ServeArgs, env: NodeJS.ProcessEnv): void {
  const providers = config.upstream.providers.map((provider) => ({ ...provider }));
  const ensure = (kind: 'openai' | 'anthropic', baseUrl: string): UpstreamTarget => {
    const existing = firstOfKind(providers, kind);
    if (existing) return existing;
    const created: UpstreamTarget = { name: kind, kind, baseUrl };
    providers.push(created);
    return created;
  };
  if (args.upstream) ensure('openai', args.upstream).baseUrl = args.upstream;
  if (args.anthropicUpstream) ensure('anthropic', args.anthropicUpstream).baseUrl = args.anthropicUpstream;
  // An environment key belongs to one vendor: it goes to the first provider of its kind and to
  // providers on that provider's origin, never to a fallback elsewhere (another vendor or host).
  const envKeys: Partial<Record<ProviderKind, string | undefined>> = { openai: env.OPENAI_API_KEY, anthropic: env.ANTHROPIC_API_KEY, azure: env.AZURE_OPENAI_API_KEY };
  for (const provider of providers) {
    const key = envKeys[provider.kind];
    if (provider.apiKey || !key) continue;
    if (sameOrigin(provider.baseUrl, firstOfKind(providers, provider.kind)!.baseUrl)) provider.apiKey = key;
  }
  if (env.AZURE_OPENAI_API_KEY && env.AZURE_OPENAI_ENDPOINT && !firstOfKind(providers, 'azure')) {
    const azure: UpstreamTarget = {
      name: 'azure',
      kind: 'azure',
      baseUrl: parseUrl(env.AZURE_OPENAI_ENDPOINT, 'AZURE_OPENAI_ENDPOINT'),
      apiKey: env.AZURE_OPENAI_API_KEY,
      azure: { apiVersion: env.AZURE_OPENAI_API_VERSION || '2024-10-21', ...(env.AZURE_OPENAI_DEPLOYMENT ? { deployment: env.AZURE_OPENAI_DEPLOYMENT } : {}) },
    };
    const openaiIndex = providers.findIndex((provider) => provider.kind === 'openai');
    if (openaiIndex !== -1 && !providers[openaiIndex]!.apiKey) providers.splice(openaiIndex, 0, azure);
    else providers.push(azure);
  }
  config.upstream.providers = providers;
}

/** security.allowedHosts: the file's names, then ISARTOR_ALLOW_HOSTS (comma-separated), then each --allow-host. */
function applyAllowedHosts(config: EngineConfig, args: ServeArgs, env: NodeJS.ProcessEnv): void {
  const fromEnv = (env.ISARTOR_ALLOW_HOSTS ?? '').split(',').filter((name) => name.trim() !== '').map((name) => parseAllowedHost(name, 'ISARTOR_ALLOW_HOSTS'));
  config.security.allowedHosts = [...new Set([...(config.security.allowedHosts ?? []), ...fromEnv, ...(args.allowHosts ?? [])])];
}

/** `--store` over `ISARTOR_STORE_URL` over the file's `store.url`; each checked the same way. */
function applyStore(config: EngineConfig, args: ServeArgs, env: NodeJS.ProcessEnv): void {
  const store = config.store;
  if (!store) return;
  if (store.url !== undefined) parseStoreUrl(store.url, 'store.url');
  if (env.ISARTOR_STORE_URL) store.url = parseStoreUrl(env.ISARTOR_STORE_URL, 'ISARTOR_STORE_URL');
  if (args.store) store.url = args.store;
  if (!/^[A-Za-z0-9_.-]+$/.test(store.namespace)) throw new UsageError('store.namespace may hold letters, digits, ".", "_" and "-" only');
  if (!(store.timeoutMs > 0)) throw new UsageError('store.timeoutMs must be a positive number of milliseconds');
}

/**
 * The full configuration for `isartor serve`.
 *
 * @example const config = await loadServeConfig(parseServeArgs(['--port', '0']), process.env);
 */
export async function loadServeConfig(args: ServeArgs, env: NodeJS.ProcessEnv): Promise<EngineConfig> {
  const dataDir = args.dataDir ?? (env.ISARTOR_DATA_DIR ? resolve(env.ISARTOR_DATA_DIR) : defaultDataDir(env));
  const config = defaultConfig(dataDir);
  const configFile = args.configFile ?? (env.ISARTOR_CONFIG ? resolve(env.ISARTOR_CONFIG) : undefined);
  if (configFile) {
    mergeChecked(config as unknown as Record<string, unknown>, await readConfigFile(configFile), '');
    checkRanges(config);
  }
  // The data dir named on the command line or in the environment wins over the file's.
  if (args.dataDir || env.ISARTOR_DATA_DIR) config.dataDir = dataDir;
  // The flag wins over the environment, so a bad ISARTOR_PORT does not matter when --port is given.
  if (args.port === undefined && env.ISARTOR_PORT !== undefined && env.ISARTOR_PORT !== '') config.port = parsePort(env.ISARTOR_PORT, 'ISARTOR_PORT');
  if (env.ISARTOR_HOST) config.host = env.ISARTOR_HOST;
  if (args.port !== undefined) config.port = args.port;
  if (args.host !== undefined) config.host = args.host;
  if (args.allowOrigins) config.security.allowedOrigins = [...config.security.allowedOrigins, ...args.allowOrigins];
  applyAllowedHosts(config, args, env);
  applyUpstreams(config, args, env);
  applyStore(config, args, env);
  return config;
}
