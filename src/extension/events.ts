/** A tiny typed event emitter for the `vscode`-free parts of the shell (VS Code's own needs the editor). */
import type { DisposableLike } from './disposables';

export type Listener<T> = (value: T) => void;

/**
 * Fires values to listeners; a throwing listener is reported through `onListenerError` and does not
 * stop the others.
 */
export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  /** Subscribes; dispose the result to unsubscribe. */
  readonly event = (listener: Listener<T>): DisposableLike => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/**
 * Calls `run` at most once per `intervalMs`, always with the latest call honoured: the first call
 * runs at once, later ones within the interval are folded into one trailing run.
 */
export function throttle(run: () => void, intervalMs: number): { (): void; dispose(): void } {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    timer = undefined;
    last = Date.now();
    run();
  };
  const throttled = (): void => {
    if (timer) return;
    const wait = last + intervalMs - Date.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait);
  };
  throttled.dispose = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return throttled;
}
