/**
 * The extension's settings (`isartor.*`) as one typed, sanitised object, and their mapping onto the
 * engine's `EngineConfig`. Nothing else in the extension reads raw configuration.
 */
import type { EngineConfig, ModelPrice } from '../core/config';
import { DEFAULT_ANTHROPIC_BASE, DEFAULT_OPENAI_BASE, defaultConfig } from '../core/config';
import type { ProviderKind, UpstreamTarget } from '../core/request';
import { storeUrlProblem } from '../core/store/redisUrl';
import { STORE_PASSWORD_SECRET } from './secrets';

export type StorageScope = 'workspace' | 'global';

/** The layer switches a user can flip; the names are the engine's layer ids. */
export const LAYER_SWITCHES = ['exact', 'semantic', 'local', 'optimiser'] as const;
export type LayerSwitch = (typeof LAYER_SWITCHES)[number];

/** One cloud provider of the default route. Keys are never here: they live in the secret store. */
export interface ProviderSetting {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  /** Azure only. */
  apiVersion?: string;
  /** Azure only: a fixed deployment; otherwise the request's model names the deployment. */
  deployment?: string;
}

/** One model offered to Copilot Chat and other `vscode.lm` users. */
export interface ChatModelSetting {
  /** The model id sent upstream, e.g. "gpt-4o" or "claude-sonnet-4-20250514". */
  id: string;
  /** Name of the provider (from `isartor.providers`) that serves it; guessed from the id if absent. */
  provider?: string;
  /** Shown in the model picker (" via Isartor" is appended). */
  name?: string;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  toolCalling?: boolean;
}

export interface IsartorSettings {
  port: number;
  storage: StorageScope;
  layers: Record<LayerSwitch, boolean>;
  exact: { maxEntries: number; ttlHours: number };
  /** embedder: which L1b embedder; model: a transformers.js model folder (or hub id downloaded into the data dir). */
  semantic: { threshold?: number; embedder: 'lexical' | 'transformers'; model?: string };
  local: {
    modelPath?: string;
    backendUrl?: string;
    backendModel?: string;
    triageBudgetMs: number;
    firstTokenTimeoutMs: number;
    idleTimeoutMs: number;
    maxAnswerTokens: number;
  };
  /** Opt-in L2.5 edits of recognised instruction files (off by default: they change what the model reads). */
  optimiser: { whitespace: boolean; htmlComments: boolean; dedupeBlocks: boolean };
  /** Ordered fallback chain of the default route; the built-in OpenAI + Anthropic pair when unset. */
  providers: ProviderSetting[];
  /** False when `providers` holds the built-in defaults because the setting is empty. */
  providersCustomised: boolean;
  /** Models from `isartor.models`; empty means "the built-in list for each provider". */
  models: ChatModelSetting[];
  prices: Record<string, ModelPrice>;
  /** `isartor.store.url`: a team's Redis (without its password, which lives in the secret store). */
  store: { url?: string };
  /** What was ignored and why, one line each, for the log. */
  problems: string[];
}

/** Reads one key below `isartor.`; `vscode.workspace.getConfiguration('isartor')` fits. */
export interface SettingsSource {
  get<T>(key: string): T | undefined;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** The providers used when `isartor.providers` is empty: the public OpenAI and Anthropic APIs. */
export const DEFAULT_PROVIDERS: readonly ProviderSetting[] = [
  { name: 'openai', kind: 'openai', baseUrl: DEFAULT_OPENAI_BASE },
  { name: 'anthropic', kind: 'anthropic', baseUrl: DEFAULT_ANTHROPIC_BASE },
];

const PROVIDER_KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'azure'];

/**
 * Reads and sanitises every `isartor.*` setting. Bad values fall back to the default and are
 * reported in `problems`, so a typo in settings.json never stops the proxy from starting.
 *
 * @example readSettings(vscode.workspace.getConfiguration('isartor')).port // 8787
 */
