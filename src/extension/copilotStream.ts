/**
 * Reads an OpenAI or Anthropic server-sent-event stream from the proxy and yields what VS Code's
 * chat wants: text as it arrives, and each tool call once its JSON arguments are complete.
 */
import { createParser } from 'eventsource-parser';
import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject } from '../core/request';

export type StreamOutput = { type: 'text'; text: string } | { type: 'tool_call'; callId: string; name: string; input: JsonObject };

/** The model's answer stream ended with an error event, or with a malformed tool call. */
export class ModelStreamError extends Error {}

/** The provider's content filter or the model's policy refusal cut the answer short. */
export class ModelBlockedError extends ModelStreamError {}

/** Splits raw bytes into SSE events (eventsource-parser handles partial lines and CRLF). */
export async function* sseEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  parser.feed(decoder.decode());
  parser.reset({ consume: true });
  while (pending.length > 0) yield pending.shift()!;
}

/**
 * Decodes an OpenAI chat-completions stream. Tool-call fragments are collected by `index` and
 * emitted when the choice finishes (or the stream ends).
 */
export async function* decodeOpenAiStream(events: AsyncIterable<EventSourceMessage>): AsyncGenerator<StreamOutput> {
  const calls = new Map<number, { id: string; name: string; args: string }>();
  for await (const event of events) {
    if (event.data === '[DONE]') break;
    const chunk = parseJson(event.data);
    if (!chunk) continue;
    if (isObject(chunk.error)) throw new ModelStreamError(String(chunk.error.message ?? 'the model stream reported an error'));
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObject(choice)) continue;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content) yield { type: 'text', text: delta.content };
    if (Array.isArray(delta.tool_calls)) {
      for (const fragment of delta.tool_calls) {
        if (!isObject(fragment)) continue;
        const index = typeof fragment.index === 'number' ? fragment.index : 0;
        const call = calls.get(index) ?? { id: '', name: '', args: '' };
        const fn = isObject(fragment.function) ? fragment.function : {};
        if (typeof fragment.id === 'string' && fragment.id) call.id = fragment.id;
        if (typeof fn.name === 'string') call.name += fn.name;
        if (typeof fn.arguments === 'string') call.args += fn.arguments;
        calls.set(index, call);
      }
    }
    // Without this the caller would take the text streamed so far for a complete answer.
    if (choice.finish_reason === 'content_filter') throw new ModelBlockedError('the provider\'s content filter stopped the answer (finish_reason "content_filter")');
    if (choice.finish_reason) yield* flushCalls(calls);
  }
  yield* flushCalls(calls);
}

/** Decodes an Anthropic messages stream; `tool_use` blocks are emitted at their `content_block_stop`. */
export async function* decodeAnthropicStream(events: AsyncIterable<EventSourceMessage>): AsyncGenerator<StreamOutput> {
  const toolBlocks = new Map<number, { id: string; name: string; json: string; initial: JsonObject }>();
  for await (const event of events) {
    const data = parseJson(event.data);
    if (!data) continue;
    const type = data.type ?? event.event;
    if (type === 'error') {
      const error = isObject(data.error) ? data.error : {};
      throw new ModelStreamError(String(error.message ?? 'the model stream reported an error'));
    }
    const index = typeof data.index === 'number' ? data.index : 0;
    if (type === 'content_block_start' && isObject(data.content_block) && data.content_block.type === 'tool_use') {
      const block = data.content_block;
      toolBlocks.set(index, { id: String(block.id ?? ''), name: String(block.name ?? ''), json: '', initial: isObject(block.input) ? (block.input as JsonObject) : {} });
    } else if (type === 'content_block_delta' && isObject(data.delta)) {
      if (data.delta.type === 'text_delta' && typeof data.delta.text === 'string' && data.delta.text) yield { type: 'text', text: data.delta.text };
      if (data.delta.type === 'input_json_delta' && typeof data.delta.partial_json === 'string') {
        const block = toolBlocks.get(index);
        if (block) block.json += data.delta.partial_json;
      }
    } else if (type === 'content_block_stop') {
      const block = toolBlocks.get(index);
      if (block) {
        toolBlocks.delete(index);
        yield { type: 'tool_call', callId: block.id, name: block.name, input: block.json ? parseArguments(block.name, block.json) : block.initial };
      }
    } else if (type === 'message_delta' && isObject(data.delta) && data.delta.stop_reason === 'refusal') {
      throw new ModelBlockedError('the model declined to answer for policy reasons (stop_reason "refusal")');
    } else if (type === 'message_stop') {
      break;
    }
  }
}

function* flushCalls(calls: Map<number, { id: string; name: string; args: string }>): Generator<StreamOutput> {
  for (const index of [...calls.keys()].sort((a, b) => a - b)) {
    const call = calls.get(index)!;
    yield { type: 'tool_call', callId: call.id || `call_${index}`, name: call.name, input: call.args.trim() ? parseArguments(call.name, call.args) : {} };
  }
  calls.clear();
}

function parseArguments(tool: string, text: string): JsonObject {
  const value = parseJson(text);
  if (!value) throw new ModelStreamError(`the model called tool "${tool}" with arguments that are not a JSON object`);
  return value as JsonObject;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
