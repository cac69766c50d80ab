/**
 * Finds recognised instruction files repeated inside one request's system prompts (opt-in). The
 * first copy is kept verbatim; a later copy keeps its header, so the model still knows that file
 * applies where it sits, and its text becomes a short pointer to the first copy.
 */
import type { InstructionPayload } from './instructions';

export interface DedupeReplacement {
  /** The later copy, whose text (`container.slice(start, end)`, header excluded) is replaced. */
  payload: InstructionPayload;
  /** What replaces it: "(same content as /repo/CLAUDE.md above)". */
  pointer: string;
}

export interface DedupePlan {
  replacements: DedupeReplacement[];
}

function isBlankLineChar(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d;
}

/**
 * The text compared: exactly as written, except blank lines at either end. An indented code block
 * and a paragraph with the same words differ; a copy with one more trailing newline does not.
 *
 * @example comparisonKey('\n\nUse pnpm.\n\n') === comparisonKey('Use pnpm.') // true
 * @example comparisonKey('    rm -rf build') === comparisonKey('rm -rf build') // false
 */
export function comparisonKey(text: string): string {
  // Leading blank lines: everything up to the last newline before the first other character.
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x0a) start = i + 1;
    else if (!isBlankLineChar(code)) break;
  }
  // Trailing blank lines: everything from the first newline after the last other character.
  let end = text.length;
  for (let i = text.length - 1; i >= start; i--) {
    const code = text.charCodeAt(i);
    if (code === 0x0a) end = i;
    else if (!isBlankLineChar(code)) break;
  }
  if (end > 0 && text.charCodeAt(end - 1) === 0x0d && end < text.length) end--;
  return start >= end ? '' : text.slice(start, end);
}

/** The pointer that replaces a later copy of `file`'s text. */
export function pointerTo(file: string): string {
  return `(same content as ${file} above)`;
}

/**
 * Which later copies of a recognised instruction file become a pointer: a file whose text repeats
 * an earlier one exactly (blank lines at the ends aside), when the pointer is shorter. Whole system
 * blocks and messages are never removed, nor any header. Only earlier content decides whether a
 * file is a copy, so a turn that was forwarded once is forwarded the same way on every later request.
 *
 * @example planDedupe(payloads) // { replacements: [{ payload: secondCopy, pointer: '(same content as /r/CLAUDE.md above)' }] }
 */
export function planDedupe(payloads: readonly InstructionPayload[]): DedupePlan {
  const plan: DedupePlan = { replacements: [] };
  const firstFile = new Map<string, string>();
  for (const payload of payloads) {
    const key = comparisonKey(payload.container.slice(payload.start, payload.end));
    if (key === '') continue;
    const first = firstFile.get(key);
    if (first === undefined) {
      firstFile.set(key, payload.file);
      continue;
    }
    const pointer = pointerTo(first);
    if (pointer.length < payload.end - payload.start) plan.replacements.push({ payload, pointer });
  }
  return plan;
}
