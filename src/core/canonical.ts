/**
 * The canonical form of a request body (JSON with object keys sorted at every depth) and the
 * digests the caches key requests by. A miss needs two digests over most of the same bytes: the
 * exact cache's over the whole body and the semantic cache's over the turns before the last. The
 * turns are serialised once per request; a large body is hashed piece by piece, never joined into
 * one string.
 *
 * The digests hash the body's *key text*: its canonical JSON with each string value of
 * LONG_STRING_CHARS or more written as `<sha256 of that string's JSON>`. A coding agent resends
 * the same instructions and turns with every request; each long string's digest is remembered
 * across requests by its content, so a resent 100 KB history is looked up, not escaped and hashed
 * again (~0.8 ms of the proxy's thread per 100 KB miss before). No JSON value starts with `<` and
 * the digest has a fixed length, so the key text still tells every two bodies apart that
 * canonical JSON does. A body without long strings has the same key text, and so the same cache
 * keys, as before.
 *
 * A parsed body cannot tell every two requests apart: JSON.parse rounds an integer beyond 2^53
 * (`"seed": 9007199254740993` reads as …992), so two different requests would share one key text.
 * The walk notes such a number as it meets it (one comparison per number, no pass of its own), and
 * the digests of a text that holds one are UNKEYABLE_DIGEST: the caches neither answer nor store
 * that request ("when in doubt, miss").
 */
import { createHash } from 'node:crypto';
import { ObjectMemo } from './objectMemo';
import { sha256 } from './sha256';

/** The digest of a key text that holds a number JSON.parse may have rounded: never a cache key. */
export const UNKEYABLE_DIGEST = 'unkeyable';

/**
 * Whether a parsed number is certainly the number its JSON text said. An integer beyond ±2^53 may
 * have been rounded (and every number that large is an integer). A decimal with more digits than
 * a double holds is rounded too, but no answer-changing field takes one.
 */
export function isKeyableNumber(value: number): boolean {
  // Written as "not beyond" so NaN (never parsed from JSON; canonical JSON writes null) stays keyable.
  return !(value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER);
}

/** Set by the walk when it meets a number that is not keyable; each digest resets and reads it. */
let metUnkeyableNumber = false;

/**
 * JSON with object keys sorted at every depth, so that two bodies that differ only in key order
 * hash the same. Array order is kept: in messages, content parts and tools, order is meaning, and
 * so is the key order of a JSON schema's `properties` (see ORDERED_KEYS_FIELD).
 */
export function canonicalJson(value: unknown): string {
  return canonicalText(value, JSON.stringify);
}

/**
 * The key text the digests below hash: canonical JSON with every string value of
 * LONG_STRING_CHARS or more written as its digest (see the top of this file). The definition the
 * digests are tested against; they compute the same text with each long string's digest remembered.
 */
export function canonicalKeyText(value: unknown): string {
  return canonicalText(value, (text: string) => (text.length >= LONG_STRING_CHARS ? longStringToken(text) : JSON.stringify(text)));
}

/** The key text with long strings' digests remembered across requests. */
function rememberingKeyText(value: unknown, keepKeyOrder = false): string {
  return canonicalText(value, stringInKeyText, keepKeyOrder);
}

/**
 * The field whose object keeps its key order in the canonical form: a JSON schema's `properties`.
 * A structured output or a tool call's arguments are written in that order, and a schema that
 * puts "reasoning" before "answer" makes the model reason first: another answer, not the same
 * one reordered. Kept wherever the name appears (a key named so that is no schema only makes two
 * requests miss that might have shared an answer).
 */
const ORDERED_KEYS_FIELD = 'properties';

/** Whether the value of field `key` keeps its key order (see ORDERED_KEYS_FIELD). */
function keepsKeyOrder(key: string, item: unknown): boolean {
  return key === ORDERED_KEYS_FIELD && item !== null && typeof item === 'object' && !Array.isArray(item);
}

/** Canonical JSON, with each string value written by `writeString`; `keepKeyOrder` for an object whose key order is meaning. */
function canonicalText(value: unknown, writeString: (text: string) => string, keepKeyOrder = false): string {
  if (typeof value === 'string') return writeString(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !isKeyableNumber(value)) metUnkeyableNumber = true;
    return JSON.stringify(value) ?? 'null';
  }
  // Built by appending, not with filter/map/join: three calls per request over the messages made
  // this the largest allocation on the miss path. The output is the same, holes included (a unit
  // test compares it with the map/join form).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += canonicalText(value[i], writeString);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = keepKeyOrder ? Object.keys(object) : Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalText(item, writeString, keepsKeyOrder(key, item))}`;
  }
  return `${out}}`;
}

/**
 * String values at least this long enter the key text as their digest. An agent's instructions,
 * tool results and earlier answers are longer; a short question is written out, as are all the
 * strings of a small body, whose keys therefore did not change.
 */
export const LONG_STRING_CHARS = 1024;

/**
 * A long string in the key text: the sha256 of its JSON (JSON, not UTF-8: a lone surrogate would
 * become U+FFFD in UTF-8 and share a digest with one).
 */
function longStringToken(text: string): string {
  return `<${sha256(JSON.stringify(text))}>`;
}

/**
 * Long strings' tokens, remembered across requests in two generations: the newer fills up to
 * `budgetChars` characters, then becomes the older and the older is dropped. What a resent
 * conversation repeats stays found; at most about twice the budget is held.
 *
 * Found by a fingerprint (length and both ends) and confirmed by comparing the whole text: V8
 * hashes a new string's every character to look it up by content, which took as long as escaping
 * it (~3 ns a character), while comparing two strings runs at memory speed.
 */
export class LongStringTokens {
  private newer = new Map<string, { text: string; token: string }>();
  private older = new Map<string, { text: string; token: string }>();
  private newerChars = 0;

