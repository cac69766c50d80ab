/**
 * Lossless shrinking of Markdown instruction payloads: trailing spaces, runs of blank lines and HTML
 * comments, each edit checked by re-parsing and comparing the syntax trees.
 *
 * The parser is micromark (through mdast-util-from-markdown) with the GFM and front-matter
 * extensions: it is the CommonMark reference implementation, so "parses to the same tree" means what
 * the spec says it means, and its node positions tell exactly where code spans, fenced and indented
 * code, raw HTML, hard line breaks and front matter sit. Nothing inside those ranges is ever touched.
 * A regex-based lexer (marked) was the alternative; it gives no such guarantee for edge cases.
 */
import { fromMarkdown } from 'mdast-util-from-markdown';
import { frontmatter } from 'micromark-extension-frontmatter';
import { frontmatterFromMarkdown } from 'mdast-util-frontmatter';
import { gfm } from 'micromark-extension-gfm';
import { gfmFromMarkdown } from 'mdast-util-gfm';

/** Which lossless edits to make; each has its own switch in `EngineConfig.optimiser`. */
export interface MarkdownShrinkOptions {
  /** Trailing spaces/tabs at line ends and runs of two or more blank lines. */
  whitespace: boolean;
  /** HTML comments that stand alone as a block or inline node. */
  htmlComments: boolean;
}

/** A node of the mdast tree, reduced to the fields this module reads. */
interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
  position?: { start: { offset?: number }; end: { offset?: number } };
  [key: string]: unknown;
}

/** Node types whose source bytes are never edited: code, raw HTML, hard breaks, front matter. */
const PROTECTED_TYPES = new Set(['code', 'inlineCode', 'html', 'yaml', 'toml', 'break', 'math', 'inlineMath']);
/** Node types whose raw source must come out byte-identical (the golden tests check the same). */
const VERBATIM_TYPES = new Set(['code', 'inlineCode', 'yaml', 'toml']);

/**
 * Parses one round of comment removal may spend on finding which comments can go when removing
 * them all would change the tree (besides the parse of the text and of each candidate's check).
 * Each costs a parse of the whole payload (~0.2 ms per KB here): trying every comment alone, as
 * before, re-parsed an 84 KB payload 66 times a round, 4.4 s in all.
 */
const MAX_GROUP_TRIALS = 6;
/** Past this many comments removal is all or nothing: so many are seldom told apart in six tries. */
const MAX_COMMENTS_TRIED_IN_GROUPS = 64;

const PARSE_OPTIONS = {
  extensions: [frontmatter(['yaml', 'toml']), gfm()],
  mdastExtensions: [frontmatterFromMarkdown(['yaml', 'toml']), gfmFromMarkdown()],
};

let parses = 0;

/** How many parses this thread has made: the tests check the work per payload stays bounded. */
export function markdownParseCount(): number {
  return parses;
}

/** Parses Markdown (CommonMark + GFM + YAML/TOML front matter) into an mdast tree. */
export function parseMarkdown(text: string): MdNode {
  parses++;
  return fromMarkdown(text, PARSE_OPTIONS) as unknown as MdNode;
}

/** True when an html node is exactly one comment and nothing else. */
export function isHtmlComment(node: MdNode): boolean {
  const value = node.value ?? '';
  return node.type === 'html' && value.length >= 7 && value.startsWith('<!--') && value.indexOf('-->', 4) === value.length - 3;
}

function nodeRange(node: MdNode): [number, number] | undefined {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? undefined : [start, end];
}

function visit(node: MdNode, fn: (node: MdNode) => void): void {
  fn(node);
  for (const child of node.children ?? []) visit(child, fn);
}

/**
 * The tree as a canonical string without positions, for "same structure" checks. With
 * `ignoreComments`, comment-only html nodes are dropped, the text nodes they separated are joined,
 * spaces around soft line breaks are folded (CommonMark renders them the same) and paragraphs left
 * empty disappear, so a tree with a comment removed compares equal to the tree it came from.
 *
 * @example markdownStructure('# a\n\n\nb') === markdownStructure('# a\n\nb') // true
 */
export function markdownStructure(text: string, options: { ignoreComments?: boolean } = {}): string {
  return JSON.stringify(canonicalNode(parseMarkdown(text), options.ignoreComments === true));
}

function canonicalNode(node: MdNode, ignoreComments: boolean): unknown {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'position' || key === 'children') continue;
    out[key] = value;
  }
  if (!node.children) {
    if (ignoreComments && node.type === 'text') out.value = foldSoftBreaks(node.value ?? '');
    return out;
  }
  const children: Record<string, unknown>[] = [];
  for (const child of node.children) {
    if (ignoreComments && isHtmlComment(child)) continue;
    const canonical = canonicalNode(child, ignoreComments) as Record<string, unknown>;
    const previous = children[children.length - 1];
    if (ignoreComments && canonical.type === 'text' && previous?.type === 'text') {
      previous.value = foldSoftBreaks(`${String(previous.value)}${String(canonical.value)}`);
      continue;
    }
    if (ignoreComments && canonical.type === 'paragraph' && (canonical.children as unknown[]).length === 0) continue;
    children.push(canonical);
  }
  out.children = children;
  return out;
}

