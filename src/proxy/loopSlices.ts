/**
 * Spreads a burst of requests over turns of the event loop. Bodies that finish arriving in one poll
 * of the loop (a client sending 200 requests at once) would otherwise each be parsed, hashed and
 * forwarded back to back, holding every timer and socket (in VS Code, the extension host) for the
 * whole burst: QA measured 50–90 ms blocks for 200 requests of 200 KB. A request goes on at once
 * while the current slice of work is younger than `sliceMs`; later ones wait for the next turn of
 * the loop, where a new slice starts. A lone request never waits.
 */

/** How long one turn of the loop may start new requests for. */
export const SLICE_MS = 10;

export interface LoopSlices {
  /** Undefined when the caller may go on now; otherwise the next turn, after which it asks again. */
  turn(): Promise<void> | undefined;
}

/**
 * @example
 * const slices = createLoopSlices();
 * for (let wait = slices.turn(); wait; wait = slices.turn()) await wait;
 */
export function createLoopSlices(sliceMs = SLICE_MS, now: () => number = () => performance.now()): LoopSlices {
  let sliceStart = 0;
  let sliceOpen = false;
  let nextTurn: Promise<void> | undefined;
  // Runs in this turn's check phase, after the poll that opened the slice: the slice ends with it.
  const closeSlice = (): void => {
    sliceOpen = false;
  };
  return {
    turn() {
      if (!sliceOpen) {
        sliceOpen = true;
        sliceStart = now();
        setImmediate(closeSlice);
        return undefined;
      }
      if (now() - sliceStart < sliceMs) return undefined;
      // Scheduled after closeSlice, so the waiters resume with no slice open and the first of them opens the next.
      return (nextTurn ??= new Promise<void>((resolve) =>
        setImmediate(() => {
          nextTurn = undefined;
          resolve();
        }),
      ));
    },
  };
}
