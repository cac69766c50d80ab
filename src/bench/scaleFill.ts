/**
 * The measuring half of `isartor bench scale`, run in a fresh child process: fills the exact and
 * the semantic cache of a data dir to N entries exactly as `isartor serve` lays them out, times
 * inserts and lookups (hits and misses) through the real layers, and reads the process's memory
 * with both caches open, with no neural model loaded (the lexical embedder).
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultConfig } from '../core/config';
import type { Embedder } from '../core/embed/embedder';
import { createLexicalEmbedder } from '../core/embed/lexical';
import { createExactLayer } from '../core/layers/exact';
import { createSemanticLayer, type SemanticLayer } from '../core/layers/semantic';
import { silentLogger } from '../core/logger';
import type { Outcome, StoredAnswer } from '../core/outcome';
import type { Layer, LayerContext } from '../core/pipeline';
import { canonicalHash, credentialHash, type JsonObject, type ProxyRequest, type UpstreamTarget } from '../core/request';
import { encodeEntry, entryKey } from '../core/semantic/entries';
import { semanticKey } from '../core/semantic/keys';
import { openEmbeddedStore } from '../core/store/embedded';
import type { KeyValueStore } from '../core/store/store';
import { clientCredential } from '../core/upstream/target';
import { answerText, questionText, retypedQuestion } from './questions';
import { round, startProgress, summarize, type LatencySummary, type Progress } from './stats';

/** What the child reports for one cache size. */
export interface ScaleFillReport {
  entries: number;
  exact: CacheFigures;
  semantic: CacheFigures & { embedder: string };
  /** Resident memory of the child with both caches open and filled, after a full GC. */
  rssMb: number;
  /** The same process before it opened any cache, so the caches' own share is rssMb − baselineRssMb. */
  baselineRssMb: number;
  heapUsedMb: number;
}

export interface CacheFigures {
  /** Rate of the last inserts (up to 2,000) into a cache already holding the rest: the cost at this size. */
  insertsPerSecond: number;
  /** Bytes of everything under the cache's folder once closed (log, index snapshot). */
  diskMb: number;
  hit: LatencySummary & { found: number };
  miss: LatencySummary & { found: number };
}

/** How the fill lays out requests, shared with the parent so its `serve` finds the same entries. */
export interface ScaleLayout {
  /** Base URL of the default route's first provider (part of every partition key). */
  upstream: string;
  anthropicUpstream: string;
}

export const SCALE_MODEL = 'gpt-4o-mini';
export const SCALE_AUTH = 'Bearer isartor-bench-scale';
/** Headers of every request the scale benchmark sends. */
export const SCALE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json', authorization: SCALE_AUTH };
const SYSTEM_PROMPT = 'You are a coding assistant. Answer with working code and a short explanation.';
/** Writes in flight while filling: a busy proxy stores many answers at once (and the store commits them in groups). */
const INSERT_WINDOW = 32;
/** Lookups timed per kind (hit / miss) and cache. */
const LOOKUPS = 2000;
/** Inserts timed at the end of each fill; the insert rate is theirs. */
const TIMED_INSERTS = 2000;

/** Cache bounds under which `isartor serve` holds `entries` in each cache without evicting any. */
export function scaleCacheBounds(entries: number): { exact: { maxEntries: number }; semantic: { maxEntries: number } } {
  const maxEntries = Math.max(entries, 100_000);
  return { exact: { maxEntries }, semantic: { maxEntries } };
}

/** Writes `scaleCacheBounds(entries)` as serve's config file in `dataDir`; resolves with its path. */
export async function writeScaleConfig(dataDir: string, entries: number): Promise<string> {
  const configFile = join(dataDir, 'bench-config.json');
  await writeFile(configFile, JSON.stringify(scaleCacheBounds(entries)));
  return configFile;
}

/** The chat body a client sends for question `index` (optionally retyped for a semantic hit). */
export function scaleRequestBody(text: string): JsonObject {
  return { model: SCALE_MODEL, messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: text }], max_tokens: 512 };
}

