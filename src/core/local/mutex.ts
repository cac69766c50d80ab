/**
 * A first-come first-served lock whose waiters can give up: the embedded model has one context
 * sequence, so triage and generation run one at a time, and a request whose time budget ends while
 * it waits leaves the queue instead of running late.
 */

export class Mutex {
  private held = false;
  private readonly queue: Array<() => void> = [];

  get locked(): boolean {
    return this.held;
  }

  /**
   * Resolves with a release function once the lock is ours; rejects with the signal's reason if
   * `signal` aborts first (the lock is then never taken).
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.releaser());
      };
      const onAbort = (): void => {
        const index = this.queue.indexOf(grant);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.held = false;
    };
  }
}
