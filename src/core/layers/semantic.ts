/**
 * L1b, the semantic cache: answers a request whose history is identical to an earlier one and
 * whose last user turn says the same thing in other words, when every safety gate agrees.
 */
import { join } from 'node:path';
import type { EngineConfig, SemanticCacheConfig } from '../config';
import type { Embedder } from '../embed/embedder';
import { createLexicalEmbedder } from '../embed/lexical';
import { createEmbedder } from '../embed/select';
import type { Logger } from '../logger';
import type { Outcome, StoredAnswer } from '../outcome';
import type { ApiStyle } from '../request';
import type { Layer, LayerContext, Next } from '../pipeline';
import { cacheBackend, openSemanticBackend, type SemanticBackend, type SemanticOpenSpec } from '../semantic/backend';
import { SemanticCache } from '../semantic/cache';
import { semanticKey } from '../semantic/keys';
import { unstorableReason } from '../stream/storable';
import { replayableFor } from '../stream/replay-usage';
import { lazyBackend } from '../semantic/lazyBackend';
import { semanticPlacement } from '../semantic/placement';
import { semanticWorkerScript, startWorkerBackend } from '../semantic/workerBackend';
import type { KeyValueStore } from '../store/store';
import type { SharedRedis } from '../store/redisConnection';
import { openSharedSemantic } from './semanticShared';

/**
 * Longest last user turn (in UTF-16 units) L1b embeds and compares; longer ones pass on. A
 * question said again in other words is short: 16 Ki characters is ~4,000 tokens, pages of text,
 * and a pasted document or log differs from its neighbour in details a similarity score cannot
 * weigh. It also bounds the embedder's work per request (16 KiB of prose: ~12 ms lexical).
 */
export const SEMANTIC_MAX_TURN_CHARS = 16 * 1024;

export interface SemanticLayerDeps {
  /** Opened by the caller; the layer reads and writes it and closes nothing but its index. */
  store: KeyValueStore;
  embedder: Embedder;
  config: SemanticCacheConfig;
  logger: Logger;
  /** Folder for the index snapshot (undefined: rebuilt from the store at every start). */
  indexDir?: string;
  /** Why the configured embedder is not the one in use, for `describe()`. */
  fellBack?: string;
}

/** The L1b layer, wherever its cache runs. */
export interface SemanticCacheLayer extends Layer {
  clear(): Promise<void>;
  entries(): number;
  bytes(): number;
  /** Resolves when every answer handed to the cache so far has been stored (tests, shutdown). */
  settled(): Promise<void>;
  /** Waits for pending stores and saves the index snapshot. */
  close(): Promise<void>;
}

/** The L1b layer over a cache in this thread, which tests and benchmarks reach into. */
export interface SemanticLayer extends SemanticCacheLayer {
  readonly cache: SemanticCache;
}

/**
 * Creates the L1b layer (name "semantic") over a cache in this thread. Lookups happen only inside
 * the request's semantic partition; on a miss, a complete successful upstream answer is stored
 * with the last turn's vector.
 *
 * @example const layer = await createSemanticLayer({ store, embedder, config: config.semantic, logger });
 */
export async function createSemanticLayer(deps: SemanticLayerDeps): Promise<SemanticLayer> {
  const { store, embedder, config, logger } = deps;
  const threshold = config.threshold ?? embedder.defaultThreshold;
  const cache = await SemanticCache.open({ store, embedder, threshold, logger, indexDir: deps.indexDir });
  const backend = cacheBackend({ cache, embedder, store, threshold, fellBack: deps.fellBack });
  return { ...semanticLayerOver(backend, logger), cache };
}

/**
 * The layer's request handling over any backend: look up, and on a miss store the upstream's
 * complete answer once the response is out.
 */
