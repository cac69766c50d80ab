/**
 * Factories that build each layer of the Deflection Stack with what it needs (its store, the
 * upstream client). The engine lists them in order; each layer module stays free of wiring.
 */
import type { EngineConfig } from './config';
import { EXACT_STORE_NAME, exactStoreDir } from './exactStorePlace';
import { createExactLayer } from './layers/exact';
import { createUpstreamLayer } from './layers/upstream';
import type { Logger } from './logger';
import type { Layer } from './pipeline';
import { openEmbeddedStore } from './store/embedded';
import { openRedisStore } from './store/redis';
import type { SharedRedis } from './store/redisConnection';
import { createRedisFlight } from './store/redisFlight';
import type { UpstreamClient } from './upstream/client';
import type { CountRemovedTokens, OffThreadOptimise } from './optimiser/optimise';
import type { OffThreadAnswerReader } from './stream/large-answer';

/** What every layer factory receives. */
export interface LayerFactoryDeps {
  config: EngineConfig;
  logger: Logger;
  /** Folder for the layer's own files (stores, indexes, models). */
  dataDir: string;
  /** The engine's pooled upstream client, for layers that call out. */
  upstream: UpstreamClient;
  /** The team's Redis when `store.url` is set; the caches live there instead of in `dataDir`. */
  shared?: SharedRedis;
  /** Optimises large bodies on a worker thread (the proxy's body worker); absent, all run here. */
  offThreadOptimise?: OffThreadOptimise;
  /** Reads answers too large to store on a worker thread (the proxy's body worker); absent, here. */
  readAnswer?: OffThreadAnswerReader;
  /** Counts removed tokens with the real tokenizer on a worker (the proxy's count worker). */
  countRemovedTokens?: CountRemovedTokens | undefined;
}

export type LayerFactory = (deps: LayerFactoryDeps) => Promise<Layer> | Layer;

/**
 * L1a: the exact cache on its own embedded store under `<dataDir>/exact`. The store's index loads
 * while the proxy starts listening (lookups wait for it), so start-up does not wait for it.
 */
export const exactLayerFactory: LayerFactory = async ({ config, logger, dataDir, shared }) => {
  const limits = { maxEntries: config.exact.maxEntries, ttlSeconds: config.exact.ttlSeconds };
  if (shared) return sharedExactLayer(shared, limits, config, logger);
  const store = await openEmbeddedStore(exactStoreDir(dataDir), limits, { name: EXACT_STORE_NAME, logger, loadInBackground: true, valuesAreText: true });
  const layer = createExactLayer({ store, config: config.exact, logger });
  layer.loaded = store.loaded.catch(() => undefined); // a failed load is logged by the store
  const closeLayer = layer.close?.bind(layer);
  // The factory opened the store, so closing the layer closes it too.
  layer.close = async () => {
    await closeLayer?.();
    await store.close();
  };
  return layer;
};

/** L1a on the team's Redis: same keys, TTL by Redis, one upstream call per new question across replicas. */
function sharedExactLayer(shared: SharedRedis, limits: { maxEntries: number; ttlSeconds: number }, config: EngineConfig, logger: Logger): Layer {
  const store = openRedisStore(shared, 'exact', limits, { logger });
  const layer = createExactLayer({ store, config: config.exact, logger, replicas: createRedisFlight(store, { maxWaitMs: config.upstream.timeoutMs }) });
  const describe = layer.describe?.bind(layer);
  layer.describe = () => (shared.available() ? `${describe?.() ?? ''} (shared)` : `${shared.status().detail}; serving from the upstream`);
  const closeLayer = layer.close?.bind(layer);
  layer.close = async () => {
    await closeLayer?.();
    await store.close();
  };
  return layer;
}

/** L3: the upstream, always last. */
export const upstreamLayerFactory: LayerFactory = ({ upstream, readAnswer }) => createUpstreamLayer({ client: upstream, ...(readAnswer ? { readAnswer } : {}) });
