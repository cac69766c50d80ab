/**
 * Byte-level prefix stability of request bodies: does a request begin with the previous request's
 * turns, byte for byte? A JSON body is never a literal byte prefix of the next one (closing brackets,
 * fields after `messages`), so the comparison is turn by turn on the raw bytes of `model`, `tools`,
 * `system` and each message, exactly as they appear in the body.
 *
 * The optimiser's own breakpoint markers are removed before comparing: the provider's cache key
 * leaves `cache_control` out (see src/core/optimiser/cacheHints.ts), so a marker that moves from one
 * turn to the next does not break the prefix. Nothing else is normalised: any other changed byte in
 * an earlier turn counts as unstable.
 */
import { skipJsonString, skipJsonWhitespace } from '../core/jsonScan';
import { CACHE_MARKER_JSON } from '../core/optimiser/jsonEdits';

export interface TurnBytes {
  /** Raw bytes of `model`, `tools` and `system`. */
  head: string;
  /** Raw bytes of each element of `messages`. */
  messages: string[];
}

const PREFIX_KEYS = new Set(['model', 'tools', 'system']);
const ADDED_MARKER = `,${CACHE_MARKER_JSON}`;

/** Index just past the JSON value that starts at `index`. */
function skipValue(text: string, index: number): number {
  const first = text.charCodeAt(index);
  if (first === 0x22) return skipJsonString(text, index);
  if (first !== 0x7b && first !== 0x5b) {
    let i = index;
    while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (let i = index; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) i = skipJsonString(text, i) - 1;
    else if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new SyntaxError('unterminated value');
}

/** Raw slices of the elements of the array that opens at `index`. */
function arrayElements(text: string, index: number): string[] {
  const elements: string[] = [];
  let i = skipJsonWhitespace(text, index + 1);
  while (text[i] !== ']') {
    const end = skipValue(text, i);
    elements.push(text.slice(i, end));
    i = skipJsonWhitespace(text, end);
    if (text[i] === ',') i = skipJsonWhitespace(text, i + 1);
  }
  return elements;
}

/** Splits a request body into its prefix-relevant turns, markers added by the optimiser removed. */
export function turnBytes(body: string): TurnBytes {
  const text = body.includes(ADDED_MARKER) ? body.split(ADDED_MARKER).join('') : body;
  const head: string[] = [];
  let messages: string[] = [];
  let i = skipJsonWhitespace(text, 0);
  if (text[i] !== '{') throw new SyntaxError('body is not a JSON object');
  i = skipJsonWhitespace(text, i + 1);
  while (text[i] !== '}') {
    const keyEnd = skipJsonString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipJsonWhitespace(text, skipJsonWhitespace(text, keyEnd) + 1);
    const valueEnd = skipValue(text, valueStart);
    if (key === 'messages' && text[valueStart] === '[') messages = arrayElements(text, valueStart);
    else if (PREFIX_KEYS.has(key)) head.push(`${key}=${text.slice(valueStart, valueEnd)}`);
    i = skipJsonWhitespace(text, valueEnd);
    if (text[i] === ',') i = skipJsonWhitespace(text, i + 1);
  }
  return { head: head.sort().join('\n'), messages };
}

/** True when `current` begins with every turn of `previous`, byte for byte. */
export function startsWithTurns(current: TurnBytes, previous: TurnBytes): boolean {
  if (current.head !== previous.head || current.messages.length < previous.messages.length) return false;
  return previous.messages.every((message, index) => current.messages[index] === message);
}
