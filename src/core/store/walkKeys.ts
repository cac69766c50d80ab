/**
 * The embedded store's `keys()`: a walk over the keys the index held when the walk began, in LRU
 * order, skipping those deleted or expired since (the caller may write while it walks). A key
 * rewritten, or moved by a compaction, meanwhile is still live and still walked.
 */

/**
 * Walks the keys of `index()` (read again at each step: the load replaces the index), after
 * `pending()` (the index load, if under way) has settled. `isLive(slot)` tells an expired entry.
 *
 * @example for await (const key of walkKeys(() => index, () => undefined, () => true)) rebuild(key);
 */
export function walkKeys(
  index: () => { keys(): Iterable<string>; slotOf(key: string): number | undefined },
  pending: () => Promise<void> | undefined,
  isLive: (slot: number) => boolean,
): AsyncIterable<string> {
  // A plain iterator rather than an async generator: a rebuild walks 100k keys at start-up, and a
  // generator's extra promise hops per key cost about twice as much.
  let keys: string[] | undefined;
  let at = 0;
  const next = async (): Promise<IteratorResult<string>> => {
    if (!keys) {
      await pending();
      keys = [...index().keys()];
    }
    while (at < keys.length) {
      const key = keys[at++]!;
      const slot = index().slotOf(key);
      if (slot !== undefined && isLive(slot)) return { value: key, done: false };
    }
    return { value: undefined, done: true };
  };
  return { [Symbol.asyncIterator]: () => ({ next }) };
}
