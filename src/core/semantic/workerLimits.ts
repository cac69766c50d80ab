/**
 * V8 heap limits of the semantic cache's worker (issue 15). With V8's defaults the worker's heap
 * took 110–135 MB at 100k entries for ~45 MB of live objects: a 32 MB young generation, and an old
 * generation allowed to grow to 4× what survived the last full GC (V8 picks that factor from the
 * heap's maximum size; below 2 GB it scales down towards 1.3×). Measured at 100k entries: 50–60 MB.
 */
import type { ResourceLimits } from 'node:worker_threads';

/**
 * A 2 MB semi-space: the worker's garbage is short-lived message and lookup objects, so scavenges
 * stay cheap at this size.
 */
const YOUNG_GENERATION_MB = 6;
/** Never below this: ~10× the live heap at 100k entries (~450 B per entry). */
const MIN_OLD_GENERATION_MB = 512;
/** Room per configured entry (5 kB, ~10× what one takes), so a larger cache never runs out of heap. */
const OLD_GENERATION_MB_PER_ENTRY = 5 / 1024;

/** The worker's limits for a cache of at most `maxEntries` entries. */
export function semanticWorkerLimits(maxEntries: number): ResourceLimits {
  // No bound on the entries, none on the heap: running out of it would take L1b down.
  if (!Number.isFinite(maxEntries)) return { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  const old = Math.max(MIN_OLD_GENERATION_MB, Math.ceil(maxEntries * OLD_GENERATION_MB_PER_ENTRY));
  return { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: old };
}
