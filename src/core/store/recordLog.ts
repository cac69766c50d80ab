/**
 * Framing of the embedded store's append-only log: length + crc32 framed records (logScan.ts reads
 * them back).
 */
import { crc32 } from 'node:zlib';

/** First bytes of every log file; a file that does not start with them is not ours. */
export const LOG_MAGIC = Buffer.from('ISARKV01', 'latin1');

/** What a record does: store a value, or remove the key. */
export const RecordOp = { Set: 1, Delete: 2 } as const;
export type RecordOp = (typeof RecordOp)[keyof typeof RecordOp];

/** length (u32) + crc32 of the payload (u32). */
export const FRAME_HEADER_BYTES = 8;
/** op (u8) + createdAt (f64) + key length (u16), before the key bytes. */
const PAYLOAD_FIXED_BYTES = 11;
/** Larger lengths can only come from a torn or foreign header; refusing them keeps a scan from allocating wildly. */
const MAX_PAYLOAD_BYTES = 1 << 30;
export const MAX_KEY_BYTES = 0xffff;
/** Largest value any key can carry. */
export const MAX_VALUE_BYTES = MAX_PAYLOAD_BYTES - PAYLOAD_FIXED_BYTES - MAX_KEY_BYTES;

/** Why `key` and `value` cannot be stored, or undefined when they can. */
export function entryError(key: unknown, value: unknown): Error | undefined {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    return new RangeError(`store key must be a non-empty string of at most ${MAX_KEY_BYTES} bytes`);
  }
  if (!Buffer.isBuffer(value)) return new TypeError('store value must be a Buffer');
  if (value.length > MAX_VALUE_BYTES) return new RangeError(`store value too large (${value.length} bytes)`);
  return undefined;
}

/** One decoded record; the value is located in the file rather than copied. */
export interface LogRecord {
  op: RecordOp;
  key: string;
  createdAt: number;
  /** File offset of the frame header. */
  offset: number;
  /** Whole frame size (header + payload). */
  frameBytes: number;
  /** File offset and length of the value bytes (Set only). */
  valueOffset: number;
  valueLength: number;
}

/** Encodes one framed record ready to append. */
export function encodeRecord(op: RecordOp, key: string, createdAt: number, value?: Buffer): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  if (keyBytes.length === 0 || keyBytes.length > MAX_KEY_BYTES) throw new RangeError(`store key must be 1..${MAX_KEY_BYTES} bytes`);
  const valueLength = value?.length ?? 0;
  const payloadLength = PAYLOAD_FIXED_BYTES + keyBytes.length + valueLength;
  if (payloadLength > MAX_PAYLOAD_BYTES) throw new RangeError(`store value too large (${valueLength} bytes)`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  const payloadStart = FRAME_HEADER_BYTES;
  frame.writeUInt32LE(payloadLength, 0);
  frame.writeUInt8(op, payloadStart);
  frame.writeDoubleLE(createdAt, payloadStart + 1);
  frame.writeUInt16LE(keyBytes.length, payloadStart + 9);
  keyBytes.copy(frame, payloadStart + PAYLOAD_FIXED_BYTES);
  if (value) value.copy(frame, payloadStart + PAYLOAD_FIXED_BYTES + keyBytes.length);
  frame.writeUInt32LE(crc32(frame.subarray(payloadStart)), 4);
  return frame;
}

/**
 * Decodes the frame at `frame[0..]` whose first byte sits at file offset `offset`. Returns undefined
 * when the bytes are incomplete or fail the checksum, which is what a torn write looks like.
 */
export function decodeRecord(frame: Buffer, offset: number): LogRecord | undefined {
  if (frame.length < FRAME_HEADER_BYTES) return undefined;
  const payloadLength = frame.readUInt32LE(0);
  if (payloadLength < PAYLOAD_FIXED_BYTES || payloadLength > MAX_PAYLOAD_BYTES) return undefined;
  const frameBytes = FRAME_HEADER_BYTES + payloadLength;
  if (frame.length < frameBytes) return undefined;
  const payload = frame.subarray(FRAME_HEADER_BYTES, frameBytes);
  if (crc32(payload) !== frame.readUInt32LE(4)) return undefined;
  const op = payload.readUInt8(0);
  if (op !== RecordOp.Set && op !== RecordOp.Delete) return undefined;
  const keyLength = payload.readUInt16LE(9);
  const keyEnd = PAYLOAD_FIXED_BYTES + keyLength;
  if (keyLength === 0 || keyEnd > payloadLength) return undefined;
  return {
    op,
    key: payload.toString('utf8', PAYLOAD_FIXED_BYTES, keyEnd),
    createdAt: payload.readDoubleLE(1),
    offset,
    frameBytes,
    valueOffset: offset + FRAME_HEADER_BYTES + keyEnd,
    valueLength: payloadLength - keyEnd,
  };
}

/**
 * Bytes of the whole frame whose header is at `header[at..]` (8 bytes there), or undefined for a
 * length no writer could have produced.
 */
export function frameBytesOf(header: Buffer, at: number): number | undefined {
  const payloadLength = header.readUInt32LE(at);
  if (payloadLength < PAYLOAD_FIXED_BYTES || payloadLength > MAX_PAYLOAD_BYTES) return undefined;
  return FRAME_HEADER_BYTES + payloadLength;
}

/** The bytes a plausibleFrameStart check reads. */
export const FRAME_START_BYTES = FRAME_HEADER_BYTES + PAYLOAD_FIXED_BYTES;

/**
 * Whether the frame at `frame[at..]` (FRAME_START_BYTES of it there) may start a record: a sane
 * length that fits in the `bytesToEof` bytes left in the file, a known op and a key inside the
 * payload (a delete has nothing after its key). Cheap enough to test every offset of a damaged
 * region; only the checksum (decodeRecord) says the record is good.
 */
export function plausibleFrameStart(frame: Buffer, at: number, bytesToEof: number): boolean {
  const payloadLength = frame.readUInt32LE(at);
  if (payloadLength < PAYLOAD_FIXED_BYTES || payloadLength > MAX_PAYLOAD_BYTES || FRAME_HEADER_BYTES + payloadLength > bytesToEof) return false;
  const op = frame[at + FRAME_HEADER_BYTES];
  if (op !== RecordOp.Set && op !== RecordOp.Delete) return false;
  const keyEnd = PAYLOAD_FIXED_BYTES + frame.readUInt16LE(at + FRAME_HEADER_BYTES + 9);
  if (keyEnd === PAYLOAD_FIXED_BYTES || keyEnd > payloadLength) return false;
  return op === RecordOp.Set || keyEnd === payloadLength;
}
