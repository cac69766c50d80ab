/**
 * Lets a caller stop waiting for work that cannot itself be cancelled (a model load, a native
 * evaluation): the work finishes in the background, the caller moves on.
 */
import type { RequestSignal } from './clientSignal';

/**
 * `promise`, or a rejection with the signal's reason if `signal` aborts first. A late rejection
 * of `promise` is still handled, so it never surfaces as an unhandled rejection.
 *
 * @example const engine = await untilAborted(load(), budget.signal);
 */
export function untilAborted<T>(promise: Promise<T>, signal: RequestSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
