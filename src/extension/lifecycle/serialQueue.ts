/**
 * Runs async tasks one at a time, in the order they were queued. A task that fails does not stop
 * the ones after it (its caller gets the rejection). A queued task must never wait for another
 * task of the same queue: that one would run only after it, so both would wait forever.
 *
 * @example
 * const queue = new SerialQueue();
 * void queue.run(() => enable());
 * await queue.run(() => disable()); // starts once enable() has settled
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
