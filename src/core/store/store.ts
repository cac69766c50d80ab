/**
 * A persistent key → bytes map with LRU and TTL bounds. The embedded store is the default; a Redis
 * store implements the same interface for teams that share one cache.
 */

export interface StoreLimits {
  /** Least recently used entries are evicted beyond this count. */
  maxEntries: number;
  /** Entries older than this are treated as absent and evicted. 0 = never expire. */
  ttlSeconds: number;
}

export interface KeyValueStore {
  /** The value, or undefined when absent or expired. A hit counts as a use for LRU. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Optional: counts a use of `key` for LRU as a `get` hit would, without reading the value. True
   * when the key is live; false or undefined when it is not, or when that cannot be told now: the
   * caller then uses `get`, which also drops an expired or damaged entry.
   */
  touch?(key: string): boolean | undefined;
  /**
   * Stores the entry: once the promise resolves it survives the process crashing or a `kill -9`
   * (the embedded store syncs it to disk within LOG_SYNC_INTERVAL_MS, against a power cut).
   */
  set(key: string, value: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Every live key, oldest use first (used to rebuild derived indexes). Throws when the walk is
   * cut short (a shared store too slow or gone): the keys seen so far are not all there are.
   */
  keys(): AsyncIterable<string>;
  clear(): Promise<void>;
  /** Number of live entries. */
  size(): number;
  /**
   * Optional: calls `listener` with each key that stops being live other than by an overwrite or
   * `clear()`: evicted (LRU), expired, deleted, or dropped as damaged. A store that cannot tell
   * (Redis: other replicas write, Redis expires by itself) leaves it out; its users then compare
   * their derived indexes with `keys()` now and then.
   */
  onRemoved?(listener: (key: string) => void): void;
  /** Bytes on disk (or in Redis) used by the store, for the panel and the benchmark. */
  byteSize(): number;
  close(): Promise<void>;
}
