/**
 * The main thread's young generation held at two 8 MB semi-spaces, for `isartor serve` only (the
 * extension's proxy shares the editor's extension host, whose heap is not ours to tune).
 *
 * Under load V8 doubles the semi-spaces up to 16 MB each and keeps them: 32 MB for what requests
 * leave behind for a moment. Node takes a smaller maximum only at start (`--max-semi-space-size`
 * in NODE_OPTIONS), but V8 reads the growth factor each time it grows the young generation, so
 * serve sets the factor after every collection: the one step that reaches the cap exactly while
 * below it, 1 (no growth) once there. At 100k entries a serve grown to them held ~16 MB less RSS.
 * Each young collection copies the requests in flight, so a smaller young generation costs more
 * CPU the more requests are in flight: two 4 MB semi-spaces held ~21 MB less, but cost 18% of the
 * throughput at 128 misses in flight; two 8 MB ones cost ~5% there (docs/measurements/miss-path.md).
 *
 * The factor is a flag of the whole process, so it also holds the L1b worker's young generation
 * where it is while the main thread's is at the cap: the worker's own limit is 2 MB semi-spaces
 * (workerLimits.ts) and it starts at 1 MB.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { setServeFlag } from './serveFlags';

/** The young generation's two semi-spaces together, in MB: V8's `new_space` size. */
export const SERVE_NEW_SPACE_MB = 16;

const MB = 1024 * 1024;

/** V8's own `--semi-space-growth-factor`. */
const V8_GROWTH_FACTOR = 2;

/** Flags with which the user sized the young generation themselves. */
const YOUNG_GENERATION_FLAG = /^--(?:max|min)[-_]semi[-_]space[-_]size(?:=|$)|^--semi[-_]space[-_]growth[-_]factor(?:=|$)/;

/**
 * Whether the user sized the young generation: in node's own arguments or in NODE_OPTIONS,
 * which does not appear in `execArgv`.
 */
export function userSizedYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const nodeOptionArgs = (nodeOptions ?? '').split(/\s+/).filter(Boolean);
  return [...execArgv, ...nodeOptionArgs].some((arg) => YOUNG_GENERATION_FLAG.test(arg));
}

/** The main thread's young generation now, in bytes. */
function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * The growth factor that lets a young generation of `current` bytes grow to `cap` at most in one
 * step, and not at all once there (V8 grows it to factor × its size, within its maximum).
 */
export function growthFactorTowards(current: number, cap: number): number {
  return current > 0 ? Math.max(1, Math.floor(cap / current)) : 1;
}

/**
 * Holds the young generation at `capMb` from now on unless the user sized it; returns whether it does.
 *
 * @example capYoungGeneration(process.execArgv, process.env.NODE_OPTIONS) // true
 */
export function capYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined, capMb = SERVE_NEW_SPACE_MB): boolean {
  if (userSizedYoungGeneration(execArgv, nodeOptions)) return false;
  const cap = capMb * MB;
  let factor = 0;
  const adjust = (): void => {
    const next = growthFactorTowards(newSpaceBytes(), cap);
    if (next === factor) return;
    factor = next;
    setServeFlag('semi-space-growth-factor', factor, V8_GROWTH_FACTOR);
  };
  adjust();
  // Growth happens in a collection: the factor is set again after each, ready for the next.
  new PerformanceObserver(adjust).observe({ entryTypes: ['gc'] });
  return true;
}
