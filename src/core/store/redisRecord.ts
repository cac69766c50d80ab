/**
 * Record framing for values kept in Redis: a value is read back only when it is complete and was
 * written by Isartor under the same key, so a torn write, a truncated restore or a foreign value
 * (another program's, or one copied under another key) is never replayed as an answer.
 */
import { createHash } from 'node:crypto';

/** "ISR" + format version. A record of another version reads as absent, never misread. */
const MAGIC = Buffer.from('ISR1', 'latin1');
const DIGEST_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 4 + DIGEST_BYTES;

/** The first 16 bytes of sha256(key, value): binds the value to the key it was stored under. */
function digest(key: string, value: Buffer): Buffer {
  return createHash('sha256').update(key, 'utf8').update('\0').update(value).digest().subarray(0, DIGEST_BYTES);
}

/**
 * `MAGIC | length (u32 BE) | digest | value`: one buffer written with one SET.
 *
 * @example await client.set(key, frameRecord(key, value), { EX: ttl });
 */
export function frameRecord(key: string, value: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(value.length, MAGIC.length);
  digest(key, value).copy(header, MAGIC.length + 4);
  return Buffer.concat([header, value]);
}

/** Whether `record` claims this version's format (so one that does not unframe is torn, not foreign). */
export function isOwnFormat(record: Buffer): boolean {
  return record.length >= MAGIC.length && record.subarray(0, MAGIC.length).equals(MAGIC);
}

/**
 * The value inside a record read for `key`, or undefined when the record is not one of ours, is
 * shorter or longer than its header says, or its digest does not match.
 */
export function unframeRecord(key: string, record: Buffer): Buffer | undefined {
  if (record.length < HEADER_BYTES || !record.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = record.readUInt32BE(MAGIC.length);
  if (record.length !== HEADER_BYTES + length) return undefined;
  const value = record.subarray(HEADER_BYTES);
  const expected = record.subarray(MAGIC.length + 4, HEADER_BYTES);
  return digest(key, value).equals(expected) ? value : undefined;
}
