/**
 * Bytes appended into one buffer that grows by doubling and is reused after `reset`. The vector
 * journal encodes its records here rather than into a few small buffers per record: those came
 * from Node's shared 8 KiB pool, and a record waiting up to 2 s for its flush kept its pool slab
 * alive into the old generation, where slabs piled up until a full GC (issue 15).
 */

/** Below glibc's default mmap threshold: a first buffer costs no mapping of its own. */
const INITIAL_BYTES = 64 * 1024;

export class ByteSink {
  /** The bytes; only the first `length` are written. Replaced when it grows. */
  bytes: Buffer;
  length = 0;

  constructor(initialBytes = INITIAL_BYTES) {
    // Not from the shared pool: this buffer lives long.
    this.bytes = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Makes room for `count` more bytes and returns the offset where they go; the caller then adds `count` to `length`. */
  reserve(count: number): number {
    if (this.length + count > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + count));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    return this.length;
  }

  append(bytes: Buffer): void {
    bytes.copy(this.bytes, this.reserve(bytes.length));
    this.length += bytes.length;
  }

  reset(): void {
    this.length = 0;
  }
}