export function readSettings(source: SettingsSource): IsartorSettings {
  const problems: string[] = [];
  const engineDefaults = defaultConfig('');
  const layers = {} as Record<LayerSwitch, boolean>;
  for (const name of LAYER_SWITCHES) layers[name] = readBoolean(source, `layers.${name}`, true, problems);
  const providers = readProviders(source.get('providers'), problems);
  return {
    port: readInteger(source, 'port', DEFAULT_PORT, 0, 65_535, problems),
    storage: readEnum(source, 'storage', ['workspace', 'global'] as const, 'workspace', problems),
    layers,
    exact: {
      maxEntries: readInteger(source, 'exact.maxEntries', engineDefaults.exact.maxEntries, 1, 10_000_000, problems),
      ttlHours: readNumber(source, 'exact.ttlHours', engineDefaults.exact.ttlSeconds / 3600, 0, 24 * 365 * 10, problems),
    },
    semantic: {
      threshold: readOptionalNumber(source, 'semantic.threshold', 0, 1, problems),
      embedder: readEnum(source, 'semantic.embedder', ['lexical', 'transformers'] as const, engineDefaults.semantic.embedder, problems),
      model: readOptionalString(source, 'semantic.model'),
    },
    local: {
      modelPath: readOptionalString(source, 'local.modelPath'),
      backendUrl: readOptionalUrl(source, 'local.backendUrl', problems),
      backendModel: readOptionalString(source, 'local.backendModel'),
      triageBudgetMs: readInteger(source, 'local.triageBudgetMs', engineDefaults.local.triageBudgetMs, 50, 120_000, problems),
      firstTokenTimeoutMs: readInteger(source, 'local.firstTokenTimeoutMs', engineDefaults.local.firstTokenTimeoutMs, 100, 600_000, problems),
      idleTimeoutMs: readInteger(source, 'local.idleTimeoutMs', engineDefaults.local.idleTimeoutMs, 100, 600_000, problems),
      maxAnswerTokens: readInteger(source, 'local.maxAnswerTokens', engineDefaults.local.maxAnswerTokens, 1, 8192, problems),
    },
    optimiser: {
      whitespace: readBoolean(source, 'optimiser.whitespace', false, problems),
      htmlComments: readBoolean(source, 'optimiser.htmlComments', false, problems),
      dedupeBlocks: readBoolean(source, 'optimiser.dedupeBlocks', false, problems),
    },
    providers: providers.length > 0 ? providers : DEFAULT_PROVIDERS.map((provider) => ({ ...provider })),
    providersCustomised: providers.length > 0,
    models: readModels(source.get('models'), providers.length > 0 ? providers : DEFAULT_PROVIDERS, problems),
    prices: readPrices(source.get('prices'), problems),
    store: { url: readStoreUrl(source, problems) },
    problems,
  };
}

/**
 * The engine configuration for these settings. `keys` maps provider names to their API keys (from
 * the secret store); providers without a key still forward, using the client's own credential.
 */
export function toEngineConfig(settings: IsartorSettings, dataDir: string, keys: ReadonlyMap<string, string>): EngineConfig {
  const config = defaultConfig(dataDir);
  config.host = '127.0.0.1';
  config.port = settings.port;
  config.exact = { ...config.exact, enabled: settings.layers.exact, maxEntries: settings.exact.maxEntries, ttlSeconds: Math.round(settings.exact.ttlHours * 3600) };
  config.semantic = { ...config.semantic, enabled: settings.layers.semantic, threshold: settings.semantic.threshold, embedder: settings.semantic.embedder, model: settings.semantic.model };
  config.local = { ...config.local, enabled: settings.layers.local, ...settings.local };
  config.optimiser = { ...config.optimiser, ...settings.optimiser, enabled: settings.layers.optimiser };
  config.upstream = { ...config.upstream, providers: settings.providers.map((provider) => toUpstreamTarget(provider, keys.get(provider.name))) };
  config.prices = { ...settings.prices };
  config.models = [...new Set(settings.models.map((model) => model.id))];
  if (settings.store.url && config.store) config.store = { ...config.store, url: withPassword(settings.store.url, keys.get(STORE_PASSWORD_SECRET)) };
  return config;
}

