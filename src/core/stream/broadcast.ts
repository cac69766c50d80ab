/**
 * One live body, many readers: the chunks a leader's upstream stream delivers are kept once and
 * every follower reads them at its own pace through a cursor, so a reader that joins late first gets
 * what it missed, then the rest as it comes. A follower's copy holds no bytes of its own, and only
 * what some reader still needs is kept: once the body is too long to join (JOIN_BYTES), chunks every
 * reader has passed are let go.
 */
import type { Readable } from 'node:stream';

/**
 * A body longer than this admits no new readers: a late request makes its own call instead of the
 * proxy keeping the whole stream for it. 8 MiB of SSE is ~35,000 tokens of chat chunks, well past
 * what a request arriving while an identical one streams usually needs.
 */
export const JOIN_BYTES = 8 * 1024 * 1024;

/**
 * Once the leader's client has gone, the body is read on for the followers alone, at the pace of
 * the slowest: it is paused while one is this far behind, so a stalled reader cannot make the
 * proxy hold the rest of the answer.
 */
const LAG_BYTES = 1024 * 1024;

/** How the body ended, once it has. */
export type BroadcastEnd = { ended: true } | { failed: string };

/** One follower's place in the body. */
export interface BroadcastReader {
  /** The next chunk this reader has not had, or undefined when it has had all that arrived so far. */
  take(): Buffer | undefined;
  /** Set once the body is over; meaningful when `take()` returns undefined. */
  readonly over: BroadcastEnd | undefined;
  /** Stops reading: nothing is kept for this reader any more. */
  close(): void;
}

export interface Broadcast {
  /**
   * A reader from the body's first byte; `wake` is called when a chunk arrives or the body ends.
   * Undefined when the body is already too long to join.
   */
  join(wake: () => void): BroadcastReader | undefined;
  /**
   * The leader's client went away and the body was unpiped from it: reads it on for the followers
   * (at the slowest reader's pace). Returns false when the body is already over.
   */
  readOn(): boolean;
}

interface Cursor {
  /** Index (from the body's first chunk) of the next chunk to take. */
  next: number;
  /** Bytes taken so far. */
  taken: number;
  wake: () => void;
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
export function broadcastBody(source: Readable, limits: { joinBytes?: number; lagBytes?: number } = {}): { body: Readable; broadcast: Broadcast } {
  const joinBytes = limits.joinBytes ?? JOIN_BYTES;
  const lagBytes = limits.lagBytes ?? LAG_BYTES;
  /** The chunks from index `first` on; those before it every reader has passed. */
  let chunks: Buffer[] = [];
  let first = 0;
  let bytes = 0;
  let joinable = true;
  let leaderGone = false;
  let held = false;
  const cursors = new Set<Cursor>();
  let state: BroadcastEnd | undefined;

  const finish = (next: BroadcastEnd): void => {
    if (state) return;
    state = next;
    for (const cursor of cursors) cursor.wake();
  };

  /** Lets go of the chunks every reader has passed, once no one can join any more. */
  const release = (): void => {
    if (joinable) return;
    let slowest = first + chunks.length;
    for (const cursor of cursors) slowest = Math.min(slowest, cursor.next);
    // In batches: splicing the front of the array for every chunk would cost O(n²).
    if (slowest - first < 64 && slowest < first + chunks.length) return;
    chunks = chunks.slice(slowest - first);
    first = slowest;
  };

  /** Without its leader, the body goes at the slowest reader's pace (with LAG_BYTES of slack). */
  const pace = (): void => {
    if (!leaderGone || state) return;
    let lag = 0;
    for (const cursor of cursors) lag = Math.max(lag, bytes - cursor.taken);
    if (!held && lag > lagBytes) {
      held = true;
      source.pause();
    } else if (held && lag <= lagBytes / 2) {
      held = false;
      source.resume();
    }
  };

  source.pause();
  source.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (joinable || cursors.size > 0) chunks.push(chunk);
    if (joinable && bytes > joinBytes) {
      joinable = false;
      release();
    }
    for (const cursor of cursors) cursor.wake();
    pace();
  });
  source.on('end', () => finish({ ended: true }));
  source.on('error', (error: Error) => finish({ failed: error.message }));
  // Destroyed before its end: the body broke, or everyone reading it went away.
  source.on('close', () => finish({ failed: 'the request that was fetching this answer went away' }));

  return {
    body: source,
    broadcast: {
      join(wake) {
        if (!joinable) return undefined;
        const cursor: Cursor = { next: 0, taken: 0, wake };
        cursors.add(cursor);
        return {
          take() {
            const at = cursor.next - first;
            if (at >= chunks.length || !cursors.has(cursor)) return undefined;
            const chunk = chunks[at]!;
            cursor.next++;
            cursor.taken += chunk.length;
            release();
            pace();
            return chunk;
          },
          get over() {
            return state;
          },
          close() {
            cursors.delete(cursor);
            release();
            pace();
          },
        };
      },
      readOn() {
        if (state) return false;
        leaderGone = true;
        source.resume();
        pace();
        return true;
      },
    },
  };
}
