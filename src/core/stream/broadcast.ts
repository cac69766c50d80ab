/**
 * One live body, many readers: every chunk a leader's upstream stream delivers is kept and handed to
 * each subscriber, so a reader that joins late first gets what it missed, then the rest as it comes.
 */
import type { Readable } from 'node:stream';

/** How a subscriber learns of the body's progress. */
export interface BroadcastListener {
  chunk(chunk: Buffer): void;
  /** The body ended cleanly. */
  end(): void;
  /** The body broke off (upstream error, the leading client went away). */
  fail(reason: string): void;
}

export interface Broadcast {
  /** Replays what arrived so far to `listener`, then keeps it informed; returns the unsubscribe. */
  subscribe(listener: BroadcastListener): () => void;
}

/**
 * Broadcasts a live body: the returned `body` is `source` itself for its own client (bytes and
 * backpressure untouched), and `broadcast` serves the same bytes to any other reader. It watches the
 * body's 'data' events rather than sitting in the pipe as a Transform: a streamed answer comes in
 * dozens of chunks, and a Transform cost each of them a write, a transform and a read, and kept a
 * second stream per miss (issue 15). Paused first: the 'data' listener must not start the flow
 * before the body's consumer is attached (a pipe or `read()` resumes it; both emit 'data').
 *
 * @example
 * const { body, broadcast } = broadcastBody(outcome.body);
 * followerStream = toFollower(broadcast); outcome = { ...outcome, body };
 */
export function broadcastBody(source: Readable): { body: Readable; broadcast: Broadcast } {
  const seen: Buffer[] = [];
  const listeners = new Set<BroadcastListener>();
  let state: { ended: true } | { failed: string } | undefined;
  const finish = (next: { ended: true } | { failed: string }): void => {
    if (state) return;
    state = next;
    for (const listener of listeners) {
      if ('failed' in next) listener.fail(next.failed);
      else listener.end();
    }
    listeners.clear();
  };

  source.pause();
  source.on('data', (chunk: Buffer) => {
    seen.push(chunk);
    for (const listener of listeners) listener.chunk(chunk);
  });
  source.on('end', () => finish({ ended: true }));
  source.on('error', (error: Error) => finish({ failed: error.message }));
  // Destroyed before its end: the leader's client went away (or the body broke, already told).
  source.on('close', () => finish({ failed: 'the request that was fetching this answer went away' }));

  return {
    body: source,
    broadcast: {
      subscribe(listener) {
        for (const chunk of seen) listener.chunk(chunk);
        if (state) {
          if ('failed' in state) listener.fail(state.failed);
          else listener.end();
          return () => undefined;
        }
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
  };
}
