/**
 * Feeds a streamed answer's chunks to its collector without holding the proxy's thread for long.
 * An upstream that sends a long stream at once (a fake on loopback, another gateway replaying its
 * cache) hands the proxy megabytes of events in one event-loop turn; parsing and merging them all
 * there held the thread for 150-300 ms (docs/measurements/extension-host-event-loop.md). The client
 * still gets every chunk at once; only the collector's share waits.
 *
 * All feeds on the thread share one budget of WINDOW_BYTES. While no feed is behind, the budget
 * renews every WINDOW_MS, and every chunk of an ordinary stream is consumed as it comes. Once one
 * is spent, chunks queue in order, and the queue is worked off one budget per turn of the event loop.
 */

/** Bytes of stream the collectors of this thread parse at a time (~8 ms of work at ~30 µs per KiB). */
const WINDOW_BYTES = 256 * 1024;
const WINDOW_MS = 20;

let windowStart = Number.NEGATIVE_INFINITY;
let windowBytes = 0;

interface Backlogged {
  /** Consumes queued chunks while the budget lasts; true once none are left. */
  drainSome(): boolean;
}

/** Feeds with chunks queued, in the order they fell behind. */
const behind = new Set<Backlogged>();
let drainScheduled = false;

/** Takes `bytes` from the thread's budget; false when it has none left for them. */
function take(bytes: number): boolean {
  // While feeds are behind, the budget renews only once per turn (drainBehind), not by the clock:
  // one long turn must not earn a budget for every 20 ms it runs.
  if (behind.size === 0) {
    const now = performance.now();
    if (now - windowStart >= WINDOW_MS) {
      windowStart = now;
      windowBytes = 0;
    }
  }
  // An untouched budget takes any chunk, however large: nothing waits for ever.
  if (windowBytes > 0 && windowBytes + bytes > WINDOW_BYTES) return false;
  windowBytes += bytes;
  return true;
}

function scheduleDrain(): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(drainBehind);
}

/** A later turn of the event loop: a fresh budget for the feeds that are behind, oldest first. */
function drainBehind(): void {
  drainScheduled = false;
  windowStart = performance.now();
  windowBytes = 0;
  for (const feed of behind) {
    if (!feed.drainSome()) {
      scheduleDrain();
      return;
    }
    behind.delete(feed);
  }
}

export interface PacedFeed {
  push(chunk: Uint8Array): void;
  /** Resolves once every chunk pushed so far has been consumed (or dropped after a failure). */
  drained(): Promise<void>;
  /** Whether `consume` threw: the chunks after that were dropped. */
  failed(): boolean;
  /** Drops what is still queued and consumes nothing more (the stream's client went away). */
  stop(): void;
}

/**
 * @example
 * const feed = pacedFeed((chunk) => collector.push(chunk));
 * feed.push(chunk); … await feed.drained(); collector.finish();
 */
export function pacedFeed(consume: (chunk: Uint8Array) => void): PacedFeed {
  const backlog: Uint8Array[] = [];
  let next = 0;
  const waiters: Array<() => void> = [];
  let broken = false;
  let stopped = false;
  // A throw here would come out of a timer and end the process (the extension host's): the feed
  // stops instead, and its owner treats the answer as not collected.
  const consumeSafely = (chunk: Uint8Array): void => {
    if (broken || stopped) return;
    try {
      consume(chunk);
    } catch {
      broken = true;
    }
  };

  const self: Backlogged = {
    drainSome() {
      while (next < backlog.length) {
        const chunk = backlog[next]!;
        if (!take(chunk.length)) return false;
        next++;
        consumeSafely(chunk);
      }
      backlog.length = 0;
      next = 0;
      for (const wake of waiters.splice(0)) wake();
      return true;
    },
  };

  return {
    push(chunk) {
      if (broken || stopped) return;
      if (next === backlog.length && take(chunk.length)) {
        consumeSafely(chunk);
        return;
      }
      backlog.push(chunk);
      behind.add(self);
      scheduleDrain();
    },
    drained() {
      if (next === backlog.length) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    failed: () => broken,
    stop() {
      stopped = true;
      backlog.length = 0;
      next = 0;
      behind.delete(self);
      for (const wake of waiters.splice(0)) wake();
    },
  };
}
