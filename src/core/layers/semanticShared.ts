/**
 * L1b on a team's Redis: entries live in Redis, each replica keeps its own ANN
 * index and follows the entries the others store through the store's stream, so a paraphrase
 * answered through replica A is a hit on replica B within a poll interval. Each index keeps at most
 * `semantic.maxEntries` of them, its most recent (`maxIndexed` in cache.ts); Redis keeps them all.
 */
import type { SemanticCacheConfig } from '../config';
import type { Logger } from '../logger';
import type { SemanticCache } from '../semantic/cache';
import { openRedisStore, type RedisStore } from '../store/redis';
import type { SharedRedis } from '../store/redisConnection';
import { followStore, streamTail, type StoreFollower } from '../store/redisFollow';

/** How often a replica looks for entries stored by the others. */
const FOLLOW_EVERY_MS = 200;

export interface SharedSemanticStore {
  store: RedisStore;
  /** Starts following once the cache has loaded what is in Redis now (its rescan at open). */
  follow(cache: SemanticCache): StoreFollower;
}

/**
 * Opens the semantic entries on `shared` and notes the stream position before the cache's rescan,
 * so an entry written during the rescan is read by the follower rather than missed.
 *
 * @example
 * const shared = await openSharedSemantic(redis, config.semantic, logger);
 * const layer = await createSemanticLayer({ store: shared.store, … });
 * const follower = shared.follow(layer.cache);
 */
export async function openSharedSemantic(shared: SharedRedis, config: SemanticCacheConfig, logger: Logger): Promise<SharedSemanticStore> {
  const store = openRedisStore(shared, 'semantic', { maxEntries: config.maxEntries, ttlSeconds: config.ttlSeconds }, { logger, announce: true });
  const from = await streamTail(store);
  return {
    store,
    follow: (cache) => followStore(store, from, (key) => cache.adoptStored(key), { everyMs: FOLLOW_EVERY_MS }),
  };
}

