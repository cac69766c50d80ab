/**
 * Single flight across replicas: when two replicas get the same new question, one takes a Redis
 * lock (`SET NX PX`, renewed while it asks the upstream) and asks; the others wait while the lock
 * is held and then read the stored answer, or the error it got (published for them, so a failing
 * question is not retried replica after replica). Redis down = every replica goes on alone at once.
 */
import { randomBytes } from 'node:crypto';
import type { RequestSignal } from '../clientSignal';
import type { UpstreamOutcome } from '../outcome';
import type { FlightLead } from '../singleFlight';
import type { RedisStore } from './redis';
import { frameRecord, unframeRecord } from './redisRecord';

/** An upstream error response as the leader got it, for the replicas that waited on it. */
export interface ReplicaFailure {
  response: Omit<UpstreamOutcome, 'body' | 'completion' | 'unstored' | 'billed'>;
  bytes: Buffer;
}

/** What a replica does about a key no one in this process is answering. */
export type ReplicaTurn =
  /** This replica holds the lock: ask the upstream, then `release()` once the answer is stored. */
  | { kind: 'lead'; release: LeadRelease }
  /** Another replica stored the answer meanwhile: read it from the store. */
  | { kind: 'stored' }
  /** The replica that led got this error response from the upstream: answer with it too. */
  | { kind: 'failed'; failure: ReplicaFailure }
  /** No lock and no answer within the wait (or Redis unavailable): ask the upstream. */
  | { kind: 'alone' };

/** Frees the lock, publishing the upstream's error response first if that is what the leader got. */
export interface LeadRelease {
  (failure?: ReplicaFailure): void;
  /** The leader's answer has started to stream: streaming followers stop waiting soon (streamWaitMs). */
  streaming(): void;
}

export interface ReplicaFlight {
  /** `stream`: the client waits for a stream, which a replica cannot follow live (see streamWaitMs). */
  take(key: string, signal: RequestSignal, request?: { stream?: boolean }): Promise<ReplicaTurn>;
}

export interface ReplicaFlightOptions {
  /**
   * Lock lifetime without renewal: the leader renews it every third of it while it waits for the
   * upstream, so this is how soon a crashed leader's key is free again.
   */
  lockMs: number;
  /** Longest a follower waits while the lock is held, and longest a leader renews it: the upstream's own timeout. */
  maxWaitMs: number;
  /**
   * Longest a follower whose client streams waits, once the leader's answer is streaming, before
   * asking the upstream itself: it gets the answer only once the leader stored all of it, and a
   * streaming client waits for its first byte. Before the leader's stream starts, asking too would
   * start no sooner (the upstream is slow to answer at all) and only pay twice.
   */
  streamWaitMs: number;
  /** Pause between a follower's checks. */
  pollMs: number;
}

/**
 * 2 s for a streaming follower: providers send a stream's first byte within ~0.5-2 s, so waiting
 * longer than that for a whole answer makes the follower's first byte later than asking itself
 * would; short answers (most repeats) are still complete within it and cost no second call.
 * 15 s lock renewed every 5 s: a crashed leader's question is free again within 15 s.
 */
const DEFAULTS: ReplicaFlightOptions = { lockMs: 15_000, maxWaitMs: 600_000, streamWaitMs: 2000, pollMs: 50 };

/** An error body larger than this is not published: followers then take their own turn. */
const MAX_FAILURE_BYTES = 64 * 1024;
/** Long enough for every waiting follower's next poll, short enough that no later request sees it. */
const FAILURE_TTL_MS = 5000;

/**
 * Deletes the lock (KEYS[1]) and its streaming mark (KEYS[2]) only if the lock is still ours (a lock
 * that expired may belong to another replica now).
 */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[2]) return redis.call('DEL', KEYS[1]) else return 0 end";
/** Extends the lock and its streaming mark, if any, only while the lock is still ours. */
const RENEW_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/**
 * The cross-replica flight for the answers of `store`.
 *
 * @example
 * const turn = await flight.take(key, req.signal, { stream: req.stream });
 * if (turn.kind === 'stored') return lookup(key);
 */
