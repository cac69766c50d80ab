/**
 * Finds recognised instruction files repeated inside one request's system prompts (opt-in). The
 * first copy is kept verbatim and later copies are dropped whole; nothing is replaced by a placeholder.
 */
import type { InstructionPayload } from './instructions';

export interface DedupePlan {
  /** Recognised instruction files (header included) to cut out of their string. */
  removeSections: InstructionPayload[];
}

/** Texts compare after trimming the ends: a copy with one more trailing newline is still a copy. */
function key(text: string): string {
  return text.trim();
}

/**
 * Which later copies of a recognised instruction file can go: a file whose text repeats an earlier
 * one verbatim (ends trimmed). Whole system blocks and messages are never removed, so the client's
 * own repeated system messages stay. Only earlier content decides whether a file is a copy, so a
 * turn that was forwarded once is forwarded the same way on every later request.
 *
 * @example planDedupe(payloads) // { removeSections: [secondCopy] }
 */
export function planDedupe(payloads: readonly InstructionPayload[]): DedupePlan {
  const plan: DedupePlan = { removeSections: [] };
  const seen = new Set<string>();
  for (const payload of payloads) {
    const text = key(payload.container.slice(payload.start, payload.end));
    if (text === '') continue;
    // A block left empty would be rejected by the API (Anthropic refuses empty text blocks): keep it.
    const rest = payload.container.slice(0, payload.sectionStart) + payload.container.slice(payload.sectionEnd);
    if (seen.has(text) && rest.trim() !== '') plan.removeSections.push(payload);
    seen.add(text);
  }
  return plan;
}
