/**
 * L1a, the exact cache: answers a request that is identical (same partition, same answer-changing
 * fields) to one already answered upstream, and lets concurrent identical misses share one call.
 */
import { Readable } from 'node:stream';
import type { ExactCacheConfig } from '../config';
import type { Logger } from '../logger';
import { storedAnswerJson, type Outcome, type StoredAnswer, type StoredOutcome, type UpstreamOutcome } from '../outcome';
import type { Layer, LayerContext, Next } from '../pipeline';
import { canonicalHash, type JsonObject, type ProxyRequest } from '../request';
import { unstorableReason } from '../stream/storable';
import { untilAborted } from '../abortable';
import { SharedCall } from '../sharedCall';
import { SingleFlight, type Flight, type FlightLead } from '../singleFlight';
import { broadcastBody, type Broadcast } from '../stream/broadcast';
import { followerStream, requestIncludesUsage } from '../stream/follower-stream';
import { MAX_STORED_ANSWER_BYTES } from '../stream/large-answer';
import { replayableFor, responseCarriesUsage } from '../stream/replay-usage';
import type { KeyValueStore } from '../store/store';
import { releasingLead, type ReplicaFlight } from '../store/redisFlight';

/**
 * What a flight hands the identical requests waiting on it: the finished answer, the live stream
 * while it is still arriving, the upstream's error response, or the error the upstream layer threw.
 * `undefined` means the leader got nothing to share (its client left, another layer answered).
 */
type FlightResult =
  | { kind: 'answer'; answer: StoredAnswer }
  | {
      kind: 'live';
      broadcast: Broadcast;
      headers: Record<string, string>;
      completion: Promise<StoredAnswer | undefined>;
      leaderRequest: JsonObject;
      /** The leader's stream ended in the proxy's error event: so did every follower's copy. */
      streamFailure: (() => string | undefined) | undefined;
    }
  | { kind: 'failure'; response: Omit<UpstreamOutcome, 'body' | 'completion'>; bytes: Buffer }
  | { kind: 'thrown'; error: unknown }
  | undefined;

/**
 * A stored entry larger than this is a miss, and removed: reading it back would hold the proxy's
 * thread for ~10 ms per MiB. Answers over MAX_STORED_ANSWER_BYTES are no longer stored, but older
 * versions stored them; the room above that limit is for JSON escaping of a streamed answer's text.
 */
const MAX_REPLAYED_ENTRY_BYTES = 4 * MAX_STORED_ANSWER_BYTES;

