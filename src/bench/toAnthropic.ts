/**
 * Converts OpenAI chat requests and answers into the Anthropic Messages shape, the way a client
 * that speaks Messages would have sent the same conversation: system prompt in `system`, tool calls
 * as `tool_use` blocks, tool outputs as `tool_result` blocks in the next user turn, consecutive
 * same-role messages merged into one turn, and no `cache_control` anywhere.
 */
import type { JsonObject, JsonValue } from '../core/request';

/** The model id the converted requests name (a Sonnet: 1,024-token minimum cacheable prefix). */
export const ANTHROPIC_REPLAY_MODEL = 'claude-sonnet-4-5';
export const ANTHROPIC_REPLAY_MAX_TOKENS = 4096;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(content: JsonValue | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

/** Tool-call arguments as the object `tool_use.input` needs; unparsable arguments are kept as a string field. */
function toolInput(args: JsonValue | undefined): JsonObject {
  try {
    const parsed = JSON.parse(typeof args === 'string' ? args : '{}') as JsonValue;
    if (isObject(parsed)) return parsed;
  } catch {
    // fall through
  }
  return { arguments: typeof args === 'string' ? args : '' };
}

/** Content blocks of an OpenAI assistant message: its text, then its tool calls. */
export function assistantBlocks(message: JsonObject): JsonObject[] {
  const blocks: JsonObject[] = [];
  const text = textOf(message.content);
  if (text !== '') blocks.push({ type: 'text', text });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isObject(call) || !isObject(call.function)) continue;
      blocks.push({ type: 'tool_use', id: String(call.id ?? ''), name: String(call.function.name ?? ''), input: toolInput(call.function.arguments) });
    }
  }
  return blocks;
}

function blocksFor(message: JsonObject): JsonObject[] {
  if (message.role === 'assistant') return assistantBlocks(message);
  if (message.role === 'tool') return [{ type: 'tool_result', tool_use_id: String(message.tool_call_id ?? ''), content: textOf(message.content) }];
  return [{ type: 'text', text: textOf(message.content) }];
}

/**
 * One OpenAI chat request as an Anthropic Messages request. A turn made of a single plain message
 * keeps string content, as most clients send it; merged turns become block arrays.
 *
 * @example toAnthropicRequest({ model: 'x', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }] })
 * // { model: 'claude-sonnet-4-5', max_tokens: 4096, system: 'S', messages: [{ role: 'user', content: 'Q' }] }
 */
export function toAnthropicRequest(openai: JsonObject, model = ANTHROPIC_REPLAY_MODEL): JsonObject {
  const messages = Array.isArray(openai.messages) ? openai.messages.filter(isObject) : [];
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content));
  const turns: Array<{ role: 'user' | 'assistant'; sources: JsonObject[] }> = [];
  for (const message of messages) {
    if (message.role === 'system' || message.role === 'developer') continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.sources.push(message);
    else turns.push({ role, sources: [message] });
  }
  const body: JsonObject = { model, max_tokens: ANTHROPIC_REPLAY_MAX_TOKENS };
  if (system.length > 0) body.system = system.join('\n\n');
  body.messages = turns.map(({ role, sources }) => {
    const only = sources[0]!;
    if (sources.length === 1 && role === 'user' && only.role === 'user' && typeof only.content === 'string') return { role, content: only.content };
    return { role, content: sources.flatMap(blocksFor) };
  });
  if (Array.isArray(openai.tools) && openai.tools.length > 0) {
    body.tools = openai.tools.filter(isObject).map((tool) => {
      const fn = isObject(tool.function) ? tool.function : {};
      return { name: String(fn.name ?? ''), description: String(fn.description ?? ''), input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object' } };
    });
  }
  if (typeof openai.temperature === 'number') body.temperature = openai.temperature;
  return body;
}

/**
 * A recorded OpenAI answer as the Anthropic `message` object an upstream would return, with the
 * given usage. `id` lets the benchmark tell which request an answer was produced for.
 */
export function toAnthropicAnswer(answer: JsonObject, finishReason: string, id: string, usage: { inputTokens: number; outputTokens: number }): JsonObject {
  const content = assistantBlocks(answer);
  const stopReason = finishReason === 'tool_calls' || content.some((block) => block.type === 'tool_use') ? 'tool_use' : finishReason === 'length' ? 'max_tokens' : 'end_turn';
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: ANTHROPIC_REPLAY_MODEL,
    content: content.length > 0 ? content : [{ type: 'text', text: '' }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}
