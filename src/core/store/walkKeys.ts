/**
 * The embedded store's `keys()`: a walk over the keys the index held when the walk began, in LRU
 * order, skipping those deleted or expired since (the caller may write while it walks). A key
 * rewritten, or moved by a compaction, meanwhile is still live and still walked.
 */
import type { IndexEntry } from './logFile';

/**
 * Walks the keys of `index()` (read again at each step: compaction swaps the map), after
 * `pending()` (the index load, if under way) has settled.
 *
 * @example for await (const key of walkKeys(() => index, () => undefined, () => true)) rebuild(key);
 */
export function walkKeys(
  index: () => ReadonlyMap<string, IndexEntry>,
  pending: () => Promise<void> | undefined,
  isLive: (entry: IndexEntry) => boolean,
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
      const entry = index().get(key);
      if (entry && isLive(entry)) return { value: key, done: false };
    }
    return { value: undefined, done: true };
  };
  return { [Symbol.asyncIterator]: () => ({ next }) };
}
