/**
 * Steps of a hand-written scan over JSON text, for the places that must see the body's own bytes
 * (offsets to splice at, turns compared byte for byte) rather than a parsed copy. Linear in the
 * text; the text is assumed to be JSON that already parsed, so a malformed one only throws.
 */

/** JSON's four whitespace characters. */
export function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Index of the first non-whitespace character at or after `index`. */
export function skipJsonWhitespace(text: string, index: number): number {
  let i = index;
  while (i < text.length && isJsonWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string that opens (with its quote) at `index`. */
export function skipJsonString(text: string, index: number): number {
  let i = index + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) throw new SyntaxError('unterminated string');
    // A quote is escaped by an odd run of backslashes before it.
    let backslashes = 0;
    for (let j = quote - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}
