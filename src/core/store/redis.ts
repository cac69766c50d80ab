/**
 * A KeyValueStore on a shared Redis: the same keys as the embedded store under
 * `<namespace>:<name>:`, each value one framed record (see redisRecord.ts) written with one SET.
 * TTL is Redis's `EX`; memory is bounded by Redis itself (`maxmemory` with `allkeys-lru`), so
 * `maxEntries` does not apply here (the semantic cache applies it to each replica's own index). Every call stays within the connection's budget: when Redis is
 * down a read is a miss and a write is skipped, never an error on the request path.
 */
import type { Logger } from '../logger';
import type { RedisClient, SharedRedis } from './redisConnection';
import { frameRecord, isOwnFormat, unframeRecord } from './redisRecord';
import type { KeyValueStore, StoreLimits } from './store';

/** How often the entry count and memory figure shown in stats are refreshed, at most. */
const FIGURES_EVERY_MS = 10_000;
const SCAN_BATCH = 1000;
/** Keys whose MEMORY USAGE estimates the store's size in stats. */
const MEMORY_SAMPLE = 32;
/**
 * Clearing walks and unlinks every key of the store, far more than one command's budget on a big
 * cache; it is an operator's action, so it may take this long per command, and fails loudly.
 */
const CLEAR_BUDGET_MS = 10_000;

/**
 * A walk over a store's keys that ended early (a SCAN ran out of time or Redis went away): the
 * keys seen are not all there are, so nothing may conclude that a key missing from them is gone.
 */
export class IncompleteWalkError extends Error {
  constructor(what: string) {
    super(`the walk over ${what}'s keys in Redis was cut short (Redis slow or unavailable)`);
    this.name = 'IncompleteWalkError';
  }
}

export interface RedisStore extends KeyValueStore {
  /** The Redis key under which `key` lives (the cross-replica flight watches it). */
  redisKey(key: string): string;
  readonly shared: SharedRedis;
  /** With `announce`: the stream each write appends its key to, for the other replicas to follow. */
  readonly streamKey: string;
}

export interface RedisStoreOptions {
  logger: Logger;
  /** Append every written key to `streamKey` in the same transaction (the semantic cache's feed). */
  announce?: boolean;
}

/** Entries kept in an announce stream; a replica further behind catches up by a rescan at start. */
const STREAM_LENGTH = 100_000;

/**
 * A store named `name` (e.g. "exact") on the shared connection.
 *
 * @example
 * const store = openRedisStore(shared, 'exact', { maxEntries: 0, ttlSeconds: 3600 }, { logger });
 * await store.set(key, Buffer.from(answer));
 */
export function openRedisStore(shared: SharedRedis, name: string, limits: StoreLimits, deps: RedisStoreOptions): RedisStore {
  const prefix = `${shared.prefix}${name}:`;
  const streamKey = `${shared.prefix}stream:${name}`;
  const redisKey = (key: string): string => prefix + key;
  let entries = 0;
  let bytes = 0;
  let figuresAt = 0;
  let refreshing: Promise<void> | undefined;
  let warnedForeign = false;

  /** Counts this store's keys with SCAN, off the request path (for stats only); a cut-short count keeps the last one. */
  async function refreshFigures(): Promise<void> {
    let count = 0;
    const sample: string[] = [];
    for await (const batch of scanKeys()) {
      count += batch.length;
      for (const key of batch) if (sample.length < MEMORY_SAMPLE) sample.push(key);
    }
    entries = count;
    // Redis's used_memory is every namespace's and every cache's at once (each cache showed all of
    // it); this store's own share is estimated from a few keys' MEMORY USAGE, in one round trip.
    if (sample.length === 0) {
      bytes = 0;
      return;
    }
    const sizes = await shared.run(
      'MEMORY USAGE',
      (client) => {
        const multi = client.multi();
        for (const key of sample) multi.memoryUsage(key);
        return multi.exec() as Promise<unknown[]>;
      },
      undefined,
    );
    const known = (sizes ?? []).map(Number).filter((size) => Number.isFinite(size) && size > 0);
    if (known.length > 0) bytes = Math.round((known.reduce((sum, size) => sum + size, 0) / known.length) * count);
  }

  /** This store's keys, a batch per SCAN; throws IncompleteWalkError when a SCAN gets no reply in time. */
  async function* scanKeys(budgetMs?: number): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const scan = (client: RedisClient) => client.scan(cursor, { MATCH: `${prefix}*`, COUNT: SCAN_BATCH });
      const reply = budgetMs === undefined ? await shared.run('SCAN', scan, undefined) : await shared.runOrThrow('SCAN', scan, budgetMs);
      if (!reply) throw new IncompleteWalkError(name);
      cursor = String(reply.cursor);
      yield reply.keys.map((key) => String(key));
    } while (cursor !== '0');
  }

  const figures = (): void => {
    if (refreshing || Date.now() - figuresAt < FIGURES_EVERY_MS) return;
    figuresAt = Date.now();
    refreshing = refreshFigures()
      .catch(() => undefined)
      .finally(() => (refreshing = undefined));
  };

  // The first figures now: the semantic cache compares its index with size() on every insert.
  figures();
  return {
    shared,
    redisKey,
    streamKey,
    async get(key) {
      const record = await shared.run('GET', (client) => client.get(redisKey(key)), null);
      if (record === null || record === undefined) return undefined;
      const bytes = Buffer.isBuffer(record) ? record : Buffer.from(String(record), 'utf8');
      const value = unframeRecord(redisKey(key), bytes);
      if (value) return value;
      if (!warnedForeign) deps.logger.warn(`shared cache: ignored a value under ${prefix}… that is torn, of another Isartor version or not written by Isartor (logged once)`);
      warnedForeign = true;
      // Only a torn record of this version's format is removed: during a rolling upgrade another
      // version's replicas still read theirs, and an answer stored here will overwrite it anyway.
      if (isOwnFormat(bytes)) void shared.run('DEL', (client) => client.del(redisKey(key)), 0);
      return undefined;
    },
    async set(key, value) {
      const record = frameRecord(redisKey(key), value);
      const options = limits.ttlSeconds > 0 ? { EX: Math.ceil(limits.ttlSeconds) } : undefined;
      if (!deps.announce) {
        await shared.run('SET', (client) => client.set(redisKey(key), record, options), null);
        return;
      }
      // One transaction: a follower never reads a key from the stream before its value exists.
      const trim = { TRIM: { strategy: 'MAXLEN' as const, strategyModifier: '~' as const, threshold: STREAM_LENGTH } };
      await shared.run('SET+XADD', (client) => client.multi().set(redisKey(key), record, options).xAdd(streamKey, '*', { key }, trim).exec(), null);
    },
    async delete(key) {
      await shared.run('DEL', (client) => client.del(redisKey(key)), 0);
    },
    async *keys() {
      for await (const batch of scanKeys()) for (const key of batch) yield key.slice(prefix.length);
    },
    async clear() {
      // Not while Redis counts as down: the operator learns at once instead of after the budget.
      if (!shared.available()) throw new Error(shared.status().detail);
      try {
        for await (const batch of scanKeys(CLEAR_BUDGET_MS)) if (batch.length > 0) await shared.runOrThrow('UNLINK', (client) => client.unlink(batch), CLEAR_BUDGET_MS);
      } finally {
        // Even a partial clear changed the count: let the next stats read count again.
        figuresAt = 0;
      }
      entries = 0;
    },
    size() {
      figures();
      return entries;
    },
    byteSize() {
      figures();
      return bytes;
    },
    async close() {
      await refreshing;
    },
  };
}
