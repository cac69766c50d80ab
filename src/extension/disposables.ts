/** One owner for every disposable the extension creates, released in reverse order of creation. */

/** Anything with a `dispose()`; matches `vscode.Disposable` without importing `vscode`. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Collects disposables and disposes them last-in, first-out, so a thing is always released before
 * what it was built on (a listener before the emitter, a panel before the proxy it reads from).
 * One failing `dispose()` does not keep the others from running.
 *
 * @example
 * const owner = new DisposableOwner();
 * owner.add(vscode.commands.registerCommand('x', run));
 * owner.dispose();
 */
export class DisposableOwner implements DisposableLike {
  private readonly items: DisposableLike[] = [];
  private disposed = false;

  /** Takes ownership of `item` and returns it; disposes it at once if the owner is already gone. */
  add<T extends DisposableLike>(item: T): T {
    if (this.disposed) void Promise.resolve().then(() => item.dispose());
    else this.items.push(item);
    return item;
  }

  /** Takes ownership of a cleanup function. */
  addCallback(cleanup: () => unknown): DisposableLike {
    return this.add({ dispose: cleanup });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Disposes everything in reverse order; errors are collected and reported through `onError`. */
  dispose(onError: (error: unknown) => void = () => {}): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.items.length > 0) {
      const item = this.items.pop()!;
      try {
        item.dispose();
      } catch (error) {
        onError(error);
      }
    }
  }
}
