/**
 * The shared shape of the config editors (YAML, JSON with comments, TOML): read a document as
 * plain data, set or remove one key, and change no other byte of the text.
 */
import type { JsonValue } from '../../core/request';
import { canonicalJson } from '../../core/canonical';

/** A path into a document: object keys and list indexes, e.g. ["models", 2, "apiBase"]. */
export type KeyPath = (string | number)[];

export type DocumentFormat = 'yaml' | 'jsonc' | 'toml';

export interface DocumentEditor {
  /** The document as plain data; throws DocumentSyntaxError when the text does not parse. */
  read(text: string): unknown;
  /** `text` with the value at `path` set (the key added when absent); every other byte kept. */
  set(text: string, path: KeyPath, value: JsonValue): string;
  /** `text` without the key at `path` (unchanged when absent); every other byte kept. */
  remove(text: string, path: KeyPath): string;
}

/** The user's file does not parse; Isartor leaves it alone rather than guess. */
export class DocumentSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentSyntaxError';
  }
}

/** The value at `path` inside plain data, or undefined when any step is missing. */
export function valueAt(data: unknown, path: KeyPath): unknown {
  let current = data;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** Deep equality of two JSON-like values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The line break the file already uses. */
export function detectEol(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Offset of the first character of the line holding `offset`. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the line break ending the line that holds `offset` (text length at the last line). */
export function lineEndAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** Replaces `[start, end)` of `text` with `insert`. */
export function splice(text: string, start: number, end: number, insert = ''): string {
  return text.slice(0, start) + insert + text.slice(end);
}
