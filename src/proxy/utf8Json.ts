/**
 * `JSON.parse(bytes.toString('utf8'))`, faster for the bodies coding agents send. Node's UTF-8
 * decoder is fast only for pure ASCII: one em dash or emoji in a 100 KB body (most instruction
 * files have some) makes the decode ~25× slower than for ASCII, longer than the parse itself. So
 * the bytes are read one byte per character (latin1, a copy), parsed, and only the strings that
 * hold bytes above 0x7F are decoded as UTF-8 afterwards. The result is the same value:
 * - JSON's own syntax is ASCII, and a byte above 0x7F is never part of a UTF-8 sequence's ASCII
 *   neighbour, so strings begin and end at the same places in both readings;
 * - each such string is decoded by the same decoder from its own bytes; a broken sequence cut off
 *   by a quote or an escape turns into U+FFFD here as it does in one decode of the whole body;
 * - the cases where the two readings can differ are sent down the plain path: a `\u` escape at or
 *   above U+0080 (its character would be mistaken for a raw byte), and an object key with such
 *   bytes (keys are not rewritten).
 * A unit test compares the two paths over random and hand-picked bodies.
 */
import { isAscii } from 'node:buffer';

/** `\u`, as bytes. */
const ESCAPE_START = Buffer.from('\\u');

/**
 * Whether the body has a `\u` escape of U+0080 or above. A `\\u` (an escaped backslash before a
 * u) counts too, which only costs speed. (Buffer searches, not a regex: a regex over 100 KB took
 * ~100 µs, these a few.)
 */
function hasWideEscape(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(ESCAPE_START); at >= 0; at = bytes.indexOf(ESCAPE_START, at + 2)) {
    // \u0000 to \u007F: '0', '0', then '0'..'7'.
    if (bytes[at + 2] !== 0x30 || bytes[at + 3] !== 0x30 || !(bytes[at + 4]! >= 0x30 && bytes[at + 4]! <= 0x37)) return true;
  }
  return false;
}

/**
 * The parsed body; throws JSON.parse's SyntaxError for invalid JSON, with the message the plain
 * path gives.
 *
 * @example parseUtf8Json(Buffer.from('{"a":"—"}')) // { a: '—' }
 */
export function parseUtf8Json(bytes: Buffer): unknown {
  // Pure ASCII: the decoders agree, and Node's UTF-8 one is fast here.
  if (isAscii(bytes)) return JSON.parse(bytes.toString('latin1'));
  const plain = (): unknown => JSON.parse(bytes.toString('utf8'));
  if (hasWideEscape(bytes)) return plain();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('latin1'));
  } catch {
    return plain();
  }
  if (typeof value === 'string') return decodeHighBytes(value);
  return value !== null && typeof value === 'object' && decodeStringsInPlace(value) ? value : plain();
}

/** Whether a latin1-read string holds a byte above 0x7F: each such byte takes two in UTF-8. */
function hasHighBytes(latin1: string): boolean {
  return Buffer.byteLength(latin1, 'utf8') !== latin1.length;
}

function decodeHighBytes(latin1: string): string {
  return hasHighBytes(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/**
 * Decodes every string value of a freshly parsed tree in place; false (tree left half done) when a
 * key would need it too. Iterative: a body may nest deeper than the stack allows.
 */
function decodeStringsInPlace(root: object): boolean {
  const pending: object[] = [root];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i];
        if (typeof item === 'string') node[i] = decodeHighBytes(item);
        else if (item !== null && typeof item === 'object') pending.push(item);
      }
      continue;
    }
    // JSON.parse makes "__proto__" an own key; assigning to an own key sets it, not the prototype.
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (hasHighBytes(key)) return false;
      const item = record[key];
      if (typeof item === 'string') record[key] = decodeHighBytes(item);
      else if (item !== null && typeof item === 'object') pending.push(item);
    }
  }
  return true;
}
