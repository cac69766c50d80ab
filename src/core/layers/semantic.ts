/**
 * L1b, the semantic cache: answers a request whose history is identical to an earlier one and
 * whose last user turn says the same thing in other words, when every safety gate agrees.
 */
import { join } from 'node:path';
import type { EngineConfig, SemanticCacheConfig } from '../config';
import type { Embedder } from '../embed/embedder';
import { createEmbedder } from '../embed/select';
import type { Logger } from '../logger';
import type { Outcome } from '../outcome';
import type { Layer, LayerContext, Next } from '../pipeline';
import { SemanticCache } from '../semantic/cache';
import { semanticKey } from '../semantic/keys';
import { openEmbeddedStore } from '../store/embedded';
import type { KeyValueStore } from '../store/store';
import type { SharedRedis } from '../store/redisConnection';
import { openSharedSemantic } from './semanticShared';

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

export interface SemanticLayer extends Layer {
  readonly cache: SemanticCache;
  clear(): Promise<void>;
  entries(): number;
  bytes(): number;
  /** Resolves when every answer handed to the cache so far has been stored (tests, shutdown). */
  settled(): Promise<void>;
  /** Waits for pending stores and saves the index snapshot. */
  close(): Promise<void>;
}

/**
 * Creates the L1b layer (name "semantic"). Lookups happen only inside the request's semantic
 * partition; on a miss, a complete successful upstream answer is stored with the last turn's vector.
 *
 * @example const layer = await createSemanticLayer({ store, embedder, config: config.semantic, logger });
 */
export async function createSemanticLayer(deps: SemanticLayerDeps): Promise<SemanticLayer> {
  const { store, embedder, config, logger } = deps;
  const threshold = config.threshold ?? embedder.defaultThreshold;
  const cache = await SemanticCache.open({ store, embedder, threshold, logger, indexDir: deps.indexDir });
  const writes = new Set<Promise<void>>();

  async function handle(ctx: LayerContext, next: Next): Promise<Outcome> {
    const { req } = ctx;
    if (req.cache.semanticOff) return next();
    const key = semanticKey(req);
    if (!key.eligible) return next();
    let vector: Float32Array | undefined;
    if (!req.cache.noCache) {
      try {
        vector = await embedder.embed(key.lastTurn);
        const result = await cache.lookup(key.partition, key.lastTurn, vector);
        if (result.hit && result.entry.answer.api === req.api) return { kind: 'stored', layer: 'l1b', answer: result.entry.answer };
        if (!result.hit && result.rejected) ctx.notes.semanticRejected = result.rejected;
      } catch (error) {
        logger.warn(`l1b: lookup failed, treating as a miss: ${String(error)}`);
      }
    }
    const outcome = await next();
    if (outcome.kind === 'upstream' && !req.cache.noStore) {
      // The body has been read when `completion` resolves, but the proxy may still be writing its
      // end to the client: wait one event-loop turn so storing (encode, store write, graph add)
      // never delays the response it came from.
      const write = outcome.completion
        .then(async (answer) => {
          if (!answer || answer.api !== req.api) return;
          await new Promise<void>((resolve) => setImmediate(resolve));
          await cache.insert(key.partition, key.lastTurn, answer, vector);
        })
        .catch((error: unknown) => logger.warn(`l1b: could not store an answer: ${String(error)}`))
        .finally(() => writes.delete(write));
      writes.add(write);
    }
    return outcome;
  }

  return {
    name: 'semantic',
    cache,
    handle,
    describe: () =>
      `${embedder.id}, threshold ${threshold}, ${cache.index.size} entries${deps.fellBack ? ` (fallback: ${deps.fellBack})` : ''}`,
    async clear() {
      await Promise.all([...writes]);
      await store.clear();
      cache.index.clear();
      await cache.flush();
    },
    entries: () => cache.index.size,
    bytes: () => store.byteSize(),
    settled: async () => {
      await Promise.all([...writes]);
    },
    async close() {
      await Promise.all([...writes]);
      await cache.close();
    },
  };
}

/**
 * Engine factory: opens the L1b store under `<dataDir>/semantic`, picks the embedder (lexical, or
 * transformers with a lexical fallback) and builds the layer; closing the layer closes its store.
 */
export async function semanticLayerFactory(deps: { config: EngineConfig; logger: Logger; dataDir: string; shared?: SharedRedis }): Promise<Layer> {
  const { config, logger, dataDir } = deps;
  const dir = join(dataDir, 'semantic');
  // With a team Redis the entries live there and this replica follows the others' writes.
  const team = deps.shared ? await openSharedSemantic(deps.shared, config.semantic, logger) : undefined;
  const store = team?.store ?? (await openEmbeddedStore(dir, { maxEntries: config.semantic.maxEntries, ttlSeconds: config.semantic.ttlSeconds }, { name: 'semantic', logger }));
  const { embedder, fellBack } = await createEmbedder({ choice: config.semantic.embedder, model: config.semantic.model, dataDir, logger });
  const layer = await createSemanticLayer({ store, embedder, config: config.semantic, logger, indexDir: join(dir, 'index'), fellBack });
  const follower = team?.follow(layer.cache);
  const closeLayer = layer.close.bind(layer);
  layer.close = async () => {
    await follower?.close();
    await closeLayer();
    await embedder.close?.();
    await store.close();
  };
  return layer;
}
