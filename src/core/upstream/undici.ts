/**
 * undici, initialised on first need. Its index.js (fetch, cookies, WebSocket, HTTP/2 included) takes
 * ~50 ms of CPU to initialise, which neither the ready line nor a cache hit should wait for: the
 * upstream client loads it for its first request, or the engine once start-up is over.
 */
import type * as UndiciModule from 'undici';

type Undici = typeof UndiciModule;

let loading: Promise<Undici> | undefined;
let loaded: Undici | undefined;

/** Loads undici once; later calls share the same promise. */
export function loadUndici(): Promise<Undici> {
  loading ??= import('undici').then((module) => (loaded = module));
  return loading;
}

/** undici if `loadUndici()` has resolved, else undefined (then no error can have come from it). */
export function undiciIfLoaded(): Undici | undefined {
  return loaded;
}
