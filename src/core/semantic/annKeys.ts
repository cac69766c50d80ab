/**
 * The key an entry's label has inside a usearch graph. Labels count up from 1; usearch keeps its
 * keys in an open-addressing table whose hash leaves integers as they are, so consecutive keys
 * fill one long run of slots, and every `remove` walked that run: ~0.5-0.9 ms per remove at 100k
 * entries against ~0.005 ms with well-spread keys (docs/measurements/miss-path.md). At a full cache
 * every miss evicts an entry, so that cost was paid on each one, and ~1,000 at a time by reconcile.
 *
 * The mix is a bijection on 52 bits (odd multipliers and xor-shifts each are one), so distinct
 * labels below 2^52 get distinct keys, and a key is exact as a JavaScript number.
 */
const BITS = 52n;
const MASK = (1n << BITS) - 1n;

/** The usearch key for `label` (an integer from 1 to 2^52 - 1). */
export function annKey(label: number): bigint {
  let x = BigInt(label) & MASK;
  x = (x * 0x9e3779b97f4a7n) & MASK;
  x ^= x >> 26n;
  x = (x * 0x5851f42d4c957n) & MASK;
  x ^= x >> 29n;
  return x;
}
