/**
 * Finds instruction blocks repeated inside one request (the same system block twice, an instruction
 * file pasted into the first user turn that the system prompt already carries). The first copy is
 * kept verbatim and later copies are dropped whole; nothing is replaced by a placeholder.
 */
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { canonicalJson } from '../request';
import type { InstructionPayload } from './instructions';
import type { JsonPath } from './jsonEdits';

export interface DedupePlan {
  /** Whole array elements to drop: Anthropic system blocks or OpenAI system/developer messages. */
  removeElements: JsonPath[];
  /** Embedded sections (wrapper included) to cut out of their string. */
  removeSections: InstructionPayload[];
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Texts compare after trimming the ends: a copy with one more trailing newline is still a copy. */
function key(text: string): string {
  return text.trim();
}

/**
 * Which later copies of an instruction block can go. Only earlier content decides whether a block
 * is a copy, so a turn that was forwarded once is forwarded the same way on every later request.
 *
 * @example planDedupe('anthropic.messages', { system: [{ type: 'text', text: 'A' }, { type: 'text', text: 'A' }] }, payloads)
 * // { removeElements: [['system', 1]], removeSections: [] }
 */
export function planDedupe(api: ApiStyle, body: JsonObject, payloads: readonly InstructionPayload[]): DedupePlan {
  const plan: DedupePlan = { removeElements: [], removeSections: [] };
  const seen = new Set<string>();
  if (api === 'anthropic.messages' && Array.isArray(body.system)) {
    body.system.forEach((block, index) => {
      if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string' || key(block.text) === '') return;
      // A block the client marked for caching is the client's decision; leave it where it is.
      if (seen.has(key(block.text)) && block.cache_control === undefined) plan.removeElements.push(['system', index]);
      seen.add(key(block.text));
    });
  } else if (api === 'openai.chat' && Array.isArray(body.messages)) {
    const seenMessages = new Set<string>();
    body.messages.forEach((message, index) => {
      if (!isObject(message) || (message.role !== 'system' && message.role !== 'developer')) return;
      const identity = `${String(message.role)}\n${canonicalJson(message.content ?? null)}`;
      if (seenMessages.has(identity)) plan.removeElements.push(['messages', index]);
      seenMessages.add(identity);
    });
    for (const payload of payloads) if (payload.kind === 'system') seen.add(key(payload.container));
  }
  for (const payload of payloads) {
    if (payload.kind !== 'embedded') continue;
    const text = key(payload.container.slice(payload.start, payload.end));
    if (text === '') continue;
    if (seen.has(text)) plan.removeSections.push(payload);
    seen.add(text);
  }
  return plan;
}
