/**
 * How many pieces a parsed JSON value is made of, for the body worker to tell whether the proxy's
 * thread can take a body in without stalling (and the caches whether an answer is cheap enough to
 * replay, large-answer.ts). Handing a parsed body from the worker to that thread
 * (a structured clone) costs time per piece, not per byte: ~0.02 µs a piece in arrays of numbers or
 * small objects, ~0.1 µs in an array of chat messages, and ~0.2 µs (10× a small object's, more in a
 * running proxy) in one object of 100,000 keys, which V8 keeps as a hash table (Node 20, measured on
 * this project's 2-core test machine). JSON.parse on that thread costs about the same.
 */
import { skipJsonString, skipJsonWhitespace } from './jsonScan';
import type { JsonValue } from './request';

/**
 * Most pieces a body may have for the proxy's thread to take it in. Bodies just under it held
 * that thread for 10–25 ms in a running `isartor serve` (a miss, all of its work included); at
 * twice as many, 30–50 ms. A long agent session is below it: 2,000 messages of ten pieces are 20,000.
 */
export const MAX_MAIN_THREAD_NODES = 100_000;

/** Keys an object may have before each further one counts as WIDE_KEY_WEIGHT pieces. */
const WIDE_OBJECT_KEYS = 1_000;

/** What a key past an object's WIDE_OBJECT_KEYS costs to clone, in small-object keys. */
const WIDE_KEY_WEIGHT = 10;

/**
 * The pieces of `value`: each value counts one, each object key one more (ten past an object's
 * 1,000th key). Counting stops past `limit`, so the answer is at most `limit + 1` and the work is
 * bounded by it.
 *
 * @example jsonNodesUpTo({ model: 'm', messages: [] }, 10) // 5: the object, two keys, two values
 */
export function jsonNodesUpTo(value: JsonValue, limit: number): number {
  let nodes = 0;
  const pending: JsonValue[] = [value];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (++nodes > limit) return limit + 1;
    if (next === null || typeof next !== 'object') continue;
    if (Array.isArray(next)) {
      // Each item counts at least one: a huge array is over the limit before it is walked.
      if (nodes + pending.length + next.length > limit) return limit + 1;
      for (const item of next) pending.push(item);
    } else {
      let keys = 0;
      for (const key in next) {
        nodes += ++keys > WIDE_OBJECT_KEYS ? WIDE_KEY_WEIGHT : 1;
        if (nodes > limit) return limit + 1;
        pending.push(next[key]!);
      }
    }
  }
  return nodes;
}

/** Characters a number, `true`, `false` or `null` is written with. */
function isLiteralCode(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x2e || code === 0x2b || code === 0x2d;
}

/**
 * `jsonNodesUpTo` of the value JSON `text` holds, counted from the text without parsing it, so a
 * caller learns what parsing it would cost before paying it. Linear in the text (strings are
 * skipped by their quotes); stops past `limit`. Assumes JSON: an unterminated string throws, and
 * other malformed text gets some count (JSON.parse will refuse it).
 *
 * @example jsonTextNodesUpTo('{"model":"m","messages":[]}', 10) // 5
 */
export function jsonTextNodesUpTo(text: string, limit: number): number {
  let nodes = 0;
  /** Keys so far of each open object or array, innermost last (-1 for an array). */
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      const end = skipJsonString(text, i);
      const top = open.length - 1;
      if (top >= 0 && open[top]! >= 0 && text.charCodeAt(skipJsonWhitespace(text, end)) === 0x3a) {
        nodes += ++open[top]! > WIDE_OBJECT_KEYS ? WIDE_KEY_WEIGHT : 1;
      } else {
        nodes++;
      }
      i = end - 1;
    } else if (code === 0x7b || code === 0x5b) {
      nodes++;
      open.push(code === 0x7b ? 0 : -1);
    } else if (code === 0x7d || code === 0x5d) {
      open.pop();
    } else if (isLiteralCode(code)) {
      nodes++;
      while (i + 1 < text.length && isLiteralCode(text.charCodeAt(i + 1))) i++;
    }
    if (nodes > limit) return limit + 1;
  }
  return nodes;
}

/**
 * The most pieces one character of JSON text can add: a key past an object's WIDE_OBJECT_KEYS
 * written as tightly as it can be (`"":0,`, five characters) adds WIDE_KEY_WEIGHT + 1. Rounded up.
 */
const MAX_NODES_PER_CHARACTER = Math.ceil((WIDE_KEY_WEIGHT + 1) / 5);

/**
 * Whether JSON `text` holds more than `limit` pieces. A text too short to hold that many is not
 * scanned at all: answers are almost always such, and the scan costs about as much as parsing.
 *
 * @example jsonTextExceedsNodes(answerText, MAX_STORED_ANSWER_NODES) // false for any text under ~66 K characters
 */
export function jsonTextExceedsNodes(text: string, limit: number): boolean {
  if (text.length * MAX_NODES_PER_CHARACTER <= limit) return false;
  return jsonTextNodesUpTo(text, limit) > limit;
}
