// Keeps the bundles pure ASCII. One non-ASCII character anywhere makes V8 hold the whole file as
// a two-byte string: reading and compiling dist/cli.js then took ~20 ms and ~20 ms longer at each
// start. esbuild already escapes strings, templates and identifiers, but not comments (third-party
// ones, and ours in unminified builds) nor regular expression literals.
const NON_ASCII = /[^\x00-\x7f]/gu;

/** True when `at` lies inside a comment, judged from its own line ("// ...") or an open block comment. */
function inComment(text, at) {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  if (/(^|\s)\/\/|^\s*\*/.test(text.slice(lineStart, at))) return true;
  return text.lastIndexOf('/*', at) > text.lastIndexOf('*/', at);
}

/** `\uXXXX` for a code unit (an astral character becomes its two surrogates). */
const escape = (char) => Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');

/**
 * Returns `text` with every non-ASCII character in a comment written as a `\u` escape. Throws on
 * one outside a comment: code must spell it as an escape itself (a regex literal is not rewritten
 * here, since an escape after a backslash or in a raw template would change what it means).
 *
 * @example asciiBundle('x = 1; // it’s') === 'x = 1; // it\\u2019s'
 */
export function asciiBundle(text, name = 'bundle') {
  return text.replace(NON_ASCII, (char, at) => {
    // A misjudged regex or string still means the same with the escape, unless after a backslash.
    if (text[at - 1] !== '\\' && inComment(text, at)) return escape(char);
    const line = text.slice(0, at).split('\n').length;
    throw new Error(`${name}:${line}: non-ASCII character U+${char.codePointAt(0).toString(16).toUpperCase()} outside a comment; write it as a \\u escape in the source`);
  });
}
