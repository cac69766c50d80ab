/**
 * Where the instruction payloads of a request are: system prompts, Anthropic `system` blocks, and
 * instruction files that agents embed in the first user turn. Only these are ever shrunk; user
 * questions, assistant turns, tool calls and tool outputs are never touched.
 */
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import type { JsonPath } from './jsonEdits';

export interface InstructionPayload {
  /** `system`: a whole system prompt or system block; `embedded`: a section of the first user turn. */
  kind: 'system' | 'embedded';
  /** Path of the JSON string that holds the payload. */
  path: JsonPath;
  /** The whole string at `path`. */
  container: string;
  /** The payload is `container.slice(start, end)`; for `system` that is the whole string. */
  start: number;
  end: number;
  /** For `embedded`: the whole section, wrapper included (what dedupe may remove). */
  sectionStart: number;
  sectionEnd: number;
}

/**
 * Tags agents wrap instruction files in (Copilot, Cursor, Codex, mini-swe-agent and others). Matched
 * case-insensitively; the content between the tags is the payload.
 */
const INSTRUCTION_TAGS = [
  'instructions',
  'custom_instructions',
  'user_instructions',
  'project_instructions',
  'rules',
  'user_rules',
  'project_rules',
  'cursor_rules',
  'always_applied_workspace_rules',
];
const TAGGED_SECTION = new RegExp(`<(${INSTRUCTION_TAGS.join('|')})(?:\\s[^<>]*)?>([\\s\\S]*?)</\\1\\s*>`, 'gi');
/** Claude Code: "Contents of /repo/CLAUDE.md (project instructions, …):\n\n<file>" inside a system reminder. */
const CONTENTS_OF_HEADER = /^Contents of [^\n]+ \([^()\n]*\):\n\n/gm;
const CONTENTS_OF_END = /\n+(?=Contents of [^\n]+ \([^()\n]*\):\n\n)|\n*<\/system-reminder>/g;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text parts of a message `content` (a string, or OpenAI/Anthropic text parts), with their paths. */
function textParts(content: JsonValue | undefined, basePath: JsonPath): Array<{ path: JsonPath; text: string }> {
  if (typeof content === 'string') return [{ path: basePath, text: content }];
  if (!Array.isArray(content)) return [];
  const parts: Array<{ path: JsonPath; text: string }> = [];
  content.forEach((part, index) => {
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string') parts.push({ path: [...basePath, index, 'text'], text: part.text });
  });
  return parts;
}

function wholeString(path: JsonPath, text: string): InstructionPayload {
  return { kind: 'system', path, container: text, start: 0, end: text.length, sectionStart: 0, sectionEnd: text.length };
}

/** Instruction sections embedded in one string of the first user turn, in order, never overlapping. */
export function findEmbeddedSections(text: string, path: JsonPath = []): InstructionPayload[] {
  const found: InstructionPayload[] = [];
  for (const match of text.matchAll(TAGGED_SECTION)) {
    const sectionStart = match.index;
    const start = sectionStart + match[0].indexOf('>') + 1;
    const end = start + (match[2] ?? '').length;
    found.push({ kind: 'embedded', path, container: text, start, end, sectionStart, sectionEnd: sectionStart + match[0].length });
  }
  for (const match of text.matchAll(CONTENTS_OF_HEADER)) {
    const start = match.index + match[0].length;
    CONTENTS_OF_END.lastIndex = start;
    const endMatch = CONTENTS_OF_END.exec(text);
    const end = endMatch ? endMatch.index : text.length;
    found.push({ kind: 'embedded', path, container: text, start, end, sectionStart: match.index, sectionEnd: end });
  }
  found.sort((a, b) => a.sectionStart - b.sectionStart);
  const kept: InstructionPayload[] = [];
  for (const section of found) {
    const last = kept[kept.length - 1];
    if (!last || section.sectionStart >= last.sectionEnd) kept.push(section);
  }
  return kept;
}

/**
 * Every instruction payload of a request, in request order.
 *
 * @example findInstructionPayloads('anthropic.messages', { system: 'Be brief.', messages: [] })
 * // [{ kind: 'system', path: ['system'], container: 'Be brief.', start: 0, end: 9, … }]
 */
export function findInstructionPayloads(api: ApiStyle, body: JsonObject): InstructionPayload[] {
  const payloads: InstructionPayload[] = [];
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (api === 'anthropic.messages') {
    for (const part of textParts(body.system, ['system'])) payloads.push(wholeString(part.path, part.text));
  } else if (api === 'openai.chat') {
    messages.forEach((message, index) => {
      if (!isObject(message) || (message.role !== 'system' && message.role !== 'developer')) return;
      for (const part of textParts(message.content, ['messages', index, 'content'])) payloads.push(wholeString(part.path, part.text));
    });
  } else {
    return payloads;
  }
  const firstUser = messages.findIndex((message) => isObject(message) && message.role === 'user');
  if (firstUser >= 0) {
    const content = (messages[firstUser] as JsonObject).content;
    for (const part of textParts(content, ['messages', firstUser, 'content'])) payloads.push(...findEmbeddedSections(part.text, part.path));
  }
  return payloads;
}
