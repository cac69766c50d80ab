/**
 * The engine's settings: one typed object, sanitised once at the boundary (CLI flags, config file,
 * env vars, or the extension's settings) and read nowhere else raw.
 */
import type { UpstreamTarget } from './request';

export interface ExactCacheConfig {
  enabled: boolean;
  /** LRU bound on stored answers. */
  maxEntries: number;
  /** Entries older than this are misses and get evicted. 0 = never expire. */
  ttlSeconds: number;
}

export interface SemanticCacheConfig {
  enabled: boolean;
  embedder: 'lexical' | 'transformers';
  /** Cosine similarity a neighbour needs; undefined = the embedder's calibrated default. */
  threshold?: number;
  /** transformers.js: a local model folder, or a model id to download into the data dir on request. */
  model?: string;
  maxEntries: number;
  ttlSeconds: number;
}

export interface LocalModelConfig {
  enabled: boolean;
  /** Path to a .gguf file for the embedded node-llama-cpp engine. */
  modelPath?: string;
  /** Base URL of a local OpenAI-compatible server (Ollama, LM Studio, llama.cpp server) instead. */
  backendUrl?: string;
  backendModel?: string;
  threads: number;
  contextSize: number;
  gpu: boolean;
  /** Minimum probability of SIMPLE from the triage step to answer locally. */
  confidence: number;
  triageBudgetMs: number;
  /**
   * Longest wait for the first text of a local answer once triage said SIMPLE (the model reads the
   * prompt, or waits for the answer before it, meanwhile). Past it the request goes to the cloud.
   */
  firstTokenTimeoutMs: number;
  /**
   * Longest silence between two pieces of a local answer. Before the answer is committed to the
   * client the request then goes to the cloud; after, the client's stream ends with an error frame.
   */
  idleTimeoutMs: number;
  maxPromptTokens: number;
  /** Earlier turns allowed before the last user turn, in tokens; 0 = single-turn requests only. Default 256. */
  maxHistoryTokens?: number;
  maxAnswerTokens: number;
  idleUnloadSeconds: number;
}

export interface OptimiserConfig {
  enabled: boolean;
  /** Add Anthropic cache_control breakpoints to requests that carry none. */
  cacheHints: boolean;
  /**
   * Opt-in, changes what the model reads: removes trailing spaces and collapses blank-line runs in
   * recognised instruction files (CLAUDE.md, AGENTS.md, … inside system prompts; never user turns,
   * never `cache_control` blocks).
   */
  whitespace: boolean;
  /** Opt-in, changes what the model reads: deletes `<!-- … -->` comments in the same recognised files. */
  htmlComments: boolean;
  /** Opt-in, changes what the model reads: drops a recognised instruction file repeated verbatim in the same request. */
  dedupeBlocks: boolean;
}

export interface UpstreamConfig {
  /** Default route's ordered fallback chain. */
  providers: UpstreamTarget[];
  /**
   * Longest wait for a non-streamed answer (its response starts only once the model has finished)
   * and for the other endpoints.
   */
  timeoutMs: number;
  /**
   * Longest wait for a streamed answer to start (response headers). Providers start a stream
   * within seconds, so a stream that has not started by then is hanging. Default 45 s.
   */
  firstByteTimeoutMs?: number;
  /** Longest silence between two chunks of a response body once it started. Default 300 s. */
  idleTimeoutMs?: number;
  /**
   * Retries per provider on 429/5xx/connection errors before falling back to the next; 0 when the
   * client announces retries of its own (x-stainless-retry-count, sent by the official SDKs).
   */
  retries: number;
  /** Upper bound on one backoff wait, Retry-After included. */
  maxBackoffMs: number;
}

export interface SecurityConfig {
  /**
   * Browser origins allowed to call the proxy (e.g. "http://localhost:5173"). Empty by default:
   * any request carrying an Origin header (web pages, sandboxed iframes' "null", file://,
   * browser extensions) is refused with 403.
   */
  allowedOrigins: string[];
  /**
   * Host names requests may be addressed to besides the built-in ones (loopback names on a
   * loopback bind; IP addresses and this machine's name on any other): a load balancer's or a DNS
   * name for the machine. A leading dot (".corp.example") allows that domain and its subdomains.
   * Any other Host is refused with 403, as DNS rebinding. Absent in hand-built configs = none.
   */
  allowedHosts?: string[];
}

