/**
 * The signal a request carries that says its client went away. A proxy needs one per request and
 * almost never fires it, and Node's AbortController is costly for that: creating one and adding and
 * removing a listener took ~10 µs in a tight loop, and on a miss its signal's creation and
 * EventTarget bookkeeping were ~2% of the main thread's on-CPU samples (issue 15). This one keeps a
 * plain array of listeners. It has what the proxy's code, undici (`addEventListener`) and
 * `timers/promises` (`'aborted' in signal`, then `addEventListener`) use of an AbortSignal:
 * `aborted`, `reason`, `addEventListener('abort', …)`, `removeEventListener`, `throwIfAborted`.
 */

type AbortListener = (event: { type: 'abort'; target: RequestSignal }) => void;

/**
 * What the layers may use of a request's signal. An AbortSignal is one too, so code that takes a
 * RequestSignal also takes a real AbortSignal (tests, the local model's budget).
 */
export interface RequestSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
  throwIfAborted(): void;
}

/**
 * undici and `timers/promises` type their option as AbortSignal but use only what a RequestSignal
 * has (undici: `addEventListener`/`removeEventListener`, `aborted`, `reason`; timers: the same).
 */
export function asAbortSignal(signal: RequestSignal): AbortSignal {
  return signal as unknown as AbortSignal;
}

/** A RequestSignal that `abort()` fires: the cheap stand-in for an AbortController, one per request. */
export class ClientSignal implements RequestSignal {
  aborted = false;
  reason: unknown = undefined;
  /** 'abort' listeners in the order they were added. */
  private listeners: AbortListener[] | undefined = undefined;

  /** Listens for 'abort'; other event types are never fired, so listeners for them are not kept. */
  addEventListener(type: string, listener: AbortListener | null | undefined, _options?: boolean | { once?: boolean }): void {
    // Listeners run at most once whatever `options` say: the signal aborts once and then forgets them.
    if (type !== 'abort' || typeof listener !== 'function' || this.aborted) return;
    const list = (this.listeners ??= []);
    // EventTarget semantics: the same listener is registered once.
    if (!list.includes(listener)) list.push(listener);
  }

  removeEventListener(type: string, listener: AbortListener | null | undefined): void {
    if (type !== 'abort' || !this.listeners) return;
    const at = this.listeners.indexOf(listener as AbortListener);
    if (at !== -1) this.listeners.splice(at, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Marks the signal aborted (once) and calls each listener; one that throws does not stop the others. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const list = this.listeners ?? [];
    this.listeners = undefined;
    const event = { type: 'abort' as const, target: this };
    for (const listener of list) {
      try {
        listener.call(this, event);
      } catch (error) {
        // A listener's error is reported, never thrown at the one who aborted (nor does it stop the proxy).
        process.emitWarning(`an abort listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
