/**
 * Frees what opening the L1b cache left behind, once, in the worker that opened it (issue 15).
 *
 * Opening 100k entries leaves ~24 MB of dead objects in the worker's heap (64–65 MB used, 40 MB
 * after a full collection). An idle worker has no reason to run a full collection, and under
 * traffic its limit is still far off, so V8 gave that memory back only after 30–45 s of idling.
 * One collection right after the open, on the worker's own thread (21–22 ms at 100k entries),
 * gives it back at once: in `bench scale` at 100k entries a restarted serve held 256.5–257.3 MB
 * after its 2,000 requests, against 270.2–271.8 MB without (three interleaved pairs,
 * docs/measurements/miss-path.md).
 *
 * The collection frees the objects but V8 keeps the pages they were on (the worker's heap stayed
 * ~50 MB committed for ~32 MB used); it compacts them and hands them back at its next full
 * collection. So the worker collects a second time a moment later (`SECOND_COLLECTION_DELAY_MS`):
 * ~12 MB more at 100k entries for ~20 ms of the worker's thread.
 *
 * Only `isartor serve` asks for it. Node gives a script no way to start a collection but `gc`,
 * which V8 installs in a context made while `--expose-gc` is set; the worker sets the flag for the
 * one context it makes and unsets it at once. The flag is the whole process's: in the editor's
 * extension host it is not ours to touch.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collectAfterOpen = false;

/** Semantic workers started after this call collect once after their open: `isartor serve` only. */
export function collectInWorkersAfterOpen(): void {
  collectAfterOpen = true;
}

/** Whether workers started now should collect after their open. */
export function workersCollectAfterOpen(): boolean {
  return collectAfterOpen;
}

/** The used heap before and after the collection, the committed heap after it, and how long it took. */
export interface OpenGarbageCollected {
  beforeMb: number;
  afterMb: number;
  committedMb: number;
  ms: number;
}

/** The second collection comes a moment after the first, so lookups queued behind one (~20 ms at 100k entries) run before the next. */
export const SECOND_COLLECTION_DELAY_MS = 300;

const toMb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

/** This thread's `gc`, once made: the second collection reuses it rather than set the flag again. */
let threadGc: (() => void) | undefined;

/** V8's `gc`: the one node was started with, or one from a context made with the flag set just for it. */
function fullCollection(): () => void {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return own;
  if (threadGc) return threadGc;
  setFlagsFromString('--expose-gc');
  try {
    return (threadGc = runInNewContext('gc') as () => void);
  } finally {
    // Contexts made later, in any thread, get no `gc`, as before.
    setFlagsFromString('--no-expose-gc');
  }
}

/** Runs one full collection of this thread's heap. */
export function collectOpenGarbage(): OpenGarbageCollected {
  const gc = fullCollection();
  const before = getHeapStatistics().used_heap_size;
  const started = performance.now();
  gc();
  const ms = Math.round(performance.now() - started);
  const after = getHeapStatistics();
  return { beforeMb: toMb(before), afterMb: toMb(after.used_heap_size), committedMb: toMb(after.total_heap_size), ms };
}
