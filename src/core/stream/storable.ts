/**
 * Which complete answers the caches keep. A cache turns one answer into the answer to every later
 * identical (L1a) or equivalent (L1b) request, so an answer that says nothing, or that a provider's
 * filter produced this time and may not the next, is passed on to its client but never stored:
 * one glitch would otherwise become the permanent answer to that question.
 */
import type { StoredAnswer } from '../outcome';
import type { JsonObject, JsonValue } from '../request';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

const nonEmpty = (value: JsonValue | undefined): boolean => typeof value === 'string' && value.length > 0;

/**
 * Why an answer is not stored ('empty', 'refusal' or 'filtered'), or undefined to store it.
 *
 * @example unstorableReason({ api: 'openai.chat', body: { choices: [{ message: { content: '' } }] }, … }) // 'empty'
 */
export function unstorableReason(answer: StoredAnswer): 'empty' | 'refusal' | 'filtered' | undefined {
  const { body } = answer;
  if (answer.api === 'anthropic.messages') {
    if (body.stop_reason === 'refusal') return 'refusal';
    // Text, thinking or any other block (tool_use, server tools) with something in it.
    const said = list(body.content).some((block) => isObject(block) && (block.type === 'text' ? nonEmpty(block.text) : block.type === 'thinking' ? nonEmpty(block.thinking) : true));
    return said ? undefined : 'empty';
  }
  if (answer.api === 'openai.responses') {
    let said = false;
    for (const item of list(body.output)) {
      if (!isObject(item)) continue;
      if (item.type !== 'message' && item.type !== 'reasoning') said = true; // a tool call
      for (const part of list(item.content)) {
        if (!isObject(part)) continue;
        if (part.type === 'refusal') return 'refusal';
        if (nonEmpty(part.text)) said = true;
      }
    }
    return said ? undefined : 'empty';
  }
  let said = false;
  for (const choice of list(body.choices)) {
    if (!isObject(choice)) continue;
    if (choice.finish_reason === 'content_filter') return 'filtered';
    const message = isObject(choice.message) ? choice.message : undefined;
    if (nonEmpty(message?.refusal)) return 'refusal';
    const content = message?.content;
    if (nonEmpty(choice.text) || nonEmpty(content) || (Array.isArray(content) && content.length > 0) || list(message?.tool_calls).length > 0 || isObject(message?.function_call) || isObject(message?.audio)) said = true;
  }
  return said ? undefined : 'empty';
}
