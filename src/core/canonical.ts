/**
 * The canonical form of a request body (JSON with object keys sorted at every depth) and the
 * digests the caches key requests by. A miss needs two digests over most of the same bytes: the
 * exact cache's over the whole body and the semantic cache's over the turns before the last. The
 * turns are serialised once per request; a large body is hashed piece by piece, never joined into
 * one string: an agent's 100 KB body was serialised twice and copied whole twice before this.
 */
import { createHash } from 'node:crypto';
import { sha256 } from './sha256';

/**
 * JSON with object keys sorted at every depth, so that two bodies that differ only in key order
 * hash the same. Array order is kept: in messages, content parts and tools, order is meaning.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Built by appending, not with filter/map/join: three calls per request over the messages made
  // this the largest allocation on the miss path. The output is the same, holes included (a unit
  // test compares it with the map/join form).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** Each element's canonical JSON, by array: a request's turns are serialised once for both caches. */
const elementTexts = new WeakMap<readonly unknown[], readonly string[]>();

/**
 * The canonical JSON of each element of `array` ('' for a hole, as canonicalJson writes one),
 * computed once per array object. Sound only because nothing edits a parsed body in place.
 */
export function canonicalElements(array: readonly unknown[]): readonly string[] {
  let texts = elementTexts.get(array);
  if (!texts) {
    const computed: string[] = [];
    for (let i = 0; i < array.length; i++) computed.push(i in array ? canonicalJson(array[i]) : '');
    elementTexts.set(array, (texts = computed));
  }
  return texts;
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

  /** Adds canonicalJson(array.slice(0, count)), from the elements' remembered texts. */
  addArray(array: readonly unknown[], count: number): void {
    const texts = canonicalElements(array);
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
 * sha256 (hex) of canonicalJson(array.slice(0, count)), from the elements' remembered texts.
 * (The pieces hash as their concatenation would: JSON.stringify escapes lone surrogates, so no
 * piece starts or ends inside a character.)
 */
export function canonicalArrayDigest(array: readonly unknown[], count = array.length): string {
  const pieces = new PieceHash();
  pieces.addArray(array, Math.min(count, array.length));
  return pieces.digest();
}

/**
 * sha256 (hex) of canonicalJson(object), where the object's array fields (turns, tools) are
 * serialised through canonicalElements, so another digest over the same arrays reuses them.
 */
export function canonicalObjectDigest(object: Readonly<Record<string, unknown>>): string {
  const pieces = new PieceHash();
  pieces.add('{');
  let first = true;
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    pieces.add(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (Array.isArray(item)) pieces.addArray(item, item.length);
    else pieces.add(canonicalJson(item));
  }
  pieces.add('}');
  return pieces.digest();
}
