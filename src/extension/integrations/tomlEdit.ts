/**
 * Edits TOML config files (Codex CLI's ~/.codex/config.toml) one top-level key or one whole table
 * at a time, by targeted text edits: no maintained npm library edits TOML while keeping every
 * other byte, and re-stringifying a parsed document would drop the user's comments. Every edit is
 * checked by parsing the result with smol-toml: the document must read as the old one with only
 * that key changed, or the edit is refused and the file left alone.
 */
import { parse } from 'smol-toml';
import type { JsonValue } from '../../core/request';
import { detectEol, DocumentSyntaxError, sameJson, splice, valueAt, type DocumentEditor, type KeyPath } from './documentEdit';

/** A table header line: `[a.b]` or `[[a]]`, with an optional comment (a value line like `[1, 2],` does not match). */
const KEY_PART = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const HEADER = new RegExp(String.raw`^[ \t]*\[\[?[ \t]*(${KEY_PART}(?:[ \t]*\.[ \t]*${KEY_PART})*)[ \t]*\]\]?[ \t]*(#.*)?$`);

function readToml(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DocumentSyntaxError((error as Error).message.split('\n')[0] ?? 'TOML syntax error');
  }
}

/** A key as TOML writes it: bare when it can be, else a basic string. */
function renderKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

