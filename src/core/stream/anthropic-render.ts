/**
 * Renders a complete Anthropic `message` as the event sequence the Messages API streams:
 * message_start, content_block_start/delta/stop per block, message_delta, message_stop.
 */
import type { StoredAnswer } from '../outcome';
import type { JsonObject, JsonValue } from '../request';
import type { LiveRenderer } from './openai-render';
import { namedFrame } from './sse-format';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The start event and deltas that rebuild one content block. */
function blockEvents(block: JsonObject): { start: JsonObject; deltas: JsonObject[] } {
  switch (block.type) {
    case 'text': {
      const { text, citations, ...rest } = block;
      const deltas: JsonObject[] = [];
      if (Array.isArray(citations)) for (const citation of citations) deltas.push({ type: 'citations_delta', citation });
      if (typeof text === 'string' && text !== '') deltas.push({ type: 'text_delta', text });
      // Citations stream as deltas onto an empty list; a null or absent field is kept as it was.
      const start: JsonObject = { ...rest, text: '' };
      if (citations !== undefined) start.citations = Array.isArray(citations) ? [] : citations;
      return { start, deltas };
    }
    case 'thinking': {
      const { thinking, signature, ...rest } = block;
      const deltas: JsonObject[] = [];
      if (typeof thinking === 'string' && thinking !== '') deltas.push({ type: 'thinking_delta', thinking });
      if (typeof signature === 'string') deltas.push({ type: 'signature_delta', signature });
      return { start: { ...rest, thinking: '', signature: '' }, deltas };
    }
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use': {
      const { input, ...rest } = block;
      const json = JSON.stringify(input ?? {});
      return { start: { ...rest, input: {} }, deltas: json === '{}' ? [] : [{ type: 'input_json_delta', partial_json: json }] };
    }
    default:
      // redacted_thinking, web_search_tool_result and other result blocks arrive whole in their start event.
      return { start: block, deltas: [] };
  }
}

/**
 * Besides stop_reason and stop_sequence, the message fields the API leaves null in `message_start`
 * and sends in `message_delta`, when the message has them. The SDK's stream helper sets
 * `stop_details` from the delta whether it is there or not, and a client reads `container` from the
 * delta: a replay that left them in `message_start` lost them.
 */
const LATER_END_FIELDS = ['stop_details', 'container'];

/** The end fields as `message_start` (all null) and `message_delta` (the message's own) carry them. */
function endFields(message: JsonObject): { start: JsonObject; end: JsonObject } {
  const start: JsonObject = { stop_reason: null, stop_sequence: null };
  const end: JsonObject = { stop_reason: message.stop_reason ?? 'end_turn', stop_sequence: message.stop_sequence ?? null };
  for (const field of LATER_END_FIELDS) {
    if (message[field] === undefined) continue;
    start[field] = null;
    end[field] = message[field];
  }
  return { start, end };
}

/**
 * The full SSE text for a stored Anthropic answer, as one string ready to write.
 *
 * @example res.end(renderAnthropicStream(answer))
 */
export function renderAnthropicStream(answer: StoredAnswer): string {
  const { content, usage, ...message } = answer.body;
  const { start: pending, end } = endFields(message);
  const fullUsage: JsonObject = isObject(usage) ? usage : {};
  // The usage a live stream sent at its start and end; for an answer stored from JSON, what the
  // API sends: the input counts and the first output token at the start, everything at the end.
  const outputTokens = typeof fullUsage.output_tokens === 'number' ? fullUsage.output_tokens : 0;
  const startUsage = answer.streamUsage?.start ?? { ...fullUsage, output_tokens: Math.min(1, outputTokens) };
  const endUsage = answer.streamUsage?.end ?? fullUsage;
  let out = namedFrame('message_start', {
    type: 'message_start',
    message: { ...message, ...pending, content: [], usage: startUsage },
  });
  const blocks = Array.isArray(content) ? content.filter(isObject) : [];
  blocks.forEach((block, index) => {
    const { start, deltas } = blockEvents(block);
    out += namedFrame('content_block_start', { type: 'content_block_start', index, content_block: start });
    for (const delta of deltas) out += namedFrame('content_block_delta', { type: 'content_block_delta', index, delta });
    out += namedFrame('content_block_stop', { type: 'content_block_stop', index });
  });
  out += namedFrame('message_delta', {
    type: 'message_delta',
    delta: end,
    usage: endUsage,
  });
  return out + namedFrame('message_stop', { type: 'message_stop' });
}

/** A live renderer for text produced as it is generated (the local model), in one text block. */
export function createAnthropicLiveRenderer(meta: { id: string; model: string }): LiveRenderer {
  return {
    start: () =>
      namedFrame('message_start', {
        type: 'message_start',
        message: {
          id: meta.id, type: 'message', role: 'assistant', model: meta.model, content: [],
          stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 },
        },
      }) + namedFrame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    text: (text) => namedFrame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    end(answer) {
      const usage = isObject(answer.body.usage) ? answer.body.usage : {};
      return (
        namedFrame('content_block_stop', { type: 'content_block_stop', index: 0 }) +
        namedFrame('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: answer.body.stop_reason ?? 'end_turn', stop_sequence: answer.body.stop_sequence ?? null },
          usage,
        }) +
        namedFrame('message_stop', { type: 'message_stop' })
      );
    },
  };
}