/** `isartor.store.url`, checked; a password written into it is refused (it belongs in the secret store). */
function readStoreUrl(source: SettingsSource, problems: string[]): string | undefined {
  const url = readOptionalString(source, 'store.url');
  if (!url) return undefined;
  const problem = storeUrlProblem(url);
  if (problem) {
    problems.push(`store.url ${problem}; using this machine's own cache`);
    return undefined;
  }
  if (new URL(url).password) {
    problems.push('store.url: the password was ignored, it belongs in the secret store (run "Isartor: Set Shared Cache Password…")');
    const bare = new URL(url);
    bare.password = '';
    return bare.toString();
  }
  return url;
}

/** The store URL with the password from the secret store, if there is one. */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const full = new URL(url);
  full.password = password;
  return full.toString();
}

/** A provider setting as the engine's upstream target, with its key when there is one. */
export function toUpstreamTarget(provider: ProviderSetting, apiKey?: string): UpstreamTarget {
  const target: UpstreamTarget = { name: provider.name, kind: provider.kind, baseUrl: provider.baseUrl };
  if (apiKey) target.apiKey = apiKey;
  if (provider.kind === 'azure') {
    target.azure = { apiVersion: provider.apiVersion ?? DEFAULT_AZURE_API_VERSION };
    if (provider.deployment) target.azure.deployment = provider.deployment;
  }
  return target;
}

/** Settings whose change needs the proxy restarted (everything but the live layer switches). */
export const RESTART_KEYS = ['port', 'storage', 'store', 'exact', 'semantic', 'local', 'optimiser', 'providers', 'prices', 'models'] as const;

/** True when a configuration change touches `isartor.<key>` (or any `isartor.*` without a key). */
export function affects(event: { affectsConfiguration(section: string): boolean }, key?: string): boolean {
  return event.affectsConfiguration(key ? `isartor.${key}` : 'isartor');
}

