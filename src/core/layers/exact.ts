/**
 * L1a, the exact cache: answers a request that is identical (same partition, same answer-changing
 * fields) to one already answered upstream, and lets concurrent identical misses share one call.
 */
import type { ExactCacheConfig } from '../config';
import type { Logger } from '../logger';
import type { Outcome, StoredAnswer, StoredOutcome } from '../outcome';
import type { Layer, LayerContext, Next } from '../pipeline';
import { canonicalHash, type ProxyRequest } from '../request';
import { untilAborted } from '../abortable';
import { SingleFlight, type FlightLead } from '../singleFlight';
import type { KeyValueStore } from '../store/store';
import { releasingLead, type ReplicaFlight } from '../store/redisFlight';

export interface ExactLayerDeps {
  /** Opened and closed by the engine; the layer only reads and writes it. */
  store: KeyValueStore;
  config: ExactCacheConfig;
  logger: Logger;
  /** With a shared store: one replica asks the upstream, the others wait for its answer. */
  replicas?: ReplicaFlight;
}

export interface ExactLayer extends Layer {
  /** Drops every stored answer. */
  clear(): Promise<void>;
  /** Stored answers. */
  entries(): number;
  /** Bytes on disk. */
  bytes(): number;
}

/**
 * Creates the L1a layer (name "exact"). On a miss it calls the later layers and, once a live upstream
 * answer has been read completely and successfully, stores it; it never stores L1b or L2 answers.
 *
 * @example
 * const exact = createExactLayer({ store, config: config.exact, logger });
 * const outcome = await runLayers([exact, upstream], ctx, () => true);
 */
export function createExactLayer(deps: ExactLayerDeps): ExactLayer {
  const { store, logger } = deps;
  const flights = new SingleFlight<StoredAnswer | undefined>();
  /** Store writes under way (answers already complete), so close() can wait for them. */
  const writes = new Set<Promise<void>>();

  const hit = (answer: StoredAnswer): StoredOutcome => ({ kind: 'stored', layer: 'l1a', answer });

  /** The stored answer for `key`, or undefined; an entry that does not parse is removed, not served. */
  async function lookup(key: string, req: ProxyRequest): Promise<StoredAnswer | undefined> {
    let bytes: Buffer | undefined;
    try {
      bytes = await store.get(key);
    } catch (error) {
      logger.warn(`exact cache: lookup failed, treating as a miss: ${String(error)}`);
      return undefined;
    }
    if (!bytes) return undefined;
    const answer = parseStoredAnswer(bytes);
    if (answer && answer.api === req.api) return answer;
    logger.warn('exact cache: dropped an unreadable entry');
    void store.delete(key).catch(() => undefined);
    return undefined;
  }

  /**
   * Passes the outcome on at once and, off the response path, stores the upstream answer once it
   * is complete. The flight (if this request leads one) hands the answer to its followers first.
   */
  function storeWhenComplete(key: string, req: ProxyRequest, outcome: Outcome, lead: FlightLead<StoredAnswer | undefined> | undefined): Outcome {
    if (outcome.kind !== 'upstream') {
      lead?.land(undefined);
      return outcome;
    }
    outcome.completion.then(
      (answer) => {
        // undefined = an error status, an abort or a broken stream: never stored, never shared.
        if (!answer || answer.api !== req.api) return lead?.land(undefined);
        lead?.resolve(answer);
        if (req.cache.noStore) return lead?.land(undefined);
        const write: Promise<void> = store
          .set(key, Buffer.from(JSON.stringify(answer), 'utf8'))
          .catch((error: unknown) => logger.warn(`exact cache: could not store an answer: ${String(error)}`))
          .finally(() => {
            // Land only after the write, so a request arriving in between joins the flight instead of missing.
            lead?.land(undefined);
            writes.delete(write);
          });
        writes.add(write);
      },
      (error: unknown) => {
        lead?.land(undefined);
        logger.warn(`exact cache: upstream completion failed: ${String(error)}`);
      },
    );
    return outcome;
  }

  return {
    name: 'exact',

    async handle(ctx: LayerContext, next: Next): Promise<Outcome> {
      const { req } = ctx;
      const key = canonicalHash(req);
      if (req.cache.noCache) return storeWhenComplete(key, req, await next(), undefined);

      const stored = await lookup(key, req);
      if (stored) return hit(stored);

      const flight = flights.follow(key);
      if (flight) {
        const shared = await untilAborted(flight, req.signal);
        if (shared) return hit(shared);
        // The leader got no complete answer (error, abort): this request tries on its own.
        return storeWhenComplete(key, req, await next(), undefined);
      }

      const local = flights.lead(key);
      const replica = await deps.replicas?.take(key, req.signal);
      if (replica?.kind === 'stored') {
        const shared = await lookup(key, req);
        if (shared) {
          local.resolve(shared);
          local.land(undefined);
          return hit(shared);
        }
      }
      const lead = replica?.kind === 'lead' ? releasingLead(local, replica.release) : local;
      let outcome: Outcome;
      try {
        outcome = await next();
      } catch (error) {
        lead.land(undefined);
        throw error;
      }
      return storeWhenComplete(key, req, outcome, lead);
    },

    describe(): string {
      return `${store.size()} answers, ${formatBytes(store.byteSize())} on disk`;
    },

    /** Waits for answers being written; not for bodies still streaming (their clients own them). */
    async close(): Promise<void> {
      await Promise.allSettled([...writes]);
    },

    clear: () => store.clear(),
    entries: () => store.size(),
    bytes: () => store.byteSize(),
  };
}

/** Parses a stored entry, checking the fields a replay relies on. */
function parseStoredAnswer(bytes: Buffer): StoredAnswer | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Partial<StoredAnswer> | null;
    if (!value || typeof value !== 'object') return undefined;
    if (typeof value.api !== 'string' || !value.body || typeof value.body !== 'object' || Array.isArray(value.body)) return undefined;
    if (!value.usage || typeof value.usage !== 'object' || typeof value.createdAt !== 'number') return undefined;
    return value as StoredAnswer;
  } catch {
    return undefined;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
