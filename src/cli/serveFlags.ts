/**
 * V8 flags `isartor serve` changes while it runs (heapGrowth.ts, youngGeneration.ts), put back to
 * V8's defaults as the process exits.
 *
 * V8 stamps a code cache with a hash of the flags in force and rejects it under other flags, and
 * bin/codeCache.js makes serve's cache at exit. Made under changed flags, the cache was rejected by
 * the next start, which runs with the defaults: every start after a serve that ran more than a few
 * seconds compiled the whole bundle again, and wrote another cache the next start rejected.
 */
import { setFlagsFromString } from 'node:v8';

/** Each flag serve changed, as the argument that puts back V8's default. */
const defaults = new Map<string, string>();

/**
 * Sets `--name=value`, to be put back to `--name=defaultValue` (V8's default, see
 * `node --v8-options`) before anything else runs at exit.
 *
 * @example setServeFlag('heap-growing-percent', 30, 0);
 */
export function setServeFlag(name: string, value: number, defaultValue: number): void {
  if (defaults.size === 0) process.prependOnceListener('exit', restoreServeFlags);
  defaults.set(name, `--${name}=${defaultValue}`);
  setFlagsFromString(`--${name}=${value}`);
}

/** Puts every flag serve changed back to V8's default. */
export function restoreServeFlags(): void {
  for (const flag of defaults.values()) setFlagsFromString(flag);
  defaults.clear();
}