/** The request exactly as the proxy's default route builds it for `body`. */
function proxyRequest(body: JsonObject, layout: ScaleLayout): ProxyRequest {
  const providers: UpstreamTarget[] = [
    { name: 'openai', kind: 'openai', baseUrl: layout.upstream },
    { name: 'anthropic', kind: 'anthropic', baseUrl: layout.anthropicUpstream },
  ];
  const headers = { ...SCALE_HEADERS };
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    api: 'openai.chat', route: { id: 'default', providers }, body, rawBody, headers, model: SCALE_MODEL, stream: false,
    credentialHash: credentialHash(clientCredential(headers)), clientTool: 'isartor-bench', signal: new AbortController().signal,
    cache: { noCache: false, noStore: false, semanticOff: false, localOff: false }, receivedAt: performance.now(),
  };
}

/** A ~2 KB OpenAI chat completion, as the exact and semantic caches store it. */
function storedAnswer(index: number): StoredAnswer {
  const content = answerText(index, 2048);
  return {
    api: 'openai.chat',
    body: {
      id: `chatcmpl-bench-${index}`, object: 'chat.completion', created: 1_760_000_000, model: SCALE_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 40, completion_tokens: Math.ceil(content.length / 4), total_tokens: 40 + Math.ceil(content.length / 4) },
    },
    usage: { inputTokens: 40, outputTokens: Math.ceil(content.length / 4), cachedInputTokens: 0, cacheWriteTokens: 0 },
    createdAt: Date.now(),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(path) : (await stat(path)).size;
  }
  return total;
}

function memoryNow(): NodeJS.MemoryUsage {
  (globalThis as { gc?: () => void }).gc?.(); // present when the child runs with --expose-gc
  return process.memoryUsage();
}

const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

/**
 * Runs `insert(i)` for every i in [from, to) with INSERT_WINDOW in flight; resolves with the rate
 * of the last TIMED_INSERTS of them, in inserts per second.
 */
async function fill(bar: Progress, from: number, to: number, insert: (index: number) => Promise<void>): Promise<number> {
  const timedFrom = Math.max(from, to - TIMED_INSERTS);
  let next = from;
  let timedStart = from === timedFrom ? performance.now() : 0;
  await Promise.all(Array.from({ length: Math.min(INSERT_WINDOW, to - from) }, async () => {
    while (next < to) {
      const index = next++;
      if (index === timedFrom && index > from) timedStart = performance.now();
      await insert(index);
      if (index % 500 === 0) bar.update(index);
    }
  }));
  return round(((to - timedFrom) / (performance.now() - timedStart)) * 1000, 1);
}

/** Times `layer.handle` on each request; `found` counts answers from `layer` rather than from next(). */
async function timeLookups(layer: Layer, answeredBy: string, requests: ProxyRequest[]): Promise<LatencySummary & { found: number }> {
  const missed: Outcome = { kind: 'stored', layer: 'l1b', answer: storedAnswer(0) };
  const timings: number[] = [];
  let found = 0;
  for (const req of requests) {
    const ctx: LayerContext = { req, notes: {}, responseHeaders: {} };
    let passedOn = false;
    const started = performance.now();
    const outcome = await layer.handle(ctx, async () => {
      passedOn = true;
      return missed;
    });
    timings.push(performance.now() - started);
    if (!passedOn && outcome.layer === answeredBy) found++;
  }
  return { ...summarize(timings), found };
}

/** Indexes spread over [0, entries) for hits, and indexes never stored for misses. */
function samples(entries: number): { hits: number[]; misses: number[] } {
  const count = Math.min(LOOKUPS, entries);
  const step = entries / count;
  return {
    hits: Array.from({ length: count }, (_, i) => Math.floor(i * step)),
    misses: Array.from({ length: count }, (_, i) => entries + i),
  };
}

/**
 * Fills the semantic cache. All but the last TIMED_INSERTS entries are written to the store as
 * `SemanticCache.insert` writes them and handed to the index in one bulk load (one HNSW build, as
 * `serve` does at start-up, instead of 100k one-at-a-time graph inserts); the last ones go through
 * `insert` itself and give the insert rate at this size.
 */
