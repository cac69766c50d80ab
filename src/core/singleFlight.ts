/**
 * Single flight: concurrent identical requests share one piece of work. The first caller leads;
 * later callers with the same key wait for the leader's result instead of repeating the work.
 */

/** The leader's handle on its flight. */
export interface FlightLead<T> {
  /** Hands the result to every follower, present and future, until `land()` is called. */
  resolve(result: T): void;
  /** Ends the flight: callers from now on start their own. Resolves with `fallback` if not yet resolved. */
  land(fallback: T): void;
}

/** A flight in progress: its result to come, and what its leader shares with followers meanwhile. */
export interface Flight<T, S> {
  result: Promise<T>;
  /** Given by the leader when it took off (e.g. a handle on the work, for followers to hold). */
  shared: S;
}

/**
 * A table of flights in progress, keyed by request identity.
 *
 * @example
 * const joined = flights.follow(key);
 * if (joined) return await joined.result;
 * const lead = flights.lead(key, undefined);
 * try { lead.resolve(await work()); } finally { lead.land(undefined); }
 */
export class SingleFlight<T, S = undefined> {
  private readonly flights = new Map<string, Flight<T, S>>();

  /** The flight in progress for `key`, or undefined when there is none. */
  follow(key: string): Flight<T, S> | undefined {
    return this.flights.get(key);
  }

  /** Starts a flight for `key`, with `shared` for its followers. The caller must eventually call `land()`. */
  lead(key: string, shared: S): FlightLead<T> {
    let settle!: (result: T) => void;
    let settled = false;
    const promise = new Promise<T>((resolve) => (settle = resolve));
    const flight = { result: promise, shared };
    this.flights.set(key, flight);
    const resolve = (result: T): void => {
      if (settled) return;
      settled = true;
      settle(result);
    };
    return {
      resolve,
      land: (fallback) => {
        resolve(fallback);
        if (this.flights.get(key) === flight) this.flights.delete(key);
      },
    };
  }

  /** Flights in progress. */
  get size(): number {
    return this.flights.size;
  }
}
