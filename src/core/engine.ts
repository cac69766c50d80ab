/**
 * Assembles the Deflection Stack from the configuration: opens the stores and the ledger, builds
 * the layers in order, runs requests through them and writes one ledger record per request.
 */
import type { EngineConfig } from './config';
import { savingsFor, spentFor, openLedger, type Ledger } from './ledger';
import type { LedgerRecord, LedgerSummary } from './ledger-types';
import type { Logger } from './logger';
import { ZERO_USAGE, type AnswerUsage, type Outcome } from './outcome';
import { runLayers, type Layer, type LayerContext } from './pipeline';
import type { ProxyRequest } from './request';
import { createUpstreamClient, type UpstreamClient } from './upstream/client';
import { exactLayerFactory, upstreamLayerFactory, type LayerFactory } from './engine-layers';
import { localLayerFactory } from './layers/local';
import { semanticLayerFactory } from './layers/semantic';
import { deferredLayerFactory, isDeferredLayer } from './layers/deferred';
import { optimiserLayerFactory } from './layers/optimiser';
import type { CountRemovedTokens, OffThreadOptimise } from './optimiser/optimise';
import type { OffThreadAnswerReader } from './stream/large-answer';
import { withOptimiserSavings } from './optimiser/savings';
import { routeLabel } from './routeLabel';
import { makeDataDir } from './store/privateFiles';
import { openSharedRedis, type SharedRedis, type SharedStoreStatus } from './store/redisConnection';
import { openTeamLedger, type TeamTotals } from './store/redisLedger';

/**
 * The Deflection Stack, first to last. Each later layer (semantic L1b, local L2, optimiser L2.5) is
 * one line here, between the exact cache and the upstream, which always stays last.
 */
// A large semantic index (or a neural embedder) opens after the proxy listens; see deferred.ts.
const semanticFactory = deferredLayerFactory('semantic', semanticLayerFactory);

export const LAYER_FACTORIES: readonly LayerFactory[] = [
  exactLayerFactory,
  semanticFactory,
  localLayerFactory,
  optimiserLayerFactory,
  upstreamLayerFactory,
];

/** Layers that write to the data dir: left out when the disk is full (see createEngine). */
const STORING_FACTORIES: ReadonlySet<LayerFactory> = new Set([exactLayerFactory, semanticFactory]);

/** Errors that mean the data dir cannot take more bytes. */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** The partition's credential part when `store.shareAcrossKeys` is on. */
const SHARED_ACROSS_KEYS = 'shared-across-keys';

/** How long `/isartor/stats` waits for the team totals before it shows the last ones read. */
const FRESH_TEAM_READ_MS = 1_000;

/** Layer name → the config section whose `enabled` is its initial switch. */
const SWITCH_SECTIONS: Record<string, 'exact' | 'semantic' | 'local' | 'optimiser'> = {
  exact: 'exact',
  semantic: 'semantic',
  local: 'local',
  optimiser: 'optimiser',
};

export interface LayerState {
  enabled: boolean;
  detail: string;
}

export interface CacheInfo {
  entries: number;
  bytes: number;
}

/** What `/isartor/stats`, `isartor stats` and the panel show. */
export interface StatsReport {
  ledger: LedgerSummary;
  layers: Record<string, LayerState>;
  caches: Record<string, CacheInfo>;
  /** Present when the caches live on a shared Redis: whether it is reachable right now. */
  store?: SharedStoreStatus;
  /** With a shared store: every replica's requests and savings together (refreshed every 2 s). */
  team?: TeamTotals;
}

/** How a request ended, as the proxy reports it once the response is finished. */
export interface RequestResult {
  req: ProxyRequest;
  /** Undefined when the request failed before a layer answered. */
  ctx?: LayerContext;
  outcome?: Outcome;
  /** HTTP status sent to the client. */
  status: number;
  /** From receipt to the end of the response. */
  latencyMs: number;
  /** Short error code when the request failed. */
  error?: string;
}

