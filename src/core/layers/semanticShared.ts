/**
 * L1b on a team's Redis: entries (with their vectors) live in Redis, each replica keeps its own ANN
 * index and follows the entries the others store through the store's stream, so a paraphrase
 * answered through replica A is a hit on replica B within a poll interval.
 */
import type { SemanticCacheConfig } from '../config';
import type { Logger } from '../logger';
import type { SemanticCache } from '../semantic/cache';
import { ENTRY_KEY_PREFIX, partitionOfKey, readEntry } from '../semantic/entries';
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
    follow: (cache) => followStore(store, from, (key) => adoptEntry(cache, store, key), { everyMs: FOLLOW_EVERY_MS }),
  };
}

/**
 * Adds an entry another replica stored to this replica's index, the way the cache's own rescan
 * does. Entries embedded by another embedder are left out (their vectors do not compare); the
 * team's replicas should share one embedder, and a restart re-embeds them anyway.
 */
async function adoptEntry(cache: SemanticCache, store: RedisStore, key: string): Promise<void> {
  if (!key.startsWith(ENTRY_KEY_PREFIX) || cache.index.has(key)) return;
  const entry = await readEntry(store, key);
  if (!entry || partitionOfKey(key) !== entry.partition || entry.embedder !== cache.embedderId) return;
  if (entry.vector.length !== cache.index.dimensions || cache.index.has(key)) return;
  cache.index.add(entry.partition, key, entry.vector);
}
