/**
 * Framing of the embedded store's append-only log: length + crc32 framed records, and a scanner that
 * stops at the first record that does not check out (a torn tail after a crash).
 */
import type { FileHandle } from 'node:fs/promises';
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

/** Result of scanning a log: every good record in order, and where the good part ends. */
export interface ScanResult {
  /** File offset just past the last good record; anything after it is a torn or corrupt tail. */
  goodEnd: number;
  fileSize: number;
}

/**
 * Reads the log from `from` (a record boundary; by default just after the magic) in large chunks,
 * calling `onRecord` for every record that checks out, and stops at the first one that does not
 * (or that would run past the end).
 */
export async function scanLog(file: FileHandle, fileSize: number, onRecord: (record: LogRecord) => void, from = LOG_MAGIC.length): Promise<ScanResult> {
  const chunkBytes = 4 * 1024 * 1024;
  let buffer = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(FRAME_HEADER_BYTES, fileSize - from)));
  let bufferStart = from; // file offset of buffer[0]
  let bufferLength = 0;
  let position = from; // file offset of the next record to decode
  while (position < fileSize) {
    const at = position - bufferStart;
    const available = bufferLength - at;
    const needed = bytesNeeded(buffer, at, available);
    if (needed === undefined || position + needed > fileSize) break;
    if (available < needed) {
      // Move the unread bytes to the front (growing the buffer for an oversized record) and read more.
      const next = needed > buffer.length ? Buffer.allocUnsafe(needed) : buffer;
      buffer.copy(next, 0, at, at + available);
      buffer = next;
      bufferStart = position;
      const toRead = Math.min(buffer.length - available, fileSize - (position + available));
      const { bytesRead } = await file.read(buffer, available, toRead, position + available);
      bufferLength = available + bytesRead;
      if (bufferLength < needed) break; // the file shrank under us
      continue;
    }
    const record = decodeRecord(buffer.subarray(at, at + needed), position);
    if (!record) break;
    onRecord(record);
    position += needed;
  }
  return { goodEnd: position, fileSize };
}

/**
 * Bytes the record at `at` needs in the buffer: the header size while the header is not yet there,
 * then the whole frame; undefined for a length no writer could have produced.
 */
function bytesNeeded(buffer: Buffer, at: number, available: number): number | undefined {
  if (available < FRAME_HEADER_BYTES) return FRAME_HEADER_BYTES;
  const payloadLength = buffer.readUInt32LE(at);
  if (payloadLength < PAYLOAD_FIXED_BYTES || payloadLength > MAX_PAYLOAD_BYTES) return undefined;
  return FRAME_HEADER_BYTES + payloadLength;
}