/** How often a request waits on a flight whose leader got nothing to share before it goes on its own. */
const FOLLOW_ROUNDS = 3;

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
  const flights = new SingleFlight<FlightResult, SharedCall>();
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
    if (bytes.length > MAX_REPLAYED_ENTRY_BYTES) {
      logger.warn(`exact cache: dropped an entry of ${formatBytes(bytes.length)}, too large to replay without holding the proxy`);
      void store.delete(key).catch(() => undefined);
      return undefined;
    }
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
  function storeWhenComplete(key: string, req: ProxyRequest, outcome: Outcome, lead: FlightLead<FlightResult> | undefined): Outcome {
    if (outcome.kind !== 'upstream') {
      lead?.land(undefined);
      return outcome;
    }
    outcome.completion.then(
      (answer) => {
        // undefined = an error status, an abort or a broken stream: never stored, never shared.
        if (!answer || answer.api !== req.api) return lead?.land(undefined);
        lead?.resolve({ kind: 'answer', answer });
        // Its followers asked at the same moment and share it; later requests ask again.
        if (req.cache.noStore || outcome.fromFallback || unstorableReason(answer)) return lead?.land(undefined);
        const write: Promise<void> = store
          .set(key, Buffer.from(storedAnswerJson(answer), 'utf8'))
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

  /**
   * Runs the later layers for a flight's leader and shares what comes back: a live stream at once,
   * an error response or a thrown error as soon as it is known, an answer once it is complete.
   */
  async function leadFlight(key: string, ctx: LayerContext, next: Next): Promise<Outcome> {
    const { req } = ctx;
    // The upstream call outlives the leader's client while a follower still wants its answer.
    const call = new SharedCall(req.signal);
    ctx.upstreamSignal = call.signal;
    const local = flights.lead(key, call);
    // On a team Redis, replicas take turns too: one asks the upstream, the others read its answer.
    const replica = await deps.replicas?.take(key, req.signal, { stream: req.stream });
    if (replica?.kind === 'failed') {
      // The replica that led got an error response: answer with it too instead of asking again.
      local.resolve({ kind: 'failure', response: replica.failure.response, bytes: replica.failure.bytes });
      local.land(undefined);
      return failureOutcome(replica.failure.response, replica.failure.bytes);
    }
    if (replica?.kind === 'stored') {
      const stored = await lookup(key, req);
      if (stored) {
        local.resolve({ kind: 'answer', answer: stored });
        local.land(undefined);
        return hit(stored);
      }
    }
    const lead = replica?.kind === 'lead' ? releasingLead(local, replica.release) : local;
    let outcome: Outcome;
    try {
      outcome = await next();
    } catch (error) {
      // A call cancelled because everyone left is no one's failure; any other error is everyone's.
      if (!call.signal.aborted) lead.resolve({ kind: 'thrown', error });
      lead.land(undefined);
      throw error;
    }
    if (outcome.kind !== 'upstream') return storeWhenComplete(key, req, outcome, lead);
    if (outcome.status >= 400) return shareFailure(outcome, lead);
    // The leader's client leaving detaches only its own output while a follower still waits.
    if (outcome.headers['content-type']?.includes('text/event-stream')) {
      const { body, broadcast } = broadcastBody(outcome.body);
      outcome = { ...outcome, body, readOnFor: () => call.followed && broadcast.readOn() };
      lead.resolve({ kind: 'live', broadcast, headers: outcome.headers, completion: outcome.completion, leaderRequest: req.body, streamFailure: outcome.streamFailure });
    } else {
      const { body } = outcome;
      outcome.readOnFor = () => {
        if (!call.followed) return false;
        body.resume();
        return true;
      };
    }
    return storeWhenComplete(key, req, outcome, lead);
  }

  /**
   * Reads an upstream error response (small by nature) and hands the same status, headers
   * (`Retry-After` included) and body to the leader and every waiting request, then ends the
   * flight: a struggling provider sees one call per attempt, not one per waiting request.
   */
  async function shareFailure(outcome: UpstreamOutcome, lead: FlightLead<FlightResult>): Promise<Outcome> {
    // What the leader was billed is its own: the requests sharing its error were not.
    const { body, completion: _completion, billed: _billed, ...response } = outcome;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    } catch (error) {
      lead.land(undefined);
      return { ...outcome, body: new Readable({ read() { this.destroy(error as Error); } }) };
    }
    const bytes = Buffer.concat(chunks);
    lead.resolve({ kind: 'failure', response, bytes });
    lead.land(undefined);
    return failureOutcome(response, bytes);
  }

  /**
   * Waits on a flight, holding its upstream call meanwhile (released once this request has what it
   * needs or its client left), and returns its outcome, or undefined when it must try again.
   */
  async function follow(flight: Flight<FlightResult, SharedCall>, req: ProxyRequest): Promise<Outcome | undefined> {
    const release = flight.shared.join(req.signal);
    if (!release) {
      // Cancelled, everyone having left: it ends with nothing to share; then try again.
      await untilAborted(flight.result, req.signal);
      return undefined;
    }
    try {
      const outcome = await followerOutcome(await untilAborted(flight.result, req.signal), req);
      // A follower's stream holds the call until it closes (ended, or its client went away).
      if (outcome?.kind === 'shared') outcome.body.once('close', release);
      else release();
      return outcome;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** This request's outcome from what its flight shared, or undefined when it must try again. */
  async function followerOutcome(shared: FlightResult, req: ProxyRequest): Promise<Outcome | undefined> {
    if (!shared) return undefined;
    if (shared.kind === 'answer') return shared.answer.api === req.api && replayableFor(req, shared.answer) ? hit(shared.answer) : undefined;
    if (shared.kind === 'thrown') throw shared.error;
    if (shared.kind === 'failure') return failureOutcome(shared.response, shared.bytes);
    if (!req.stream) {
      const answer = await untilAborted(shared.completion, req.signal);
      return answer && answer.api === req.api && replayableFor(req, answer) ? hit(answer) : undefined;
    }
    // A leader's stream without usage ends in an answer whose usage is our estimate: a follower that
    // asked for usage makes its own call rather than be handed that estimate as the provider's.
    if (responseCarriesUsage(req) && !responseCarriesUsage({ ...req, body: shared.leaderRequest })) return undefined;
    const follower = followerStream(shared.broadcast, shared.completion, {
      api: req.api,
      includeUsage: requestIncludesUsage(req.body),
      leaderIncludesUsage: requestIncludesUsage(shared.leaderRequest),
      request: req.body,
      leaderRequest: shared.leaderRequest,
    });
    // Too long to join (broadcast.ts): this request makes its own call.
    if (!follower) return undefined;
    const leaderFailure = shared.streamFailure;
    return {
      kind: 'shared',
      layer: 'l1a',
      headers: shared.headers,
      body: follower.body,
      completion: shared.completion,
      streamFailure: () => follower.streamFailure() ?? leaderFailure?.(),
    };
  }

  return {
    name: 'exact',

    async handle(ctx: LayerContext, next: Next): Promise<Outcome> {
      const { req } = ctx;
      const key = canonicalHash(req);
      // No key: nothing may answer it, store its answer or share its call (canonicalHash).
      if (key === undefined) return next();
      if (req.cache.noCache) return storeWhenComplete(key, req, await next(), undefined);

      for (let round = 0; round < FOLLOW_ROUNDS; round++) {
        const stored = await lookup(key, req);
        // An entry whose usage is our estimate is a miss for a client that reads usage (replay-usage.ts).
        if (stored && replayableFor(req, stored)) return hit(stored);
        const flight = flights.follow(key);
        if (!flight) return leadFlight(key, ctx, next);
        const outcome = await follow(flight, req);
        if (outcome) return outcome;
        // The leader got nothing to share: look again, and one of the waiting requests leads the next flight.
      }
      return storeWhenComplete(key, req, await next(), undefined);
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

/** An upstream error response rebuilt from its bytes, for one of the requests that share it. */
function failureOutcome(response: Omit<UpstreamOutcome, 'body' | 'completion'>, bytes: Buffer): UpstreamOutcome {
  return { ...response, body: Readable.from([bytes], { objectMode: false }), completion: Promise.resolve(undefined) };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