function readBoolean(source: SettingsSource, key: string, fallback: boolean, problems: string[]): boolean {
  const value = source.get<unknown>(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  problems.push(`isartor.${key}: expected true or false, using ${fallback}`);
  return fallback;
}

function readNumber(source: SettingsSource, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const value = source.get<unknown>(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  problems.push(`isartor.${key}: expected a number from ${min} to ${max}, using ${fallback}`);
  return fallback;
}

function readInteger(source: SettingsSource, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const value = readNumber(source, key, fallback, min, max, problems);
  if (Number.isInteger(value)) return value;
  problems.push(`isartor.${key}: expected a whole number, using ${Math.round(value)}`);
  return Math.round(value);
}

function readOptionalNumber(source: SettingsSource, key: string, min: number, max: number, problems: string[]): number | undefined {
  const value = source.get<unknown>(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
  problems.push(`isartor.${key}: expected a number from ${min} to ${max} or null, using the calibrated default`);
  return undefined;
}

function readEnum<T extends string>(source: SettingsSource, key: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const value = source.get<unknown>(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.push(`isartor.${key}: expected one of ${allowed.join(', ')}, using ${fallback}`);
  return fallback;
}

function readOptionalString(source: SettingsSource, key: string): string | undefined {
  const value = source.get<unknown>(key);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function readOptionalUrl(source: SettingsSource, key: string, problems: string[]): string | undefined {
  const value = readOptionalString(source, key);
  if (value === undefined) return undefined;
  const url = parseHttpUrl(value);
  if (url) return url;
  problems.push(`isartor.${key}: "${value}" is not an http(s) URL, ignored`);
  return undefined;
}

/** An http(s) URL without its trailing slash, or undefined. */
function parseHttpUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field names that would hold a secret; settings must never carry one. */
const SECRET_FIELDS = ['apiKey', 'api_key', 'key', 'token', 'secret', 'password'];

function readProviders(raw: unknown, problems: string[]): ProviderSetting[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push('isartor.providers: expected a list of {name, kind, baseUrl}, using the defaults');
    return [];
  }
  const providers: ProviderSetting[] = [];
  raw.forEach((entry, index) => {
    const at = `isartor.providers[${index}]`;
    if (!isRecord(entry)) return void problems.push(`${at}: expected an object, ignored`);
    for (const field of SECRET_FIELDS) {
      if (field in entry) problems.push(`${at}.${field}: ignored, keys belong in the secret store (run "Isartor: Set Provider API Key…")`);
    }
    const name = typeof entry.name === 'string' ? entry.name.trim() : '';
    const kind = entry.kind as ProviderKind;
    const baseUrl = typeof entry.baseUrl === 'string' ? parseHttpUrl(entry.baseUrl.trim()) : undefined;
    if (!name) return void problems.push(`${at}: needs a name, ignored`);
    if (providers.some((provider) => provider.name === name)) return void problems.push(`${at}: a second provider named "${name}", ignored`);
    if (!PROVIDER_KINDS.includes(kind)) return void problems.push(`${at}: kind must be one of ${PROVIDER_KINDS.join(', ')}, ignored`);
    if (!baseUrl) return void problems.push(`${at}: baseUrl must be an http(s) URL, ignored`);
    const provider: ProviderSetting = { name, kind, baseUrl };
    if (kind === 'azure') {
      provider.apiVersion = typeof entry.apiVersion === 'string' && entry.apiVersion.trim() ? entry.apiVersion.trim() : DEFAULT_AZURE_API_VERSION;
      if (typeof entry.deployment === 'string' && entry.deployment.trim()) provider.deployment = entry.deployment.trim();
    }
    providers.push(provider);
  });
  return providers;
}

function readModels(raw: unknown, providers: readonly ProviderSetting[], problems: string[]): ChatModelSetting[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push('isartor.models: expected a list of model ids or {id, provider, name}, using the built-in list');
    return [];
  }
  const models: ChatModelSetting[] = [];
  raw.forEach((entry, index) => {
    const at = `isartor.models[${index}]`;
    if (typeof entry === 'string') {
      if (entry.trim()) models.push({ id: entry.trim() });
      return;
    }
    if (!isRecord(entry) || typeof entry.id !== 'string' || !entry.id.trim()) return void problems.push(`${at}: expected a model id or {id, ...}, ignored`);
    const model: ChatModelSetting = { id: entry.id.trim() };
    if (typeof entry.provider === 'string') {
      if (providers.some((provider) => provider.name === entry.provider)) model.provider = entry.provider;
      else problems.push(`${at}.provider: no provider named "${entry.provider}", guessing from the model id`);
    }
    if (typeof entry.name === 'string' && entry.name.trim()) model.name = entry.name.trim();
    if (isPositiveInteger(entry.maxInputTokens)) model.maxInputTokens = entry.maxInputTokens;
    if (isPositiveInteger(entry.maxOutputTokens)) model.maxOutputTokens = entry.maxOutputTokens;
    if (typeof entry.toolCalling === 'boolean') model.toolCalling = entry.toolCalling;
    models.push(model);
  });
  return models;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function readPrices(raw: unknown, problems: string[]): Record<string, ModelPrice> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) {
    problems.push('isartor.prices: expected {"model": {"input": USD per million, "output": ...}}, ignored');
    return {};
  }
  const prices: Record<string, ModelPrice> = {};
  for (const [model, entry] of Object.entries(raw)) {
    const rate = (field: string): number | undefined => {
      const value = isRecord(entry) ? entry[field] : undefined;
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
    };
    const input = rate('input');
    const output = rate('output');
    if (input === undefined || output === undefined) {
      problems.push(`isartor.prices["${model}"]: needs non-negative "input" and "output" (USD per million tokens), ignored`);
      continue;
    }
    const price: ModelPrice = { input, output };
    const cachedInput = rate('cachedInput');
    const cacheWrite = rate('cacheWrite');
    if (cachedInput !== undefined) price.cachedInput = cachedInput;
    if (cacheWrite !== undefined) price.cacheWrite = cacheWrite;
    prices[model] = price;
  }
  return prices;
}