/** Where the caches live: the embedded store (default) or a Redis shared by every replica. */
export interface StoreConfig {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS); absent = the embedded store. */
  url?: string;
  /** Key prefix in Redis: replicas with the same URL and namespace share one cache. */
  namespace: string;
  /**
   * Opt-in: answers are shared by everyone using this namespace whatever their API key (the
   * credential leaves the partition). Anyone who can reach the proxy reads every cached answer.
   */
  shareAcrossKeys: boolean;
  /** Longest wait for one Redis command before the request goes on without it. */
  timeoutMs: number;
}

/** Model id → USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
  /**
   * A higher tier for the whole request once its input passes a size (Anthropic's long-context
   * pricing): every input-derived rate (input, cache reads, cache writes) times `inputFactor`, output
   * times `outputFactor`. See costUsd in prices.ts.
   */
  longContext?: LongContextTier;
}

/** Rates for a request whose input tokens (cache reads and writes included) exceed `aboveInputTokens`. */
export interface LongContextTier {
  aboveInputTokens: number;
  inputFactor: number;
  outputFactor: number;
}

export interface EngineConfig {
  /** Folder holding caches, indexes and the ledger. */
  dataDir: string;
  host: string;
  port: number;
  /** Largest request body accepted, in bytes (413 above). */
  maxBodyBytes: number;
  exact: ExactCacheConfig;
  semantic: SemanticCacheConfig;
  local: LocalModelConfig;
  optimiser: OptimiserConfig;
  upstream: UpstreamConfig;
  /** Cache location; absent in hand-built configs = the embedded store. */
  store?: StoreConfig;
  /** Overrides and additions to the built-in price table. */
  prices: Record<string, ModelPrice>;
  /** Models listed by GET /v1/models when the upstream has no such route. */
  models: string[];
  security: SecurityConfig;
}

export const DEFAULT_OPENAI_BASE = 'https://api.openai.com/v1';
export const DEFAULT_ANTHROPIC_BASE = 'https://api.anthropic.com';

/** Embedded defaults: everything local on, cloud fallback to the public APIs. */
export function defaultConfig(dataDir: string): EngineConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 8787,
    maxBodyBytes: 32 * 1024 * 1024,
    exact: { enabled: true, maxEntries: 100_000, ttlSeconds: 7 * 24 * 3600 },
    semantic: { enabled: true, embedder: 'lexical', maxEntries: 100_000, ttlSeconds: 7 * 24 * 3600 },
    local: {
      enabled: true,
      threads: 0,
      contextSize: 2048,
      gpu: false,
      confidence: 0.9,
      triageBudgetMs: 400,
      // A 0.5B model on a slow 2-core machine reads a 512-token prompt in a few seconds and then
      // writes several tokens a second; these only catch a backend that hangs.
      firstTokenTimeoutMs: 15_000,
      idleTimeoutMs: 5_000,
      maxPromptTokens: 512,
      maxHistoryTokens: 256,
      maxAnswerTokens: 512,
      idleUnloadSeconds: 300,
    },
    // Only cache hints by default: the other switches change what the model reads (opt-in).
    optimiser: { enabled: true, cacheHints: true, whitespace: false, htmlComments: false, dedupeBlocks: false },
    upstream: {
      providers: [
        { name: 'openai', kind: 'openai', baseUrl: DEFAULT_OPENAI_BASE },
        { name: 'anthropic', kind: 'anthropic', baseUrl: DEFAULT_ANTHROPIC_BASE },
      ],
      timeoutMs: 600_000,
      firstByteTimeoutMs: 45_000,
      idleTimeoutMs: 300_000,
      retries: 2,
      maxBackoffMs: 20_000,
    },
    store: { namespace: 'isartor', shareAcrossKeys: false, timeoutMs: 100 },
    prices: {},
    models: [],
    security: { allowedOrigins: [], allowedHosts: [] },
  };
}
