/**
 * How far V8 lets the old generation grow past its live size before the next full collection,
 * for `isartor serve` only: it owns its process, while the extension's proxy shares the editor's
 * extension host, whose heap is not ours to tune.
 *
 * By default V8 picks a growth factor from how fast it collects, around 2.3× in `serve`: at 100k
 * cached entries the main thread's old space then climbed from ~37 MB live to ~86 MB of mostly
 * garbage (request objects promoted while in flight) before each full collection, and the RSS
 * followed it. At 1.3× the peak RSS of a serve filling itself to 100k entries fell from 269–278 MB
 * to 208–224 MB, for more full collections: a few % more CPU while misses arrive at full speed
 * (docs/measurements/miss-path.md).
 * V8 reads the flag whenever it sets the next limit, so setting it at run time takes effect from
 * the next full collection, in every thread. It is set a few seconds after start: opening 100k
 * entries allocates indexes that stay live, and a 1.3× limit while they grow only bought full
 * collections in front of the first answers (the first L1a hit came ~40 ms later).
 */
import { setServeFlag } from './serveFlags';

/** The old generation may grow to 1.3× its live size (V8 keeps a minimum step of a few MB). */
export const SERVE_HEAP_GROWING_PERCENT = 30;

/** After start-up: the L1b worker has opened a 100k-entry index within ~1.5 s on a slow machine. */
export const HEAP_GROWTH_DELAY_MS = 5_000;

const GROWTH_FLAG = /^--heap[-_]growing[-_]percent(?:=|$)/;

/** Whether the user gave node a growth factor of their own (NODE_OPTIONS may not carry this flag). */
export function userSetHeapGrowth(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => GROWTH_FLAG.test(arg));
}

/**
 * Sets `serve`'s growth factor unless the user set one; returns whether it did.
 *
 * @example limitHeapGrowth(process.execArgv) // true
 */
export function limitHeapGrowth(execArgv: readonly string[]): boolean {
  if (userSetHeapGrowth(execArgv)) return false;
  // 0, V8's default: the factor picked from how fast it collects.
  setServeFlag('heap-growing-percent', SERVE_HEAP_GROWING_PERCENT, 0);
  return true;
}

/** `limitHeapGrowth` once start-up is over; `onLimited` runs when serve set the factor. */
export function limitHeapGrowthAfterStartup(execArgv: readonly string[], onLimited: () => void, delayMs = HEAP_GROWTH_DELAY_MS): NodeJS.Timeout {
  const timer = setTimeout(() => {
    if (limitHeapGrowth(execArgv)) onLimited();
  }, delayMs);
  timer.unref(); // never what keeps serve alive
  return timer;
}