export interface Engine {
  readonly config: EngineConfig;
  readonly ledger: Ledger;
  /** The pooled upstream client; the proxy forwards count_tokens, embeddings and models with it. */
  readonly upstream: UpstreamClient;
  /** Runs a request through the enabled layers. Throws upstream errors (see upstream/errors.ts). */
  handle(req: ProxyRequest): Promise<{ outcome: Outcome; ctx: LayerContext }>;
  /** Writes the request's ledger record once its answer is complete (waits for a live body to end). */
  recordOutcome(result: RequestResult): Promise<LedgerRecord>;
  /** Turns a layer on or off at run time. The upstream layer cannot be turned off. */
  setLayerEnabled(name: string, on: boolean): void;
  layerStates(): Record<string, LayerState>;
  clearCaches(): Promise<void>;
  /**
   * Fires after a layer is switched or a clear of the caches ends (emptied or not), whoever asked: the
   * savings page in a browser changes them too, and VS Code's views must not show the old state.
   */
  onStateChange(listener: () => void): { dispose(): void };
  cacheInfo(): Record<string, CacheInfo>;
  /** What views polling every few seconds show: the team totals as last read (one poll behind). */
  stats(): StatsReport;
  /** For a single look (`/isartor/stats`): the team totals read now, this replica's appends included. */
  freshStats(): Promise<StatsReport>;
  close(): Promise<void>;
}

/** Optional cache handles a layer may expose (the exact and semantic caches do). */
interface CacheHandles {
  clear?(): Promise<void>;
  entries?(): number;
  bytes?(): number;
}

/** What the engine runs with besides its configuration: the proxy passes its body worker's jobs. */
export interface EngineDeps {
  logger: Logger;
  /** Optimises large bodies on a worker thread; absent, all run on this one. */
  offThreadOptimise?: OffThreadOptimise;
  /** Reads answers too large to store on a worker thread; absent, on this one. */
  readAnswer?: OffThreadAnswerReader;
  /** Counts with the real tokenizer what the optimiser's edits removed, on a worker; absent, the estimate stays. */
  countRemovedTokens?: CountRemovedTokens;
}

/** How long a ledger record waits for the real count of what the optimiser removed. */
const REMOVED_COUNT_WAIT_MS = 10_000;

/** `promise`'s value, or undefined if it fails or takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The usage of the answer behind an outcome, once its body has been delivered. */
async function finishedAnswer(outcome: Outcome | undefined): Promise<AnswerUsage | undefined> {
  if (!outcome) return undefined;
  if (outcome.kind === 'stored') return outcome.answer;
  if (outcome.kind === 'shared') return outcome.completion;
  // A response that was no complete answer was billed all the same for what the provider reported.
  if (outcome.kind === 'upstream') return (await outcome.completion) ?? (await outcome.unstored) ?? outcome.billed;
  return outcome.done.catch(() => undefined);
}

/**
 * Status recorded for a stream whose upstream broke off after its 200 went out: the client got the
 * API's error event in place of the rest of the answer, a bad gateway in all but the status line.
 */
const STREAM_BROKEN_STATUS = 502;

/**
 * The status and error code the client effectively got: a stream that ended in the proxy's error
 * event (the upstream broke off) is a failure, however its response began. Read once the answer
 * is over (`finishedAnswer`), when the stream's failure is known.
 */
function effectiveStatus(result: RequestResult): { status: number; error: string | undefined } {
  const outcome = result.outcome;
  const streamFailure = outcome?.kind === 'upstream' || outcome?.kind === 'shared' ? outcome.streamFailure?.() : undefined;
  if (streamFailure !== undefined && result.status < 400) return { status: STREAM_BROKEN_STATUS, error: streamFailure };
  return { status: result.status, error: result.error };
}

/**
 * Opens everything the configuration asks for. Close it with `close()`.
 *
 * @example
 * const engine = await createEngine(defaultConfig(dir), { logger });
 * const { outcome, ctx } = await engine.handle(req);
 */
export async function createEngine(config: EngineConfig, deps: EngineDeps): Promise<Engine> {
  try {
    return await openEngine(config, deps, false);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !DISK_FULL_CODES.has(code)) throw error;
    // Better to keep answering than to fail every tool pointed at the proxy: forward everything,
    // store nothing, and say so.
    deps.logger.warn(
      `the data dir ${config.dataDir} has no space left (${code}): serving read-only. Requests are forwarded, ` +
        'but nothing is cached or recorded in the savings ledger until space is freed and Isartor is restarted.',
    );
    return openEngine(config, deps, true);
  }
}