async function fillSemantic(entries: number, semantic: SemanticLayer, store: KeyValueStore, embedder: Embedder, request: (text: string) => ProxyRequest): Promise<number> {
  const bar = startProgress(`bench scale: semantic cache, ${entries} entries`, entries);
  const keyOf = (index: number): { partition: string; lastTurn: string } => {
    const key = semanticKey(request(questionText(index)));
    if (!key.eligible) throw new Error(`bench scale: question ${index} is not semantically cacheable (${key.reason})`);
    return key;
  };
  const bulk = Math.max(0, entries - TIMED_INSERTS);
  const loaded: Array<{ partition: string; key: string; vector: Float32Array }> = [];
  // The staged vectors live in one buffer until the bulk load: ~100k separate 512-byte backing
  // stores, freed after it, stayed in glibc's arenas and counted in this process's RSS figure.
  const rows = new Float32Array(bulk * embedder.dimensions);
  await fill(bar, 0, bulk, async (i) => {
    const { partition, lastTurn } = keyOf(i);
    const vector = rows.subarray(i * embedder.dimensions, (i + 1) * embedder.dimensions);
    vector.set(await embedder.embed(lastTurn));
    const key = entryKey(partition, lastTurn);
    await store.set(key, encodeEntry({ partition, text: lastTurn, embedder: embedder.id, vector, answer: storedAnswer(i) }));
    loaded.push({ partition, key, vector });
  });
  semantic.cache.bulkAdd(loaded);
  // Embedded first, as serve embeds a turn whose gate key the cache holds at its lookup and stores
  // it with that vector: stored without one (pending), the 2,000 would wait for lookups to embed them.
  const rate = await fill(bar, bulk, entries, async (i) => {
    const { partition, lastTurn } = keyOf(i);
    await semantic.cache.insert(partition, lastTurn, storedAnswer(i), await embedder.embed(lastTurn));
  });
  bar.stop();
  return rate;
}

/**
 * Fills `<dataDir>/exact` and `<dataDir>/semantic` to `entries` each and measures them.
 *
 * @example const report = await runScaleFill(10_000, dir, { upstream: 'http://127.0.0.1:9/v1', anthropicUpstream: 'http://127.0.0.1:9' });
 */
export async function runScaleFill(entries: number, dataDir: string, layout: ScaleLayout): Promise<ScaleFillReport> {
  const baseline = memoryNow();
  const config = defaultConfig(dataDir);
  const limits = { maxEntries: Math.max(entries, config.exact.maxEntries), ttlSeconds: config.exact.ttlSeconds };
  const exactStore = await openEmbeddedStore(join(dataDir, 'exact'), limits, { name: 'exact' });
  const semanticStore = await openEmbeddedStore(join(dataDir, 'semantic'), { ...limits, ttlSeconds: config.semantic.ttlSeconds }, { name: 'semantic' });
  const embedder = createLexicalEmbedder();
  const exact = createExactLayer({ store: exactStore, config: { ...config.exact, maxEntries: limits.maxEntries }, logger: silentLogger });
  const semantic = await createSemanticLayer({ store: semanticStore, embedder, config: config.semantic, logger: silentLogger, indexDir: join(dataDir, 'semantic', 'index') });
  const request = (text: string): ProxyRequest => proxyRequest(scaleRequestBody(text), layout);
  try {
    const exactBar = startProgress(`bench scale: exact cache, ${entries} entries`, entries);
    const exactRate = await fill(exactBar, 0, entries, (i) =>
      // The bench's own questions hold no unkeyable number, so each has a key.
      exactStore.set(canonicalHash(request(questionText(i)))!, Buffer.from(JSON.stringify(storedAnswer(i)))));
    exactBar.stop();
    const semanticRate = await fillSemantic(entries, semantic, semanticStore, embedder, request);
    const memory = memoryNow();
    const { hits, misses } = samples(entries);
    const exactHit = await timeLookups(exact, 'l1a', hits.map((i) => request(questionText(i))));
    const exactMiss = await timeLookups(exact, 'l1a', misses.map((i) => request(questionText(i))));
    const semanticHit = await timeLookups(semantic, 'l1b', hits.map((i) => request(retypedQuestion(i))));
    const semanticMiss = await timeLookups(semantic, 'l1b', misses.map((i) => request(questionText(i))));
    await semantic.close(); // writes the index snapshot `serve` starts from
    await Promise.all([exact.close?.(), exactStore.close(), semanticStore.close()]);
    return {
      entries,
      exact: { insertsPerSecond: exactRate, diskMb: mb(await folderBytes(join(dataDir, 'exact'))), hit: exactHit, miss: exactMiss },
      semantic: { embedder: embedder.id, insertsPerSecond: semanticRate, diskMb: mb(await folderBytes(join(dataDir, 'semantic'))), hit: semanticHit, miss: semanticMiss },
      rssMb: mb(memory.rss),
      baselineRssMb: mb(baseline.rss),
      heapUsedMb: mb(memory.heapUsed),
    };
  } finally {
    await Promise.allSettled([semantic.close(), exactStore.close(), semanticStore.close()]);
  }
}
