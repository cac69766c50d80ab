/**
 * Which keys a write batch evicts from the embedded store: the least recently used ones beyond
 * maxEntries once the batch is applied, never a key the batch itself writes or deletes.
 */

/**
 * Keys of `index` (LRU order, first = least recently used) to delete so that it holds at most
 * `maxEntries` after `batch` (a set when `value` is present, a delete otherwise).
 *
 * @example lruEvictions(new Map([['a', 1], ['b', 2]]), [{ key: 'c', value: buf }], 2) // ['a']
 */
export function lruEvictions(index: { readonly size: number; has(key: string): boolean; keys(): Iterable<string> }, batch: ReadonlyArray<{ key: string; value: Buffer | undefined }>, maxEntries: number): string[] {
  const finalState = new Map<string, boolean>();
  for (const op of batch) finalState.set(op.key, op.value !== undefined);
  let count = index.size;
  for (const [key, isSet] of finalState) {
    if (isSet && !index.has(key)) count++;
    if (!isSet && index.has(key)) count--;
  }
  const evicted: string[] = [];
  // Below the bound (nearly every batch) there is nothing to walk: the walk would make a key string.
  if (count <= maxEntries) return evicted;
  for (const key of index.keys()) {
    if (count <= maxEntries) break;
    if (finalState.has(key)) continue;
    evicted.push(key);
    count--;
  }
  return evicted;
}
