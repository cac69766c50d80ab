/**
 * A file encoded in pieces of one reused buffer, with a running crc32. Encoding a large file into
 * one buffer allocates a mapping of its own and freeing it raises glibc's mmap threshold (see
 * readWhole.ts): an 8.6 MB index snapshot saved every 32 MB of log did that for good. A piece is
 * below the threshold's floor, so a save moves nothing.
 */
import { crc32 } from 'node:zlib';

/** Below glibc's smallest mmap threshold (128 KiB). */
export const PIECE_BYTES = 64 * 1024;

/** Bytes of the file from `position` on; valid only until the writer is used again. */
export interface Piece {
  bytes: Buffer;
  position: number;
}

const encoder = new TextEncoder();

export class PieceWriter {
  private readonly buffer: Buffer;
  private fill = 0;
  /** Where the buffer's first byte goes in the file. */
  private position = 0;
  /** crc32 of the bytes from `crcFrom` on that were handed out so far. */
  crc = 0;

  /** `pieceBytes` must hold the largest single value written (and at least 4 bytes, one UTF-8 character). */
  constructor(
    private readonly crcFrom: number,
    pieceBytes = PIECE_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(pieceBytes);
  }

  /** Writes `count` values of `width` bytes each, value i by `write(buffer, at, i)`, handing out full pieces. */
  *values(count: number, width: number, write: (buffer: Buffer, at: number, i: number) => void): Generator<Piece> {
    if (width > this.buffer.length) throw new RangeError(`a ${width}-byte value does not fit a ${this.buffer.length}-byte piece`);
    for (let i = 0; i < count; i++) {
      if (this.fill + width > this.buffer.length) yield this.take();
      write(this.buffer, this.fill, i);
      this.fill += width;
    }
  }

  /** Writes `text` as UTF-8, as Buffer.write would (a lone surrogate becomes U+FFFD), never splitting a character. */
  *utf8(text: string): Generator<Piece> {
    let at = 0;
    while (at < text.length) {
      // No more units than bytes left: a character never takes fewer bytes than units, so the
      // substring need not be longer. A pair it cuts in two cannot end up as two replacement
      // characters: the lone high surrogate would take 3 bytes for its 1 unit, and does not fit.
      const end = Math.min(text.length, at + this.buffer.length - this.fill);
      const { read, written } = encoder.encodeInto(end - at === text.length ? text : text.substring(at, end), this.buffer.subarray(this.fill));
      at += read;
      this.fill += written;
      if (read === 0 || this.fill === this.buffer.length) yield this.take();
    }
  }

  /** The last piece, if any bytes are left. */
  *end(): Generator<Piece> {
    if (this.fill > 0) yield this.take();
  }

  private take(): Piece {
    const bytes = this.buffer.subarray(0, this.fill);
    const skip = Math.max(0, this.crcFrom - this.position);
    if (skip < bytes.length) this.crc = crc32(bytes.subarray(skip), this.crc);
    const piece = { bytes, position: this.position };
    this.position += this.fill;
    this.fill = 0;
    return piece;
  }
}