export function createRedisFlight(store: RedisStore, options: Partial<ReplicaFlightOptions> = {}): ReplicaFlight {
  const { lockMs, maxWaitMs, streamWaitMs, pollMs } = { ...DEFAULTS, ...options };
  const { shared } = store;
  const lockKey = (key: string): string => `${shared.prefix}lock:${key}`;
  const failureKey = (key: string): string => `${shared.prefix}failure:${key}`;
  const streamingKey = (key: string): string => `${shared.prefix}streaming:${key}`;
  const lockKeys = (key: string): string[] => [lockKey(key), streamingKey(key)];

  /**
   * Takes the lock if it is free and, in the same transaction, sees whether the answer is stored
   * and who holds the lock. Both at once: a leader stores its answer and then frees the lock, so a
   * replica whose read missed just before that would otherwise find the lock free and ask again.
   * undefined when Redis did not answer.
   */
  async function tryLock(key: string, token: string, release: () => void): Promise<{ locked: boolean; stored: boolean; holder: string } | undefined> {
    let sent: Promise<unknown[]> | undefined;
    const reply = await shared.run(
      'SET NX',
      (client) =>
        (sent = client
          .multi()
          .set(lockKey(key), token, { condition: 'NX', expiration: { type: 'PX', value: lockMs } })
          .exists(store.redisKey(key))
          .get(lockKey(key))
          .exec() as Promise<unknown[]>),
      undefined,
    );
    if (reply === undefined) {
      // Out of time is not undone: a stalled Redis still takes the lock once it wakes up, and
      // nobody would own it for lockMs. Free it when that late reply says it was taken.
      void sent?.then(([locked]) => String(locked) === 'OK' && release(), () => undefined);
      return undefined;
    }
    const [locked, stored, holder] = reply;
    return { locked: String(locked) === 'OK', stored: Number(stored) > 0, holder: String(holder ?? '') };
  }

  /** Keeps the lock alive while the leader waits for the upstream; returns what stops it. */
  function renewWhileLeading(key: string, token: string): () => void {
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > maxWaitMs) return clearInterval(timer);
      void shared.run('renew lock', (client) => client.eval(RENEW_SCRIPT, { keys: lockKeys(key), arguments: [token, String(lockMs)] }), 0);
    }, Math.max(1, Math.floor(lockMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** The lead turn: renews the lock until `release`, which publishes the leader's failure (if any) first. */
  function lead(key: string, token: string): ReplicaTurn {
    const stop = renewWhileLeading(key, token);
    let released = false;
    const release = (failure?: ReplicaFailure): void => {
      if (released) return;
      released = true;
      stop();
      const record = failure && failure.bytes.length <= MAX_FAILURE_BYTES ? encodeFailure(failureKey(key), token, failure) : undefined;
      // One transaction: a follower that sees the lock gone sees the failure too. Sent even while
      // Redis counts as down for slowness (run() would skip it): a lock left behind makes the
      // next replica to ask wait for nothing until it expires.
      const multi = shared.client.multi();
      if (record) multi.set(failureKey(key), record, { expiration: { type: 'PX', value: FAILURE_TTL_MS } });
      void multi.eval(RELEASE_SCRIPT, { keys: lockKeys(key), arguments: [token] }).exec().catch(() => undefined);
    };
    const streaming = (): void => {
      if (released) return;
      void shared.run('mark streaming', (client) => client.set(streamingKey(key), token, { expiration: { type: 'PX', value: lockMs } }), null);
    };
    return { kind: 'lead', release: Object.assign(release, { streaming }) };
  }

  return {
    async take(key, signal, request = {}) {
      const token = randomBytes(16).toString('hex');
      // Frees a lock this attempt took but will not lead with.
      const free = (): void => {
        void shared.client.eval(RELEASE_SCRIPT, { keys: lockKeys(key), arguments: [token] }).catch(() => undefined);
      };
      let attempt = await tryLock(key, token, free);
      const started = Date.now();
      const waits = { until: started + maxWaitMs, streamingUntil: request.stream ? started + streamWaitMs : Infinity };
      for (;;) {
        if (attempt === undefined) return { kind: 'alone' };
        if (attempt.stored) {
          if (attempt.locked) free();
          return { kind: 'stored' };
        }
        if (attempt.locked) return lead(key, token);
        // Someone else leads: wait while their lock is held (renewed as long as they wait upstream).
        const holder = attempt.holder;
        const outcome = await waitForLeader(key, holder, waits, signal);
        if (outcome !== 'free') return outcome;
        // The leader gave up without an answer (abort, thrown error): one of the waiting replicas leads now.
        attempt = await tryLock(key, token, free);
      }
    },
  };

  /**
   * Polls until the answer is stored, the leader published its failure, the lock is free ('free'),
   * or time is up: `until`, or `streamingUntil` once the leader's answer is streaming.
   */
  async function waitForLeader(key: string, holder: string, waits: { until: number; streamingUntil: number }, signal: RequestSignal): Promise<ReplicaTurn | 'free'> {
    while (Date.now() < waits.until && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const [stored, locker, failure, streaming] = await shared.run(
        'poll',
        (client) => client.multi().exists(store.redisKey(key)).get(lockKey(key)).get(failureKey(key)).exists(streamingKey(key)).exec() as Promise<unknown[]>,
        [undefined, undefined, undefined, undefined] as unknown[],
      );
      if (stored === undefined) return { kind: 'alone' };
      if (Number(stored) > 0) return { kind: 'stored' };
      if (Number(streaming) > 0 && Date.now() >= waits.streamingUntil) return { kind: 'alone' };
      if (locker !== null && locker !== undefined) {
        // Whoever holds the lock now (another replica may have taken over) is the one whose failure counts.
        holder = String(locker);
        continue;
      }
      const published = Buffer.isBuffer(failure) ? decodeFailure(failureKey(key), holder, failure) : undefined;
      return published ? { kind: 'failed', failure: published } : 'free';
    }
    return { kind: 'alone' };
  }
}

/** The failure as a framed record, tagged with the leader's token so only its own followers take it. */
function encodeFailure(key: string, token: string, { response, bytes }: ReplicaFailure): Buffer {
  const head = Buffer.from(JSON.stringify({ token, response }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return frameRecord(key, Buffer.concat([length, head, bytes]));
}

/** The failure published by the leader holding `token`, or undefined (another flight's, torn, unreadable). */
function decodeFailure(key: string, token: string, record: Buffer): ReplicaFailure | undefined {
  const value = unframeRecord(key, record);
  if (!value || value.length < 4) return undefined;
  const headLength = value.readUInt32BE(0);
  try {
    const head = JSON.parse(value.subarray(4, 4 + headLength).toString('utf8')) as { token?: unknown; response?: ReplicaFailure['response'] };
    if (head.token !== token || !head.response || typeof head.response.status !== 'number') return undefined;
    return { response: head.response, bytes: Buffer.from(value.subarray(4 + headLength)) };
  } catch {
    return undefined;
  }
}

/**
 * A flight lead whose `land()` also releases the cross-replica lock (after the answer is stored),
 * publishing the upstream's error response first when that is what the flight shared.
 */
export function releasingLead<T>(lead: FlightLead<T>, release: LeadRelease): FlightLead<T> {
  let failure: ReplicaFailure | undefined;
  return {
    resolve: (result) => {
      failure = failureOf(result);
      // The exact layer's live stream: the leader's answer is arriving now.
      if ((result as { kind?: unknown } | undefined)?.kind === 'live') release.streaming();
      lead.resolve(result);
    },
    land: (fallback) => {
      lead.land(fallback);
      release(failure);
    },
  };
}

/** The exact layer's `{ kind: 'failure', response, bytes }` flight result, if `result` is one. */
function failureOf(result: unknown): ReplicaFailure | undefined {
  const candidate = result as { kind?: unknown; response?: ReplicaFailure['response'] & { unstored?: unknown; billed?: unknown }; bytes?: unknown } | undefined;
  if (candidate?.kind !== 'failure' || !candidate.response || !Buffer.isBuffer(candidate.bytes)) return undefined;
  const { unstored: _unstored, billed: _billed, ...response } = candidate.response;
  return { response, bytes: candidate.bytes };
}