  constructor(private readonly budgetChars: number) {}

  /** The token of `text` (a string of LONG_STRING_CHARS or more) in the key text. */
  token(text: string): string {
    if (text.length > MAX_REMEMBERED_CHARS) return longStringToken(text);
    const print = `${text.length}:${text.slice(0, FINGERPRINT_END_CHARS)}${text.slice(-FINGERPRINT_END_CHARS)}`;
    const newer = this.newer.get(print);
    if (newer !== undefined && newer.text === text) return newer.token;
    const older = this.older.get(print);
    const token = older !== undefined && older.text === text ? older.token : longStringToken(text);
    // Two texts with one fingerprint: the latest is remembered, the other computed when it returns.
    this.newer.set(print, { text, token });
    this.newerChars += text.length;
    if (this.newerChars > this.budgetChars) {
      this.older = this.newer;
      this.newer = new Map();
      this.newerChars = 0;
    }
    return token;
  }

  /** How many characters are held now. */
  heldChars(): number {
    let chars = 0;
    for (const { text } of this.newer.values()) chars += text.length;
    for (const { text } of this.older.values()) chars += text.length;
    return chars;
  }
}

const FINGERPRINT_END_CHARS = 48;

/**
 * Longer strings are hashed each time, not held: only a body parsed on the body worker (256 KiB
 * and more, src/proxy/bodyParser.ts) can hold one, and keeping it would keep megabytes alive.
 */
const MAX_REMEMBERED_CHARS = 256 * 1024;

/** The requests' long strings, a million characters a generation (~5 MB held at most). */
export const rememberedLongStrings = new LongStringTokens(1024 * 1024);

function stringInKeyText(text: string): string {
  return text.length < LONG_STRING_CHARS ? JSON.stringify(text) : rememberedLongStrings.token(text);
}

/** An array's element texts, and whether any element holds a number that is not keyable. */
interface ElementTexts {
  texts: readonly string[];
  unkeyable: boolean;
}

/** Each element's key text, by array: a request's turns are serialised once for both caches. */
const elementTexts = new ObjectMemo<readonly unknown[], ElementTexts>('isartor.elementTexts');

/**
 * The key text of each element of `array` ('' for a hole, as canonical JSON writes one),
 * computed once per array object. Sound only because nothing edits a parsed body in place.
 */
export function canonicalElements(array: readonly unknown[]): readonly string[] {
  return elementTextsOf(array).texts;
}

/** canonicalElements, raising the walk's unkeyable flag when an element (now or when remembered) held such a number. */
function elementTextsOf(array: readonly unknown[]): ElementTexts {
  let remembered = elementTexts.get(array);
  if (!remembered) {
    const outer = metUnkeyableNumber;
    metUnkeyableNumber = false;
    const computed: string[] = [];
    for (let i = 0; i < array.length; i++) computed.push(i in array ? rememberingKeyText(array[i]) : '');
    remembered = { texts: computed, unkeyable: metUnkeyableNumber };
    elementTexts.set(array, remembered);
    metUnkeyableNumber = outer;
  }
  if (remembered.unkeyable) metUnkeyableNumber = true;
  return remembered;
}

/**
 * Pieces of one canonical text, hashed as their concatenation. A small body is joined and hashed
 * in one call (a Hash object and a call per piece cost more than the copy); a large one is fed
 * piece by piece, never copied whole.
 */
class PieceHash {
  private readonly pieces: string[] = [];
  private length = 0;

  add(piece: string): void {
    this.pieces.push(piece);
    this.length += piece.length;
  }

  /** Adds canonicalKeyText(array.slice(0, count)), from the elements' remembered texts. */
  addArray(array: readonly unknown[], count: number): void {
    const { texts } = elementTextsOf(array);
    this.add('[');
    for (let i = 0; i < count; i++) {
      if (i > 0) this.add(',');
      this.add(texts[i]!);
    }
    this.add(']');
  }

  digest(): string {
    if (this.length <= JOIN_BELOW_CHARS) return sha256(this.pieces.join(''));
    const hash = createHash('sha256');
    for (const piece of this.pieces) hash.update(piece);
    return hash.digest('hex');
  }
}

/** Canonical texts up to this length are joined before hashing (measured: 488-byte bodies hash ~30% faster joined). */
const JOIN_BELOW_CHARS = 16 * 1024;

/**
 * sha256 (hex) of canonicalKeyText(array.slice(0, count)), from the elements' remembered texts;
 * UNKEYABLE_DIGEST when the array holds a number that is not keyable.
 * (The pieces hash as their concatenation would: JSON.stringify escapes lone surrogates, so no
 * piece starts or ends inside a character.)
 */
export function canonicalArrayDigest(array: readonly unknown[], count = array.length): string {
  metUnkeyableNumber = false;
  const pieces = new PieceHash();
  pieces.addArray(array, Math.min(count, array.length));
  return metUnkeyableNumber ? UNKEYABLE_DIGEST : pieces.digest();
}

/**
 * sha256 (hex) of canonicalKeyText(object), where the object's array fields (turns, tools) are
 * serialised through canonicalElements, so another digest over the same arrays reuses them;
 * UNKEYABLE_DIGEST when the object holds a number that is not keyable.
 */
export function canonicalObjectDigest(object: Readonly<Record<string, unknown>>): string {
  metUnkeyableNumber = false;
  const pieces = new PieceHash();
  pieces.add('{');
  let first = true;
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    pieces.add(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (Array.isArray(item)) pieces.addArray(item, item.length);
    else pieces.add(rememberingKeyText(item, keepsKeyOrder(key, item)));
  }
  pieces.add('}');
  return metUnkeyableNumber ? UNKEYABLE_DIGEST : pieces.digest();
}
