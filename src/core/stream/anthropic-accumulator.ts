/**
 * Rebuilds a complete Anthropic `message` object from its stream of events (message_start …
 * message_stop), so a streamed answer can be cached and replayed in either streaming mode.
 */
import { jsonTextExceedsNodes } from '../jsonNodes';
import type { JsonObject, JsonValue } from '../request';
import { MAX_STORED_ANSWER_NODES } from './large-answer';
import type { StreamAccumulator } from './openai-accumulator';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Blocks whose `input` arrives as `input_json_delta` fragments. */
const JSON_INPUT_BLOCKS = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use']);

/**
 * Accumulates Messages API stream events. Complete means `message_start` and `message_stop` both
 * arrived, every JSON input parsed, and no `error` event came.
 */
export function createAnthropicAccumulator(): StreamAccumulator {
  let message: JsonObject | undefined;
  const content: JsonObject[] = [];
  const partialJson = new Map<number, string>();
  let stopped = false;
  /** The usage objects exactly as message_start and the last message_delta carried them, for a faithful replay. */
  let startUsage: JsonObject | undefined;
  let endUsage: JsonObject | undefined;
  let failed = false;
  /** An `error` event from the provider, as opposed to bytes this side could not read. */
  let errorEvent = false;
  let textLength = 0;
  /** Once shed: the UTF-8 bytes of text let go (undefined while the text is kept). */
  let shedBytes: number | undefined;
  /** UTF-8 bytes of JSON inputs left unparsed for their number of pieces (counted as shed text). */
  let unparsedBytes = 0;

  /** Appends a text delta to `block[key]`, or once shed only counts it. */
  const append = (block: JsonObject, key: string, value: JsonValue | undefined): void => {
    const piece = String(value ?? '');
    textLength += piece.length;
    if (shedBytes === undefined) block[key] = String(block[key] ?? '') + piece;
    else shedBytes += Buffer.byteLength(piece, 'utf8');
  };

  const applyDelta = (block: JsonObject, index: number, delta: JsonObject): void => {
    switch (delta.type) {
      case 'text_delta':
        append(block, 'text', delta.text);
        break;
      case 'thinking_delta':
        append(block, 'thinking', delta.thinking);
        break;
      case 'signature_delta':
        block.signature = delta.signature ?? '';
        break;
      case 'input_json_delta': {
        const piece = String(delta.partial_json ?? '');
        textLength += piece.length;
        if (shedBytes === undefined) partialJson.set(index, (partialJson.get(index) ?? '') + piece);
        else shedBytes += Buffer.byteLength(piece, 'utf8');
        break;
      }
      case 'citations_delta':
        block.citations = [...(Array.isArray(block.citations) ? block.citations : []), delta.citation ?? null];
        break;
      default:
        // A delta type this version does not know: the rebuilt message could be wrong, so never cache it.
        failed = true;
    }
  };

  const finishBlock = (index: number): void => {
    const block = content[index];
    const json = partialJson.get(index);
    if (!block || json === undefined) return;
    partialJson.delete(index);
    // Shed: its JSON is not whole any more; the answer is not stored, only its usage read.
    if (shedBytes !== undefined) return;
    if (json.trim() === '') return;
    try {
      // Counted first: an answer of that many pieces is not stored, so parsing it here is only a stall.
      if (jsonTextExceedsNodes(json, MAX_STORED_ANSWER_NODES)) unparsedBytes += Buffer.byteLength(json, 'utf8');
      else block.input = JSON.parse(json) as JsonValue;
    } catch {
      failed = true;
    }
  };

  const handle = (type: string | undefined, data: JsonObject): void => {
    switch (type) {
      case 'message_start':
        if (isObject(data.message)) message = { ...data.message };
        if (isObject(data.message) && isObject(data.message.usage)) startUsage = { ...data.message.usage };
        break;
      case 'content_block_start': {
        const index = typeof data.index === 'number' ? data.index : content.length;
        if (isObject(data.content_block)) {
          const block: JsonObject = { ...data.content_block };
          content[index] = block;
          if (typeof block.type === 'string' && JSON_INPUT_BLOCKS.has(block.type)) partialJson.set(index, '');
        }
        break;
      }
      case 'content_block_delta': {
        const index = typeof data.index === 'number' ? data.index : -1;
        const block = content[index];
        if (block && isObject(data.delta)) applyDelta(block, index, data.delta);
        else failed = true;
        break;
      }
      case 'content_block_stop':
        if (typeof data.index === 'number') finishBlock(data.index);
        break;
      case 'message_delta':
        if (!message) break;
        if (isObject(data.delta)) Object.assign(message, data.delta);
        if (isObject(data.usage)) {
          endUsage = { ...data.usage };
          const usage: JsonObject = isObject(message.usage) ? { ...message.usage } : {};
          for (const [key, value] of Object.entries(data.usage)) if (value !== null) usage[key] = value;
          message.usage = usage;
        }
        break;
      case 'message_stop':
        stopped = true;
        break;
      case 'error':
        failed = true;
        errorEvent = true;
        break;
      default:
        break; // ping and future informational events
    }
  };

  return {
    push(event) {
      if (stopped || failed) return;
      if (event.event === 'error') {
        failed = true;
        errorEvent = true;
        return;
      }
      let data: JsonValue;
      try {
        data = JSON.parse(event.data) as JsonValue;
      } catch {
        failed = true;
        return;
      }
      if (!isObject(data)) return;
      handle(event.event ?? (typeof data.type === 'string' ? data.type : undefined), data);
    },
    ended: () => stopped || failed,
    upstreamError: () => errorEvent,
    result() {
      if (!message || !stopped || failed || partialJson.size > 0) return undefined;
      return { ...message, content: content.filter((block) => block !== undefined) };
    },
    usage: () => message?.usage,
    usagePartial: () => message?.usage !== undefined && endUsage === undefined,
    textLength: () => textLength,
    unstorable: () => unparsedBytes > 0,
    shed() {
      if (shedBytes === undefined) {
        shedBytes = unparsedBytes;
        for (const block of content) {
          if (!block) continue;
          for (const key of ['text', 'thinking']) {
            if (typeof block[key] !== 'string') continue;
            shedBytes += Buffer.byteLength(block[key], 'utf8');
            block[key] = '';
          }
        }
        for (const [index, json] of partialJson) {
          shedBytes += Buffer.byteLength(json, 'utf8');
          partialJson.set(index, '');
        }
      }
      return shedBytes;
    },
    streamUsage: () => (startUsage && endUsage ? { start: startUsage, end: endUsage } : undefined),
  };
}
