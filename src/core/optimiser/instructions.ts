/**
 * Where the instruction files of a request are, for the opt-in shrinking and de-duplication: only
 * files recognised for certain by their header, only inside system prompts, never in content the
 * client marked with `cache_control`. User turns, assistant turns, tool calls and tool outputs are
 * never touched.
 */
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import type { JsonPath } from './jsonEdits';

export interface InstructionPayload {
  /** Always a section of a larger string (a recognised instruction file). */
  kind: 'embedded';
  /** Path of the JSON string that holds the payload. */
  path: JsonPath;
  /** The whole string at `path`. */
  container: string;
  /** The payload (the file's text) is `container.slice(start, end)`. */
  start: number;
  end: number;
  /** The whole section, header included. */
  sectionStart: number;
  sectionEnd: number;
  /** The file's path as its header names it (`/repo/CLAUDE.md`). */
  file: string;
}

/**
 * Instruction files recognised for certain: Claude Code's "Contents of /repo/CLAUDE.md (project
 * instructions, …):" header naming one of these files. Anything else (a user's own
 * `<instructions>`, a prompt that merely looks like a file) is the client's words and stays as sent.
 */
const INSTRUCTION_FILES = ['CLAUDE.md', 'CLAUDE.local.md', 'AGENTS.md', 'GEMINI.md', '.cursorrules', 'copilot-instructions.md', '.clinerules', '.windsurfrules'];
const escaped = INSTRUCTION_FILES.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
const CONTENTS_OF_HEADER = new RegExp(`^Contents of ([^\\n]*[/\\\\](?:${escaped})) \\([^()\\n]*\\):\\n\\n`, 'gm');
/** Any file's header (instruction file or not): where the section before it ends. */
const ANY_CONTENTS_OF_HEADER = /^Contents of [^\n]+ \([^()\n]*\):\n\n/gm;
const REMINDER_END = '</system-reminder>';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text parts of a message `content` (a string, or OpenAI/Anthropic text parts), with their paths.
 * A part the client marked with `cache_control` is left out: its bytes are the client's decision.
 */
function textParts(content: JsonValue | undefined, basePath: JsonPath): Array<{ path: JsonPath; text: string }> {
  if (typeof content === 'string') return [{ path: basePath, text: content }];
  if (!Array.isArray(content)) return [];
  const parts: Array<{ path: JsonPath; text: string }> = [];
  content.forEach((part, index) => {
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string' && part.cache_control === undefined) parts.push({ path: [...basePath, index, 'text'], text: part.text });
  });
  return parts;
}

/**
 * Where sections can end, ascending: the start of every "Contents of … (…):" header and of every
 * `</system-reminder>`. One scan each, no backtracking over runs of newlines.
 */
function sectionEnds(text: string): number[] {
  const ends: number[] = [];
  for (const match of text.matchAll(ANY_CONTENTS_OF_HEADER)) ends.push(match.index);
  for (let at = text.indexOf(REMINDER_END); at >= 0; at = text.indexOf(REMINDER_END, at + REMINDER_END.length)) ends.push(at);
  return ends.sort((a, b) => a - b);
}

/**
 * The recognised instruction files inside one string, in order, never overlapping. A file ends
 * where the next file's header or `</system-reminder>` begins (the newlines before it are not
 * part of it). A file with neither after it is left out: its end cannot be told from text the
 * client wrote after it, and that text must never be edited.
 */
export function findEmbeddedSections(text: string, path: JsonPath = []): InstructionPayload[] {
  const found: InstructionPayload[] = [];
  const ends = sectionEnds(text);
  let next = 0;
  for (const match of text.matchAll(CONTENTS_OF_HEADER)) {
    const start = match.index + match[0].length;
    while (next < ends.length && ends[next]! < start) next++;
    if (next === ends.length) break;
    let end = ends[next]!;
    while (end > start && text.charCodeAt(end - 1) === 0x0a) end--;
    found.push({ kind: 'embedded', path, container: text, start, end, sectionStart: match.index, sectionEnd: end, file: match[1]! });
  }
  return found;
}

/**
 * Every recognised instruction file of a request, in request order: only inside system prompts
 * (Anthropic `system`, OpenAI system and developer messages), never in a user, assistant or tool
 * turn, never in a block marked with `cache_control`.
 *
 * @example findInstructionPayloads('anthropic.messages', { system: 'Contents of /r/CLAUDE.md (project instructions):\n\nUse pnpm.\n</system-reminder>', messages: [] })
 * // [{ kind: 'embedded', path: ['system'], start: 50, end: 59, … }]
 */
export function findInstructionPayloads(api: ApiStyle, body: JsonObject): InstructionPayload[] {
  const payloads: InstructionPayload[] = [];
  const parts: Array<{ path: JsonPath; text: string }> = [];
  if (api === 'anthropic.messages') {
    parts.push(...textParts(body.system, ['system']));
  } else if (api === 'openai.chat' && Array.isArray(body.messages)) {
    body.messages.forEach((message, index) => {
      if (isObject(message) && (message.role === 'system' || message.role === 'developer')) parts.push(...textParts(message.content, ['messages', index, 'content']));
    });
  }
  for (const part of parts) payloads.push(...findEmbeddedSections(part.text, part.path));
  return payloads;
}
