/**
 * Edits JSON-with-comments config files (Continue's config.json, Claude Code's settings.json) one
 * key at a time. jsonc-parser locates the nodes; the text is spliced by hand because its own
 * `modify` re-formats neighbouring lines on insert and drops comments on delete.
 */
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { JsonValue } from '../../core/request';
import { detectEol, DocumentSyntaxError, lineStartOf, splice, type DocumentEditor, type KeyPath } from './documentEdit';

/** Layout of a JSON object's members in the file. */
interface Layout {
  eol: string;
  /** One level of indentation as the file writes it ("  ", "    " or a tab). */
  unit: string;
}

export const jsoncEditor: DocumentEditor = {
  read(text) {
    if (text.trim() === '') return {};
    return getNodeValue(tree(text));
  },

  set(text, path, value) {
    if (text.trim() === '') return `${JSON.stringify(nest(path, value), null, 2)}\n`;
    const root = tree(text);
    assertKeysOnce(root, path);
    const existing = findNodeAtLocation(root, path);
    if (existing) {
      const indent = indentOfLine(text, existing.offset);
      return splice(text, existing.offset, existing.offset + existing.length, render(value, indent, layoutOf(text)));
    }
    // The deepest object that exists gets one new member holding the rest of the path.
    for (let depth = path.length - 1; depth >= 0; depth--) {
      const parent = depth === 0 ? root : findNodeAtLocation(root, path.slice(0, depth));
      if (!parent) continue;
      const key = path[depth];
      if (parent.type !== 'object' || typeof key !== 'string') {
        throw new DocumentSyntaxError(`cannot add ${JSON.stringify(path)}: ${JSON.stringify(path.slice(0, depth))} is not an object`);
      }
      return insertMember(text, parent, key, nest(path.slice(depth + 1), value));
    }
    throw new DocumentSyntaxError('the document is not an object');
  },

  remove(text, path) {
    if (text.trim() === '') return text;
    const root = tree(text);
    assertKeysOnce(root, path);
    const node = findNodeAtLocation(root, path);
    const member = node?.parent;
    if (!node || member?.type !== 'property' || !member.parent) return text;
    return removeMember(text, member, member.parent.children ?? []);
  },
};

function tree(text: string): Node {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) {
    const first = errors[0];
    throw new DocumentSyntaxError(first ? `${printParseErrorCode(first.error)} at offset ${first.offset}` : 'empty document');
  }
  return root;
}

/**
 * Refuses a path through an object that holds the same key more than once: the tool reading the
 * file takes the last one, jsonc-parser's lookup the first, so an edit could land where it has no
 * effect (or restore the wrong member).
 */
function assertKeysOnce(root: Node, path: KeyPath): void {
  let node: Node | undefined = root;
  for (const [depth, step] of path.entries()) {
    if (node?.type === 'array' && typeof step === 'number') {
      node = node.children?.[step];
      continue;
    }
    if (node?.type !== 'object' || typeof step !== 'string') return;
    const members = (node.children ?? []).filter((member) => member.children?.[0]?.value === step);
    if (members.length > 1) {
      const where = depth === 0 ? '' : ` inside ${JSON.stringify(path.slice(0, depth))}`;
      throw new DocumentSyntaxError(`the key ${JSON.stringify(step)} appears ${members.length} times${where}; Isartor leaves the file alone`);
    }
    node = members[0]?.children?.[1];
  }
}

function nest(path: KeyPath, value: JsonValue): JsonValue {
  return path.reduceRight<JsonValue>((inner, key) => ({ [String(key)]: inner }), value);
}

function layoutOf(text: string): Layout {
  const indented = /\n([ \t]+)["}\]]/.exec(text)?.[1];
  const unit = indented?.startsWith('\t') ? '\t' : ' '.repeat(Math.min(indented?.length ?? 2, 8));
  return { eol: detectEol(text), unit };
}

function indentOfLine(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStartOf(text, offset)))?.[0] ?? '';
}

/** A value as JSON, its later lines indented to sit under `indent`. */
function render(value: JsonValue, indent: string, layout: Layout): string {
  return JSON.stringify(value, null, layout.unit).split('\n').join(`${layout.eol}${indent}`);
}

function insertMember(text: string, object: Node, key: string, value: JsonValue): string {
  const layout = layoutOf(text);
  const members = object.children ?? [];
  const last = members.at(-1);
  if (!last) {
    const open = object.offset;
    const close = object.offset + object.length - 1;
    const outer = indentOfLine(text, open);
    const inner = outer + layout.unit;
    const member = `${JSON.stringify(key)}: ${render(value, inner, layout)}`;
    // `{}` becomes a block; a block that already spans lines (maybe holding comments) keeps them.
    if (text.slice(open + 1, close).includes('\n')) return splice(text, open + 1, open + 1, `${layout.eol}${inner}${member}`);
    return splice(text, open + 1, close, `${layout.eol}${inner}${member}${layout.eol}${outer}`);
  }
  const lastEnd = last.offset + last.length;
  const ownLine = /^[ \t]*$/.test(text.slice(lineStartOf(text, last.offset), last.offset));
  const rest = /^[ \t]*(,)?[ \t]*(?:\/\/[^\r\n]*|\/\*[^\r\n]*?\*\/)?[ \t]*(?=\r?\n)/.exec(text.slice(lastEnd));
  if (ownLine && rest) {
    // New member on its own line after the last one, at the same indentation; a comment that
    // ends the last member's line stays on that line.
    const indent = indentOfLine(text, last.offset);
    const member = `${JSON.stringify(key)}: ${render(value, indent, layout)}`;
    const lineEnd = lastEnd + rest[0].length;
    if (rest[1]) return splice(text, lineEnd, lineEnd, `${layout.eol}${indent}${member},`);
    const withLine = splice(text, lineEnd, lineEnd, `${layout.eol}${indent}${member}`);
    return splice(withLine, lastEnd, lastEnd, ',');
  }
  const member = `${JSON.stringify(key)}: ${JSON.stringify(value)}`;
  const comma = /^[ \t]*,/.exec(text.slice(lastEnd));
  if (comma) return splice(text, lastEnd + comma[0].length, lastEnd + comma[0].length, ` ${member},`);
  return splice(text, lastEnd, lastEnd, `, ${member}`);
}

function removeMember(text: string, member: Node, siblings: Node[]): string {
  const index = siblings.indexOf(member);
  const start = member.offset;
  const end = member.offset + member.length;
  const lineStart = lineStartOf(text, start);
  const rest = /^[ \t]*(,)?[ \t]*(\r?\n)/.exec(text.slice(end));
  if (/^[ \t]*$/.test(text.slice(lineStart, start)) && rest) {
    // The exact reverse of insertMember: drop the member's lines, and if it was the last member
    // without a trailing comma, drop the comma that was added after the member before it.
    let result = splice(text, lineStart, end + rest[0].length);
    const previous = siblings[index - 1];
    if (!rest[1] && previous && index === siblings.length - 1) {
      const previousEnd = previous.offset + previous.length;
      const comma = /^[ \t]*,/.exec(result.slice(previousEnd));
      if (comma) result = splice(result, previousEnd + comma[0].length - 1, previousEnd + comma[0].length);
    }
    return result;
  }
  const next = siblings[index + 1];
  if (next) return splice(text, start, next.offset);
  const previous = siblings[index - 1];
  if (previous) return splice(text, previous.offset + previous.length, end);
  const comma = /^[ \t]*,/.exec(text.slice(end));
  return splice(text, start, end + (comma?.[0].length ?? 0));
}