/** A value as TOML: JSON strings are valid basic strings for printable text; objects become inline tables. */
function renderScalar(value: JsonValue): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(renderScalar).join(', ')}]`;
  if (value !== null) return `{ ${Object.entries(value).map(([key, item]) => `${renderKey(key)} = ${renderScalar(item)}`).join(', ')} }`;
  throw new DocumentSyntaxError('TOML has no null');
}

/** The dotted key of a header's text, quotes and spaces removed: `model_providers . "isartor"` → model_providers.isartor. */
function headerKey(inside: string): string {
  return inside.split('.').map((part) => part.trim().replace(/^["']|["']$/g, '')).join('.');
}

/** Start offsets of each line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) if (i + 1 < text.length) starts.push(i + 1);
  return starts;
}

function lineAt(text: string, start: number): string {
  const end = text.indexOf('\n', start);
  return text.slice(start, end === -1 ? text.length : end).replace(/\r$/, '');
}

/** Offset of the first table header, or the text length when there is none (top-level keys live before it). */
function firstHeader(text: string): number {
  return lineStarts(text).find((start) => HEADER.test(lineAt(text, start))) ?? text.length;
}

/** The line of a top-level `key = value`, or undefined. */
function topLevelLine(text: string, key: string): { start: number; line: string } | undefined {
  const limit = firstHeader(text);
  const pattern = new RegExp(`^[ \\t]*(?:${key.replace(/[^A-Za-z0-9_-]/g, '\\$&')}|"${key}"|'${key}')[ \\t]*=`);
  for (const start of lineStarts(text)) {
    if (start >= limit) break;
    const line = lineAt(text, start);
    if (pattern.test(line)) return { start, line };
  }
  return undefined;
}

/** The `[a.b]` section of a table: from its header to the next header (or the end). */
function tableSection(text: string, path: KeyPath): { start: number; end: number } | undefined {
  const wanted = path.join('.');
  const starts = lineStarts(text);
  const index = starts.findIndex((start) => {
    const match = HEADER.exec(lineAt(text, start));
    return match !== null && !lineAt(text, start).trimStart().startsWith('[[') && headerKey(match[1]!) === wanted;
  });
  if (index === -1) return undefined;
  const next = starts.slice(index + 1).find((start) => HEADER.test(lineAt(text, start)));
  return { start: starts[index]!, end: next ?? text.length };
}

/** The document with `path` removed from plain data, for comparing everything else. */
function without(data: unknown, path: KeyPath): unknown {
  const copy = structuredClone(data) as Record<string | number, unknown>;
  const parent = valueAt(copy, path.slice(0, -1)) as Record<string | number, unknown> | undefined;
  if (parent && typeof parent === 'object') delete parent[path.at(-1)!];
  return copy;
}

/** Refuses an edit whose result does not read as the old document with only `path` changed to `value`. */
function checked(before: string, after: string, path: KeyPath, value: JsonValue | undefined): string {
  const old = readToml(before);
  let updated: Record<string, unknown>;
  try {
    updated = readToml(after);
  } catch {
    throw new DocumentSyntaxError(`cannot change ${path.join('.')} without rewriting the file; Isartor leaves it alone`);
  }
  const landed = value === undefined ? valueAt(updated, path) === undefined : sameJson(valueAt(updated, path), value);
  const keep = (data: unknown): unknown => {
    // A table Isartor created and emptied again is not a difference.
    const rest = without(data, path) as Record<string, unknown>;
    const parent = path.length > 1 ? valueAt(rest, path.slice(0, -1)) : undefined;
    if (parent && typeof parent === 'object' && Object.keys(parent).length === 0) return without(rest, path.slice(0, -1));
    return rest;
  };
  if (!landed || !sameJson(keep(old), keep(updated))) {
    throw new DocumentSyntaxError(`cannot change ${path.join('.')} without touching other settings; Isartor leaves the file alone`);
  }
  return after;
}

function setTopLevel(text: string, key: string, value: JsonValue): string {
  const eol = detectEol(text);
  const existing = topLevelLine(text, key);
  if (existing) {
    const match = /^([^=]*=[ \t]*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#]+)(.*)$/.exec(existing.line);
    if (!match) throw new DocumentSyntaxError(`${key} has a value Isartor cannot replace in place`);
    return splice(text, existing.start, existing.start + existing.line.length, `${match[1]}${renderScalar(value)}${match[3]}`);
  }
  const line = `${renderKey(key)} = ${renderScalar(value)}${eol}`;
  let at = firstHeader(text);
  if (at === text.length) return text === '' || text.endsWith('\n') ? text + line : text + eol + line;
  // Keep comments written right above the first table with that table.
  const starts = lineStarts(text).filter((start) => start < at);
  for (let i = starts.length - 1; i >= 0 && /^[ \t]*#/.test(lineAt(text, starts[i]!)); i--) at = starts[i]!;
  return splice(text, at, at, line);
}

function appendTable(text: string, path: KeyPath, value: Record<string, JsonValue>): string {
  const eol = detectEol(text);
  const body = Object.entries(value).map(([key, item]) => `${renderKey(key)} = ${renderScalar(item)}${eol}`).join('');
  const header = `[${path.map((step) => renderKey(String(step))).join('.')}]${eol}`;
  if (text === '') return header + body;
  return `${text}${text.endsWith('\n') ? '' : eol}${eol}${header}${body}`;
}

function removeTable(text: string, path: KeyPath): string {
  const section = tableSection(text, path);
  if (!section) return text;
  let { start } = section;
  // The blank line that set the table apart goes with it.
  const before = text.slice(0, start);
  const blank = /(\r?\n)[ \t]*\r?\n$/.exec(before);
  if (blank && (section.end === text.length || /^[ \t]*\r?\n/.test(text.slice(section.end)))) start -= blank[0].length - blank[1]!.length;
  return splice(text, start, section.end);
}

export const tomlEditor: DocumentEditor = {
  read: readToml,

  set(text, path, value) {
    readToml(text);
    if (path.length === 1 && typeof path[0] === 'string') return checked(text, setTopLevel(text, path[0], value), path, value);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (valueAt(readToml(text), path) !== undefined) throw new DocumentSyntaxError(`${path.join('.')} already exists; Isartor leaves it alone`);
      return checked(text, appendTable(text, path, value), path, value);
    }
    throw new DocumentSyntaxError(`Isartor only writes top-level keys and whole tables to TOML, not ${path.join('.')}`);
  },

  remove(text, path) {
    const data = readToml(text);
    if (valueAt(data, path) === undefined) return text;
    if (path.length === 1 && typeof path[0] === 'string') {
      const line = topLevelLine(text, path[0]);
      if (line) {
        const end = text.indexOf('\n', line.start);
        return checked(text, splice(text, line.start, end === -1 ? text.length : end + 1), path, undefined);
      }
    }
    return checked(text, removeTable(text, path), path, undefined);
  },
};
