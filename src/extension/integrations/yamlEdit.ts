/**
 * Edits YAML config files (Continue's config.yaml) one scalar key at a time. The `yaml` Document
 * API finds the nodes and their source ranges; only those ranges are rewritten, so comments,
 * key order, quoting and odd indentation elsewhere stay byte for byte (re-stringifying the
 * document would re-wrap and re-indent the user's file).
 */
import { isAlias, isCollection, isMap, isScalar, parse, parseDocument, type Document, type Pair, type Range, type YAMLMap } from 'yaml';
import type { JsonValue } from '../../core/request';
import { detectEol, DocumentSyntaxError, lineEndAfter, lineStartOf, splice, type DocumentEditor, type KeyPath } from './documentEdit';

type Ranged = { range?: Range | null };

export const yamlEditor: DocumentEditor = {
  read(text) {
    return document(text).toJS();
  },

  set(text, path, value) {
    if (value !== null && typeof value === 'object') throw new DocumentSyntaxError('only scalar values can be written to YAML');
    const doc = document(text);
    assertNotShared(doc, path);
    const existing = doc.getIn(path, true);
    if (isScalar(existing) && existing.range) {
      const [start, end] = existing.range;
      // `apiBase:` with nothing after the colon is an empty scalar; keep one space after the colon.
      const gap = start === end && text[start - 1] === ':' ? ' ' : '';
      const style = existing.type === 'QUOTE_DOUBLE' || existing.type === 'QUOTE_SINGLE' ? existing.type : 'PLAIN';
      return splice(text, start, end, gap + renderScalar(value, style, false));
    }
    if (existing !== undefined) throw new DocumentSyntaxError(`${path.join('.')} holds a collection, not a value`);
    const map = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const key = path.at(-1);
    if (!isMap(map) || typeof key !== 'string') throw new DocumentSyntaxError(`cannot add ${path.join('.')}: its parent is not a mapping`);
    return insertPair(text, map, key, value);
  },

  remove(text, path) {
    const doc = document(text);
    assertNotShared(doc, path);
    const map = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (!isMap(map)) return text;
    const index = map.items.findIndex((pair) => isScalar(pair.key) && pair.key.value === path.at(-1));
    if (index === -1) return text;
    return removePair(text, map, index);
  },
};

function document(text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const error = doc.errors[0];
  if (error) throw new DocumentSyntaxError(error.message.split('\n')[0] ?? 'YAML syntax error');
  return doc;
}

/**
 * Refuses a path that runs through an anchor or an alias (`&base` … `*base`): an edit there would
 * also change every other place that shares the node, which Isartor may have decided to leave
 * alone (a fill-in-the-middle model sharing a chat model's apiBase).
 */
function assertNotShared(doc: Document, path: KeyPath): void {
  let node: unknown = doc.contents;
  for (let depth = 0; depth <= path.length; depth++) {
    if (isAlias(node)) throw new DocumentSyntaxError(`${path.slice(0, depth).join('.') || 'the document'} is a YAML alias (*${node.source}); Isartor leaves it alone`);
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) throw new DocumentSyntaxError(`${path.slice(0, depth).join('.') || 'the document'} has a YAML anchor (&${anchor}) other places may share; Isartor leaves it alone`);
    if (depth === path.length || !isCollection(node)) return;
    node = node.get(path[depth], true);
  }
}

/**
 * A string as YAML in the style the old value used. A plain scalar is only used when it reads
 * back as the same string (a URL with "#" or ": " in it would not), else double quotes.
 */
function renderScalar(value: Exclude<JsonValue, object>, style: 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE', flow: boolean): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (style === 'QUOTE_DOUBLE') return JSON.stringify(value);
  if (style === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`;
  const probe = flow ? `{k: ${value}}` : `k: ${value}`;
  try {
    const parsed = parse(probe) as { k?: unknown } | null;
    if (parsed?.k === value && !value.includes('\n')) return value;
  } catch {
    // Not a valid plain scalar: quote it.
  }
  return JSON.stringify(value);
}

function rangeOf(node: unknown): Range {
  const range = (node as Ranged | null)?.range;
  if (!range) throw new DocumentSyntaxError('node without a source range');
  return range;
}

/** The node that ends a pair: its value, or its key when the value is missing. */
function pairEnd(pair: Pair): number {
  const value = pair.value as Ranged | null;
  return (value?.range ?? rangeOf(pair.key))[1];
}

function insertPair(text: string, map: YAMLMap, key: string, value: Exclude<JsonValue, object>): string {
  const last = map.items.at(-1);
  if (map.flow) {
    const member = `${key}: ${renderScalar(value, 'PLAIN', true)}`;
    if (last) return splice(text, pairEnd(last), pairEnd(last), `, ${member}`);
    const open = rangeOf(map)[0];
    return splice(text, open + 1, open + 1, member);
  }
  const first = map.items[0];
  if (!first || !last) throw new DocumentSyntaxError('empty block mapping');
  // Same column as the mapping's first key (after "- " in a list item, whatever the indentation).
  const keyStart = rangeOf(first.key)[0];
  const indent = ' '.repeat(keyStart - lineStartOf(text, keyStart));
  const line = `${indent}${key}: ${renderScalar(value, 'PLAIN', false)}`;
  const at = lineEndAfter(text, pairEnd(last));
  const eol = detectEol(text);
  if (at === text.length && !text.endsWith('\n')) return `${text}${eol}${line}`;
  return splice(text, at, at, `${line}${eol}`);
}

function removePair(text: string, map: YAMLMap, index: number): string {
  const pair = map.items[index] as Pair;
  const start = rangeOf(pair.key)[0];
  const end = pairEnd(pair);
  const next = map.items[index + 1];
  if (map.flow) {
    const previous = map.items[index - 1];
    if (previous) return splice(text, pairEnd(previous), end);
    return splice(text, start, next ? rangeOf(next.key)[0] : end);
  }
  const lineStart = lineStartOf(text, start);
  const lead = text.slice(lineStart, start);
  if (/^[ \t]*$/.test(lead)) {
    const lineEnd = lineEndAfter(text, end);
    // The last line of a file without a final newline takes the line break before it along.
    if (lineEnd === text.length && !text.endsWith('\n') && lineStart > 0) {
      const breakStart = text[lineStart - 2] === '\r' ? lineStart - 2 : lineStart - 1;
      return splice(text, breakStart, lineEnd);
    }
    return splice(text, lineStart, lineEnd);
  }
  // First key of a list item ("- apiBase: ..."): the next key moves up behind the dash.
  if (/^[ \t]*-[ \t]+$/.test(lead)) {
    return next ? splice(text, start, rangeOf(next.key)[0]) : splice(text, start, end, '{}');
  }
  throw new DocumentSyntaxError(`unexpected layout around ${String((pair.key as { value?: unknown }).value)}`);
}
