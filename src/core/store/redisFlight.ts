/**
 * Single flight across replicas: when two replicas get the same new question, one takes a short
 * Redis lock (`SET NX PX`) and asks the upstream; the other polls for the stored answer for a
 * bounded time and then goes on alone. Redis down = every replica goes on alone at once.
 */
import { randomBytes } from 'node:crypto';
import type { RequestSignal } from '../clientSignal';
import type { FlightLead } from '../singleFlight';
import type { RedisStore } from './redis';

/** What a replica does about a key no one in this process is answering. */
export type ReplicaTurn =
  /** This replica holds the lock: ask the upstream, then `release()` once the answer is stored. */
  | { kind: 'lead'; release(): void }
  /** Another replica stored the answer meanwhile: read it from the store. */
  | { kind: 'stored' }
  /** No lock and no answer within the wait (or Redis unavailable): ask the upstream. */
  | { kind: 'alone' };

export interface ReplicaFlight {
  take(key: string, signal: RequestSignal): Promise<ReplicaTurn>;
}

export interface ReplicaFlightOptions {
  /** Lock lifetime and longest a follower waits; a leader that dies frees the key after it. */
  lockMs: number;
  /** Pause between a follower's checks. */
  pollMs: number;
}

const DEFAULTS: ReplicaFlightOptions = { lockMs: 15_000, pollMs: 50 };

/** Deletes the lock only if it is still ours (a lock that expired may belong to another replica now). */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * The cross-replica flight for the answers of `store`.
 *
 * @example
 * const turn = await flight.take(key, req.signal);
 * if (turn.kind === 'stored') return lookup(key);
 */
export function createRedisFlight(store: RedisStore, options: Partial<ReplicaFlightOptions> = {}): ReplicaFlight {
  const { lockMs, pollMs } = { ...DEFAULTS, ...options };
  const { shared } = store;
  const lockKey = (key: string): string => `${shared.prefix}lock:${key}`;

  /**
   * Takes the lock if it is free and, in the same transaction, sees whether the answer is stored.
   * Both at once: a leader stores its answer and then frees the lock, so a replica whose read
   * missed just before that would otherwise find the lock free and ask the upstream again.
   * undefined when Redis did not answer.
   */
  async function tryLock(key: string, token: string): Promise<{ locked: boolean; stored: boolean } | undefined> {
    const reply = await shared.run(
      'SET NX',
      (client) => client.multi().set(lockKey(key), token, { condition: 'NX', expiration: { type: 'PX', value: lockMs } }).exists(store.redisKey(key)).exec(),
      undefined,
    );
    if (reply === undefined) return undefined;
    const [locked, stored] = reply as unknown[];
    return { locked: String(locked) === 'OK', stored: Number(stored) > 0 };
  }

  /** The turn a lock attempt gives: the stored answer first (freeing a lock just taken), else the lead. */
  function turnOf(attempt: { locked: boolean; stored: boolean }, release: () => void): ReplicaTurn | undefined {
    if (attempt.stored) {
      if (attempt.locked) release();
      return { kind: 'stored' };
    }
    return attempt.locked ? { kind: 'lead', release } : undefined;
  }

  return {
    async take(key, signal) {
      const token = randomBytes(16).toString('hex');
      const release = (): void => {
        void shared.run('release lock', (client) => client.eval(RELEASE_SCRIPT, { keys: [lockKey(key)], arguments: [token] }), 0);
      };
      const first = await tryLock(key, token);
      if (first === undefined) return { kind: 'alone' };
      const turn = turnOf(first, release);
      if (turn) return turn;
      const deadline = Date.now() + lockMs;
      while (Date.now() < deadline && !signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        const [stored, locked] = await shared.run(
          'poll',
          (client) => client.multi().exists(store.redisKey(key)).exists(lockKey(key)).exec(),
          [undefined, undefined] as unknown[],
        );
        if (stored === undefined) return { kind: 'alone' };
        if (Number(stored) > 0) return { kind: 'stored' };
        if (Number(locked) === 0) {
          // The leader gave up without an answer (error, abort): one of the waiting replicas leads now.
          const again = await tryLock(key, token);
          if (again === undefined) return { kind: 'alone' };
          const retaken = turnOf(again, release);
          if (retaken) return retaken;
        }
      }
      return { kind: 'alone' };
    },
  };
}

/** A flight lead whose `land()` also releases the cross-replica lock (after the answer is stored). */
export function releasingLead<T>(lead: FlightLead<T>, release: () => void): FlightLead<T> {
  return {
    resolve: (result) => lead.resolve(result),
    land: (fallback) => {
      lead.land(fallback);
      release();
    },
  };
}
