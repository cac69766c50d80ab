/**
 * Splices the optimiser's few edits into the client's JSON text, so that every byte the optimiser
 * does not deliberately change is forwarded exactly as the client sent it (no re-serialisation: big
 * integers, number spellings, escapes and key order all stay the client's).
 */
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { Node as JsonNode } from 'jsonc-parser';

export type JsonPath = Array<string | number>;

/**
 * The breakpoint the optimiser adds: default five-minute TTL. Kept as one literal so the benchmark
 * can remove exactly the markers the proxy added when it compares forwarded prefixes.
 */
export const CACHE_MARKER_JSON = '"cache_control":{"type":"ephemeral"}';

export type JsonEdit =
  /** Replace the string at `path` with `value`. */
  | { kind: 'replaceString'; path: JsonPath; value: string }
  /**
   * Turn the string at `path` (a `system` or message `content` string) into the equivalent one-block
   * array `[{"type":"text","text":…}]`, keeping the original string bytes unless `value` is given.
   */
  | { kind: 'wrapAsTextBlock'; path: JsonPath; value?: string; marker: boolean }
  /** Append a `cache_control` marker to the object at `path`. */
  | { kind: 'addMarker'; path: JsonPath }
  /** Remove the array element at `path`. */
  | { kind: 'removeElement'; path: JsonPath };

interface Splice {
  offset: number;
  length: number;
  content: string;
}

/** Thrown when an edit's path does not lead to a node of the kind the edit needs: a bug, not bad input. */
export class JsonEditError extends Error {}

function nodeAt(root: JsonNode, path: JsonPath, type: JsonNode['type']): JsonNode {
  const node = findNodeAtLocation(root, path);
  if (!node || node.type !== type) throw new JsonEditError(`no ${type} at ${JSON.stringify(path)}`);
  return node;
}

function spliceFor(text: string, root: JsonNode, edit: JsonEdit): Splice {
  switch (edit.kind) {
    case 'replaceString': {
      const node = nodeAt(root, edit.path, 'string');
      return { offset: node.offset, length: node.length, content: JSON.stringify(edit.value) };
    }
    case 'wrapAsTextBlock': {
      const node = nodeAt(root, edit.path, 'string');
      const textJson = edit.value === undefined ? text.slice(node.offset, node.offset + node.length) : JSON.stringify(edit.value);
      const marker = edit.marker ? `,${CACHE_MARKER_JSON}` : '';
      return { offset: node.offset, length: node.length, content: `[{"type":"text","text":${textJson}${marker}}]` };
    }
    case 'addMarker': {
      const node = nodeAt(root, edit.path, 'object');
      const closing = node.offset + node.length - 1;
      const separator = node.children && node.children.length > 0 ? ',' : '';
      return { offset: closing, length: 0, content: `${separator}${CACHE_MARKER_JSON}` };
    }
    case 'removeElement': {
      const node = findNodeAtLocation(root, edit.path);
      const parent = node?.parent;
      if (!node || !parent || parent.type !== 'array' || !parent.children) throw new JsonEditError(`no array element at ${JSON.stringify(edit.path)}`);
      const index = parent.children.indexOf(node);
      const previous = parent.children[index - 1];
      const following = parent.children[index + 1];
      // Take the separating comma with the element: the one before it, or else the one after it.
      if (previous) return { offset: previous.offset + previous.length, length: node.offset + node.length - (previous.offset + previous.length), content: '' };
      if (following) return { offset: node.offset, length: following.offset - node.offset, content: '' };
      return { offset: node.offset, length: node.length, content: '' };
    }
  }
}

/**
 * Applies `edits` to the JSON `text` and returns the new text. Edits address nodes of the original
 * text and must not overlap.
 *
 * @example applyJsonEdits('{"system":"hi"}', [{ kind: 'wrapAsTextBlock', path: ['system'], marker: true }])
 * // '{"system":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}'
 */
export function applyJsonEdits(text: string, edits: readonly JsonEdit[]): string {
  if (edits.length === 0) return text;
  const root = parseTree(text);
  if (!root) throw new JsonEditError('body is not JSON');
  const splices = edits.map((edit) => spliceFor(text, root, edit)).sort((a, b) => b.offset - a.offset);
  let out = text;
  let limit = Infinity;
  for (const splice of splices) {
    if (splice.offset + splice.length > limit) throw new JsonEditError('overlapping edits');
    out = out.slice(0, splice.offset) + splice.content + out.slice(splice.offset + splice.length);
    limit = splice.offset;
  }
  return out;
}