function foldSoftBreaks(value: string): string {
  return value.replace(/[ \t]*\n[ \t]*/g, '\n');
}

/**
 * The exact source bytes of every code span, code block and front-matter block, in order. Shrinking
 * must leave this list unchanged; tests and the verifier both compare it.
 */
export function verbatimSlices(text: string, tree: MdNode = parseMarkdown(text)): string[] {
  const slices: string[] = [];
  visit(tree, (node) => {
    const range = VERBATIM_TYPES.has(node.type) ? nodeRange(node) : undefined;
    if (range) slices.push(text.slice(range[0], range[1]));
  });
  return slices;
}

/** Marks every character that lies inside a protected node. */
function protectedMask(text: string, tree: MdNode): Uint8Array {
  const mask = new Uint8Array(text.length + 1);
  visit(tree, (node) => {
    const range = PROTECTED_TYPES.has(node.type) ? nodeRange(node) : undefined;
    if (range) mask.fill(1, range[0], range[1]);
  });
  return mask;
}

function anyProtected(mask: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (mask[i]) return true;
  return false;
}

interface Line {
  start: number;
  /** End of the content, before the line ending. */
  end: number;
  /** End including the line ending. */
  next: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const pattern = /\r\n|\n|\r/g;
  let start = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    lines.push({ start, end: match.index, next: match.index + match[0].length });
    start = match.index + match[0].length;
  }
  if (start < text.length || lines.length === 0) lines.push({ start, end: text.length, next: text.length });
  return lines;
}

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Which lines whitespace shrinking leaves alone although no parsed code node covers them: code
 * can sit outside fences (an unfenced YAML `script: |` block, a Python docstring, a Makefile
 * recipe), and its indentation is all that marks it. So a line that starts with a space or tab
 * keeps its trailing whitespace, and a blank line keeps its whitespace and its place in a run when
 * the nearest non-blank line before or after it is indented.
 */
function indentationGuard(text: string, lines: Line[]): Uint8Array {
  const guarded = new Uint8Array(lines.length);
  const blank = (line: Line): boolean => {
    for (let i = line.start; i < line.end; i++) if (!isSpaceOrTab(text.charCodeAt(i))) return false;
    return true;
  };
  const kinds = lines.map((line) => (blank(line) ? 0 : isSpaceOrTab(text.charCodeAt(line.start)) ? 2 : 1));
  let before = 0;
  lines.forEach((_, index) => {
    if (kinds[index] !== 0) before = kinds[index]!;
    if (kinds[index] === 2 || (kinds[index] === 0 && before === 2)) guarded[index] = 1;
  });
  let after = 0;
  for (let index = lines.length - 1; index >= 0; index--) {
    if (kinds[index] !== 0) after = kinds[index]!;
    else if (after === 2) guarded[index] = 1;
  }
  return guarded;
}

/** Removes trailing spaces and tabs on lines where they sit outside every protected node and every guarded line. */
function stripTrailingSpaces(text: string, tree: MdNode): string {
  const mask = protectedMask(text, tree);
  const lines = splitLines(text);
  const guarded = indentationGuard(text, lines);
  const parts: string[] = [];
  lines.forEach((line, index) => {
    let contentEnd = line.end;
    while (contentEnd > line.start && isSpaceOrTab(text.charCodeAt(contentEnd - 1))) contentEnd--;
    const keep = contentEnd === line.end || guarded[index] === 1 || anyProtected(mask, contentEnd, line.end);
    parts.push(keep ? text.slice(line.start, line.next) : text.slice(line.start, contentEnd) + text.slice(line.end, line.next));
  });
  return parts.join('');
}

/** Collapses runs of two or more empty lines into one, where no line of the run is protected or guarded. */
function collapseBlankRuns(text: string, tree: MdNode): string {
  const mask = protectedMask(text, tree);
  const lines = splitLines(text);
  const guarded = indentationGuard(text, lines);
  const parts: string[] = [];
  let previousBlankKept = false;
  lines.forEach((line, index) => {
    const blank = line.end === line.start && line.next > line.start;
    const free = guarded[index] === 0 && !anyProtected(mask, line.start, line.next);
    const dropable = blank && previousBlankKept && free;
    if (!dropable) parts.push(text.slice(line.start, line.next));
    previousBlankKept = blank && free;
  });
  return parts.join('');
}

/** Byte ranges to delete for the given comment nodes (whole lines when the comment stands alone). */
function commentDeletions(text: string, comments: MdNode[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const lineEnding = /\r\n|\n|\r|$/g;
  for (const node of comments) {
    const range = nodeRange(node);
    if (!range) continue;
    let [start, end] = range;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    lineEnding.lastIndex = end;
    const eol = lineEnding.exec(text)!;
    if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t]*$/.test(text.slice(end, eol.index))) {
      start = lineStart;
      end = eol.index + eol[0].length;
    }
    ranges.push([start, end]);
  }
  return ranges;
}

