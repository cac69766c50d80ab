/**
 * One live body, many readers: every chunk a leader's upstream stream delivers is kept and handed to
 * each subscriber, so a reader that joins late first gets what it missed, then the rest as it comes.
 */
import { Transform, type Readable } from 'node:stream';

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
 * Inserts a broadcast into a live body: the returned `body` replaces `source` for its own client
 * (bytes unchanged, backpressure kept), and `broadcast` serves the same bytes to any other reader.
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

  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen.push(chunk);
      for (const listener of listeners) listener.chunk(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      finish({ ended: true });
      callback();
    },
  });
  source.on('error', (error: Error) => {
    finish({ failed: error.message });
    body.destroy(error);
  });
  body.on('close', () => {
    finish({ failed: 'the request that was fetching this answer went away' });
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(body);

  return {
    body,
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