export function semanticLayerOver(backend: SemanticBackend, logger: Logger): SemanticCacheLayer {
  const writes = new Set<Promise<void>>();

  /** Keeps a store under way until it settles (for `settled()` and `close()`); logs its failure once. */
  const track = (write: Promise<void>): void => {
    // Inserts that travel to the worker together share one promise (workerBackend.ts).
    if (writes.has(write)) return;
    writes.add(write);
    write.then(
      () => writes.delete(write),
      (error: unknown) => {
        writes.delete(write);
        logger.warn(`l1b: could not store an answer: ${String(error)}`);
      },
    );
  };

  /**
   * Stores the upstream's answer once it is complete. Takes only what the store needs, so a
   * request's objects are not kept alive until its answer is stored (issue 15).
   */
  function storeWhenComplete(completion: Promise<StoredAnswer | undefined>, api: ApiStyle, partition: string, lastTurn: string): void {
    completion.then(
      (answer) => {
        if (answer && answer.api === api && !unstorableReason(answer)) track(backend.insert(partition, lastTurn, answer));
      },
      (error: unknown) => logger.warn(`l1b: could not store an answer: ${String(error)}`),
    );
  }

  async function handle(ctx: LayerContext, next: Next): Promise<Outcome> {
    const { req } = ctx;
    if (req.cache.semanticOff) return next();
    const key = semanticKey(req);
    if (!key.eligible || key.lastTurn.length > SEMANTIC_MAX_TURN_CHARS) return next();
    if (!req.cache.noCache) {
      try {
        const result = await backend.lookup(key.partition, key.lastTurn);
        // An answer whose usage is our estimate is a miss for a client that reads usage (replay-usage.ts).
        if (result.hit && result.answer.api === req.api && replayableFor(req, result.answer)) return { kind: 'stored', layer: 'l1b', answer: result.answer };
        if (!result.hit && result.rejected) ctx.notes.semanticRejected = result.rejected;
      } catch (error) {
        logger.warn(`l1b: lookup failed, treating as a miss: ${String(error)}`);
      }
    }
    const outcome = await next();
    if (outcome.kind === 'upstream' && !req.cache.noStore && !outcome.fromFallback) storeWhenComplete(outcome.completion, req.api, key.partition, key.lastTurn);
    return outcome;
  }

  return {
    name: 'semantic',
    handle,
    describe: () => backend.describe(),
    async clear() {
      await Promise.allSettled([...writes]);
      await backend.clear();
    },
    entries: () => backend.stats().entries,
    bytes: () => backend.stats().bytes,
    settled: async () => {
      await Promise.allSettled([...writes]);
    },
    async close() {
      await Promise.allSettled([...writes]);
      await backend.close();
    },
  };
}

/**
 * Engine factory: the L1b cache (store under `<dataDir>/semantic`, embedder, vector index) opens
 * in a worker thread, so embedding and index upkeep never run on the thread that serves requests
 * (in VS Code, the extension host's). Without the worker's script it opens in this thread.
 */
export async function semanticLayerFactory(deps: { config: EngineConfig; logger: Logger; dataDir: string; shared?: SharedRedis }): Promise<Layer> {
  const { config, logger, dataDir } = deps;
  const spec = { config: config.semantic, dataDir };
  // With a team Redis the entries live there (on this thread's Redis connection) and this replica
  // follows the others' writes; otherwise the cache runs in a worker thread when its script exists.
  if (deps.shared) return semanticLayerOver(await openTeamSemanticBackend(deps.shared, spec, logger), logger);
  const script = semanticWorkerScript();
  if (!script) logger.warn('l1b: the semantic worker (dist/semanticWorker.js) is missing from this install, so embedding runs on the proxy\'s thread and can delay other clients; reinstall Isartor');
  const placement = semanticPlacement(config.semantic, dataDir, script);
  // An empty cache with the built-in embedder starts its worker with the first request instead
  // (see lazyBackend.ts); until then it describes itself as the worker would.
  if (placement === 'lazy') {
    const embedder = createLexicalEmbedder();
    const idleDescription = `${embedder.id}, threshold ${config.semantic.threshold ?? embedder.defaultThreshold}, 0 entries`;
    return semanticLayerOver(lazyBackend({ start: () => startWorkerBackend(spec, { logger }), logger, idleDescription }), logger);
  }
  const backend = placement === 'worker' ? await startWorkerBackend(spec, { logger }) : await openSemanticBackend(spec, logger);
  return semanticLayerOver(backend, logger);
}

/** L1b on a team's Redis, in this thread: entries in Redis, a local index that follows the others' writes. */
async function openTeamSemanticBackend(shared: SharedRedis, spec: SemanticOpenSpec, logger: Logger): Promise<SemanticBackend> {
  const { config, dataDir } = spec;
  const team = await openSharedSemantic(shared, config, logger);
  const { embedder, fellBack } = await createEmbedder({ choice: config.embedder, model: config.model, dataDir, logger });
  const threshold = config.threshold ?? embedder.defaultThreshold;
  // Redis holds every replica's entries and bounds them by memory and expiry only: this replica's
  // index keeps the configured number, its most recently added or used.
  const cache = await SemanticCache.open({ store: team.store, embedder, threshold, logger, indexDir: join(dataDir, 'semantic', 'index'), maxIndexed: config.maxEntries });
  const follower = team.follow(cache);
  return cacheBackend({
    cache, embedder, store: team.store, threshold, fellBack,
    closeAll: async () => {
      await follower.close();
      await embedder.close?.();
      await team.store.close();
    },
  });
}