async function openEngine(config: EngineConfig, deps: EngineDeps, readOnly: boolean): Promise<Engine> {
  const { logger, offThreadOptimise, readAnswer, countRemovedTokens } = deps;
  if (!readOnly) await makeDataDir(config.dataDir);
  // The ledger opens while the layers do: each is a chain of file system round trips, and the
  // exact cache's index load (the first L1a hit, issue 15) used to start only after the ledger's.
  const ledgerOpening = openLedger(config.dataDir, { readOnly });
  ledgerOpening.catch(() => undefined); // awaited below, after the layers; a failure is thrown there
  const closeLedger = (): Promise<void> => ledgerOpening.then((opened) => opened.close(), () => undefined);
  const upstream = createUpstreamClient(config.upstream, logger);
  const storeUrl = config.store?.url;
  let shared: SharedRedis | undefined;
  try {
    shared = config.store && storeUrl ? await openSharedRedis({ ...config.store, url: storeUrl }, logger) : undefined;
  } catch (error) {
    await Promise.allSettled([closeLedger(), upstream.close()]);
    throw error;
  }
  const team = shared ? openTeamLedger(shared, logger) : undefined;
  const layers: Layer[] = [];
  const factories = readOnly ? LAYER_FACTORIES.filter((factory) => !STORING_FACTORIES.has(factory)) : LAYER_FACTORIES;
  let ledger: Ledger;
  try {
    for (const factory of factories) layers.push(await factory({ config, logger, dataDir: config.dataDir, upstream, shared, offThreadOptimise, readAnswer, countRemovedTokens }));
    ledger = await ledgerOpening;
  } catch (error) {
    await Promise.allSettled(layers.map((layer) => layer.close?.()));
    await Promise.allSettled([closeLedger(), upstream.close(), team?.close(), shared?.close()]);
    throw error;
  }
  // Deferred layers start in the next turn of the event loop, after the listen, while the exact
  // cache's index still loads: the L1b cache opens in its own thread (on another core), and
  // waiting for L1a's load put ~200 ms in front of the first L1b answer at 100k entries (issue 15).
  setImmediate(() => {
    for (const layer of layers) if (isDeferredLayer(layer)) layer.start();
  });
  // The upstream pool (loading undici, ~50 ms on this thread: upstream/undici.ts) once the other
  // layers have loaded, so it does not stand in front of the first L1a hits; a miss that comes
  // earlier creates it itself.
  const earlierLoads = layers.filter((layer) => !isDeferredLayer(layer)).map((layer) => layer.loaded);
  void Promise.allSettled(earlierLoads).then(() => setImmediate(() => void upstream.prepare().catch(() => undefined)));
  const switches = new Map<string, boolean>();
  for (const layer of layers) {
    const section = SWITCH_SECTIONS[layer.name];
    switches.set(layer.name, section ? config[section].enabled : true);
  }
  const isEnabled = (name: string): boolean => switches.get(name) !== false;
  const stateListeners = new Set<() => void>();
  const stateChanged = (): void => {
    for (const listener of stateListeners) {
      try {
        listener();
      } catch (error) {
        logger.warn(`a state listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const cacheLayers = (): Array<Layer & CacheHandles> => layers.filter((layer) => typeof (layer as CacheHandles).entries === 'function');

  const engine: Engine = {
    config,
    ledger,
    upstream,
    async handle(incoming) {
      // Opt-in team sharing: the credential leaves the partition, so any key reads every answer.
      const req = config.store?.shareAcrossKeys ? { ...incoming, credentialHash: SHARED_ACROSS_KEYS } : incoming;
      const ctx: LayerContext = { req, notes: {}, responseHeaders: {} };
      const outcome = await runLayers(layers, ctx, isEnabled);
      return { outcome, ctx };
    },
    async recordOutcome(result) {
      const { req, ctx, outcome } = result;
      const answer = await finishedAnswer(outcome);
      // The optimiser's removed tokens, counted with o200k on a worker meanwhile (the record waits,
      // the answer did not); if that count never comes, the estimate made on the request's path stays.
      if (ctx?.notes.optimisedTokensCounting) {
        const counted = await within(ctx.notes.optimisedTokensCounting, REMOVED_COUNT_WAIT_MS);
        if (counted !== undefined) ctx.notes.optimisedTokens = counted;
      }
      const usage = answer?.usage ?? ZERO_USAGE;
      const { status, error } = effectiveStatus(result);
      const layer = outcome && status < 400 ? outcome.layer : 'error';
      const layerSaving = layer === 'error' ? { savedTokens: 0, savedUsd: 0, estimated: false } : savingsFor(layer, req.model, usage, config.prices);
      const saving = layer === 'l3' && ctx ? withOptimiserSavings(layerSaving, req.model, usage, ctx.notes, config.prices) : layerSaving;
      const spent = spentFor(layer, req.model, usage, config.prices);
      const record: LedgerRecord = {
        time: Date.now(),
        tool: req.clientTool,
        routeId: routeLabel(req.route.id),
        api: req.api,
        model: req.model,
        layer,
        status,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens,
        latencyMs: result.latencyMs,
        savedTokens: saving.savedTokens,
        savedUsd: saving.savedUsd,
        spentUsd: spent.spentUsd,
        estimated: saving.estimated || answer?.usageEstimated === true,
      };
      if (spent.unpriced) record.unpriced = true;
      if (ctx?.notes.optimisedTokens !== undefined) record.optimisedTokens = ctx.notes.optimisedTokens;
      if (ctx?.notes.cacheHints !== undefined) record.cacheHints = ctx.notes.cacheHints;
      if (ctx?.notes.semanticRejected !== undefined) record.semanticRejected = ctx.notes.semanticRejected;
      if (error !== undefined) record.error = error;
      ledger.record(record);
      team?.append(record);
      return record;
    },
    setLayerEnabled(name, on) {
      if (!switches.has(name)) throw new RangeError(`no layer named "${name}" (layers: ${[...switches.keys()].join(', ')})`);
      if (name === 'upstream' && !on) throw new RangeError('the upstream layer cannot be turned off: it answers everything the caches do not');
      if (switches.get(name) === on) return;
      switches.set(name, on);
      stateChanged();
    },
    layerStates() {
      const states: Record<string, LayerState> = {};
      for (const layer of layers) states[layer.name] = { enabled: isEnabled(layer.name), detail: layer.describe?.() ?? '' };
      return states;
    },
    async clearCaches() {
      // Every cache gets its turn; a failure (a shared store too slow or down) is reported, never a silent success.
      const results = await Promise.allSettled(cacheLayers().map(async (layer) => layer.clear?.()));
      // Also after a failure: some caches may be empty by then.
      stateChanged();
      const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [`${cacheLayers()[i]!.name}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`] : []));
      if (failed.length > 0) {
        logger.warn(`clearing the caches failed (${failed.join('; ')})`);
        throw new Error(`could not clear every cache (${failed.join('; ')})`);
      }
    },
    onStateChange(listener) {
      stateListeners.add(listener);
      return { dispose: () => void stateListeners.delete(listener) };
    },
    cacheInfo() {
      const info: Record<string, CacheInfo> = {};
      for (const layer of cacheLayers()) info[layer.name] = { entries: layer.entries?.() ?? 0, bytes: layer.bytes?.() ?? 0 };
      return info;
    },
    stats() {
      const report: StatsReport = { ledger: ledger.summary(), layers: engine.layerStates(), caches: engine.cacheInfo() };
      if (shared) report.store = shared.status();
      const teamTotals = team?.cached();
      if (teamTotals) report.team = teamTotals;
      return report;
    },
    async freshStats() {
      const report = engine.stats();
      const teamTotals = await team?.fresh(FRESH_TEAM_READ_MS);
      if (teamTotals) report.team = teamTotals;
      return report;
    },
    async close() {
      stateListeners.clear();
      // Reverse order: later layers may hold on to earlier ones' stores.
      for (const layer of [...layers].reverse()) {
        try {
          await layer.close?.();
        } catch (error) {
          logger.warn(`closing layer ${layer.name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      await upstream.close();
      await ledger.close();
      await team?.close();
      await shared?.close();
    },
  };
  return engine;
}