/** `text` without the given ranges (non-overlapping), built in one pass. */
function deleteRanges(text: string, ranges: Array<[number, number]>): string {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let copied = 0;
  for (const [start, end] of sorted) {
    if (start < copied) continue;
    parts.push(text.slice(copied, start));
    copied = end;
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/** True when both parse to the same tree and keep every code block byte-identical. */
function sameTree(a: Parsed, b: Parsed, ignoreComments: boolean): boolean {
  return (
    JSON.stringify(canonicalNode(a.tree, ignoreComments)) === JSON.stringify(canonicalNode(b.tree, ignoreComments)) &&
    JSON.stringify(verbatimSlices(a.text, a.tree)) === JSON.stringify(verbatimSlices(b.text, b.tree))
  );
}

/** Accepts `candidate` only if it parses to the same tree and keeps every code block byte-identical. */
function isLosslessEdit(original: string, originalTree: MdNode, candidate: string, ignoreComments: boolean): boolean {
  return sameTree({ text: original, tree: originalTree }, { text: candidate, tree: parseMarkdown(candidate) }, ignoreComments);
}

/**
 * Comment removal in a bounded number of parses: all at once; if that changes the tree (a comment
 * can carry structure, e.g. separate two lists), halves, quarters, … of the comments, each group
 * kept whole if removing it alone changes the tree, until MAX_GROUP_TRIALS groups were tried (or
 * both halves failed); then the groups that passed, together, checked once more. Comments not
 * cleared within the budget stay.
 */
function removeComments(text: string): string {
  const tree = parseMarkdown(text);
  const comments: MdNode[] = [];
  visit(tree, (node) => {
    if (isHtmlComment(node)) comments.push(node);
  });
  if (comments.length === 0) return text;
  const without = (group: MdNode[]): string => deleteRanges(text, commentDeletions(text, group));
  const all = without(comments);
  if (isLosslessEdit(text, tree, all, true)) return all;
  if (comments.length > MAX_COMMENTS_TRIED_IN_GROUPS) return text;
  const removable: MdNode[] = [];
  const queue: MdNode[][] = comments.length > 1 ? [comments.slice(0, comments.length >> 1), comments.slice(comments.length >> 1)] : [];
  for (let trials = 0; queue.length > 0 && trials < MAX_GROUP_TRIALS; trials++) {
    // Neither half could go: structure is everywhere (a parse can take 0.3 s on a comment-heavy
    // 100 KB file), so the rest of the budget would most likely be spent for nothing.
    if (trials === 2 && removable.length === 0) break;
    const group = queue.shift()!;
    if (isLosslessEdit(text, tree, without(group), true)) removable.push(...group);
    else if (group.length > 1) queue.push(group.slice(0, group.length >> 1), group.slice(group.length >> 1));
  }
  if (removable.length === 0) return text;
  const some = without(removable);
  return isLosslessEdit(text, tree, some, true) ? some : text;
}

/** Removing one comment can join two halves into a new one (`<!<!-- a -->-- b -->`): repeat to a fixpoint. */
function removeCommentsToFixpoint(text: string): string {
  let out = text;
  for (let round = 0; round < 4 && out.includes('<!--'); round++) {
    const next = removeComments(out);
    if (next === out) break;
    out = next;
  }
  return out;
}

/** A parsed text, so one step's verified output does not need parsing again by the next step. */
interface Parsed {
  text: string;
  tree: MdNode;
}

function verifiedStep(input: Parsed, step: (text: string, tree: MdNode) => string): Parsed {
  const candidate = step(input.text, input.tree);
  if (candidate === input.text) return input;
  const candidateTree = parseMarkdown(candidate);
  return sameTree(input, { text: candidate, tree: candidateTree }, false) ? { text: candidate, tree: candidateTree } : input;
}

const TRAILING_SPACE = /[ \t](?:\r\n|\n|\r|$)/;
const BLANK_RUN = /(?:\r\n|\n|\r)[ \t]*(?:\r\n|\n|\r)[ \t]*(?:\r\n|\n|\r)/;

/**
 * Shrinks a Markdown instruction payload without changing what it says: every result parses to the
 * same tree as the input (modulo removed comments) and keeps every code span, code block and front
 * matter byte-identical; any edit that fails that check is not made. Pure and idempotent.
 *
 * @example shrinkMarkdown('# Rules  \n\n\n\n- one\n', { whitespace: true, htmlComments: true }) // '# Rules\n\n- one\n'
 */
export function shrinkMarkdown(text: string, options: MarkdownShrinkOptions): string {
  let out = text;
  if (options.htmlComments && out.includes('<!--')) out = removeCommentsToFixpoint(out);
  // Cheap textual checks first: most payloads have nothing to shrink and need no parse at all.
  if (!options.whitespace || (!TRAILING_SPACE.test(out) && !BLANK_RUN.test(out))) return out;
  let parsed: Parsed = { text: out, tree: parseMarkdown(out) };
  if (TRAILING_SPACE.test(parsed.text)) parsed = verifiedStep(parsed, stripTrailingSpaces);
  if (BLANK_RUN.test(parsed.text)) parsed = verifiedStep(parsed, collapseBlankRuns);
  return parsed.text;
}
