/**
 * A single-consumer async queue of text chunks: a callback-driven producer (node-llama-cpp's
 * `onTextChunk`, an SSE parser) pushes, the layer iterates with `for await`.
 */

export class TextChannel implements AsyncIterable<string> {
  private readonly buffered: string[] = [];
  private waiting: { resolve: (result: IteratorResult<string>) => void; reject: (error: unknown) => void } | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  /** Queues a chunk; ignored after `close()` or `fail()`. Empty chunks are dropped. */
  push(chunk: string): void {
    if (this.closed || chunk === '') return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: chunk, done: false });
    } else this.buffered.push(chunk);
  }

  /** Ends the stream once the buffered chunks have been read. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting && this.buffered.length === 0) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  /** Ends the stream with an error, raised after the buffered chunks have been read. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.closed = true;
    if (this.waiting && this.buffered.length === 0) {
      const { reject } = this.waiting;
      this.waiting = undefined;
      reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return {
      next: () => {
        const chunk = this.buffered.shift();
        if (chunk !== undefined) return Promise.resolve({ value: chunk, done: false });
        if (this.failure) return Promise.reject(this.failure.error);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      },
    };
  }
}
