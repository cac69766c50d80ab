/**
 * How many pieces a parsed JSON value is made of, for the body worker to tell whether the proxy's
 * thread can take a body in without stalling. Handing a parsed body from the worker to that thread
 * (a structured clone) costs time per piece, not per byte. Measured on this project's 2-core test
 * machine (Node 20), per piece counted here: ~0.02 µs in arrays of numbers or small objects, ~0.1 µs
 * in an array of chat messages, ~0.2 µs in one object with 100,000 keys. JSON.parse costs about the
 * same, so parsing on that thread would not help either.
 */
import type { JsonValue } from '../core/request';

/**
 * Most pieces a body may have for the proxy's thread to take it in. At ~0.2 µs a piece (the worst
 * shape measured) this is ~40 ms, within the 50 ms the proxy may hold its thread for one request.
 * A long agent session is far below it: 2,000 messages of ten pieces each are 20,000.
 */
export const MAX_MAIN_THREAD_NODES = 200_000;

/**
 * The pieces of `value`: each value counts one, each object key one more. Counting stops past
 * `limit`, so the answer is at most `limit + 1` and the work is bounded by it.
 *
 * @example jsonNodesUpTo({ model: 'm', messages: [] }, 10) // 5: the object, two keys, two values
 */
export function jsonNodesUpTo(value: JsonValue, limit: number): number {
  let nodes = 0;
  const pending: JsonValue[] = [value];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (++nodes > limit) return nodes;
    if (next === null || typeof next !== 'object') continue;
    if (Array.isArray(next)) {
      // Each item counts at least one: a huge array is over the limit before it is walked.
      if (nodes + pending.length + next.length > limit) return limit + 1;
      for (const item of next) pending.push(item);
    } else {
      for (const key in next) {
        if (++nodes > limit) return nodes;
        pending.push(next[key]!);
      }
    }
  }
  return nodes;
}
