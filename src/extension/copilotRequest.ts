/**
 * Turns a VS Code language-model chat request (already reduced to plain parts) into an OpenAI chat
 * completions body or an Anthropic messages body, tool calls and tool results included.
 */
import type { JsonObject, JsonValue } from '../core/request';

/** A message part, independent of VS Code's classes. */
export type WirePart =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; callId: string; name: string; input: JsonObject }
  | { type: 'tool_result'; callId: string; text: string };

export interface WireMessage {
  role: 'system' | 'user' | 'assistant';
  parts: WirePart[];
}

export interface WireTool {
  name: string;
  description: string;
  inputSchema?: JsonObject;
}

export interface WireOptions {
  model: string;
  tools?: readonly WireTool[];
  /** The model must call one of the tools (VS Code's `LanguageModelChatToolMode.Required`). */
  toolRequired?: boolean;
  /** Anthropic needs `max_tokens`; used unless `modelOptions.max_tokens` says otherwise. */
  maxOutputTokens: number;
  /** `options.modelOptions` from the caller; only known sampling fields are forwarded. */
  modelOptions?: Readonly<Record<string, unknown>>;
}

const OPENAI_MODEL_OPTIONS = ['temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'reasoning_effort'];
const ANTHROPIC_MODEL_OPTIONS = ['temperature', 'top_p', 'top_k', 'stop_sequences', 'max_tokens', 'thinking'];

const EMPTY_SCHEMA: JsonObject = { type: 'object', properties: {} };

/**
 * An OpenAI `/v1/chat/completions` streaming body. Tool results become `tool` messages right after
 * the assistant turn that called them, as the API requires.
 *
 * @example buildOpenAiBody([{ role: 'user', parts: [{ type: 'text', text: 'hi' }] }], { model: 'gpt-4o', maxOutputTokens: 4096 })
 */
export function buildOpenAiBody(messages: readonly WireMessage[], options: WireOptions): JsonObject {
  const out: JsonObject[] = [];
  for (const message of messages) {
    const text = textOf(message.parts, message.role === 'assistant' ? '' : '\n\n');
    if (message.role === 'system') {
      if (text) out.push({ role: 'system', content: text });
    } else if (message.role === 'assistant') {
      const calls = message.parts.filter((part) => part.type === 'tool_call');
      const entry: JsonObject = { role: 'assistant', content: text || null };
      if (calls.length > 0) {
        entry.tool_calls = calls.map((call) => ({ id: call.callId, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.input) } }));
      }
      if (text || calls.length > 0) out.push(entry);
    } else {
      for (const part of message.parts) {
        if (part.type === 'tool_result') out.push({ role: 'tool', tool_call_id: part.callId, content: part.text });
      }
      if (text) out.push({ role: 'user', content: text });
    }
  }
  const body: JsonObject = { model: options.model, messages: out, stream: true, stream_options: { include_usage: true } };
  if (options.tools && options.tools.length > 0) {
    body.tools = options.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.inputSchema ?? EMPTY_SCHEMA },
    }));
    if (options.toolRequired) body.tool_choice = 'required';
  }
  copyModelOptions(body, options.modelOptions, OPENAI_MODEL_OPTIONS);
  return body;
}

/**
 * An Anthropic `/v1/messages` streaming body: system text lifted to `system`, tool calls as
 * `tool_use` blocks, tool results as `tool_result` blocks, consecutive turns of one role merged.
 */
export function buildAnthropicBody(messages: readonly WireMessage[], options: WireOptions): JsonObject {
  const system = messages
    .filter((message) => message.role === 'system')
    .map((message) => textOf(message.parts, '\n\n'))
    .filter(Boolean)
    .join('\n\n');
  const turns: { role: 'user' | 'assistant'; content: JsonObject[] }[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const blocks = message.role === 'user' ? userBlocks(message.parts) : assistantBlocks(message.parts);
    if (blocks.length === 0) continue;
    const previous = turns[turns.length - 1];
    if (previous && previous.role === message.role) previous.content.push(...blocks);
    else turns.push({ role: message.role, content: blocks });
  }
  const body: JsonObject = { model: options.model, max_tokens: options.maxOutputTokens, messages: turns as unknown as JsonValue[], stream: true };
  if (system) body.system = system;
  if (options.tools && options.tools.length > 0) {
    body.tools = options.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.inputSchema ?? EMPTY_SCHEMA }));
    if (options.toolRequired) body.tool_choice = { type: 'any' };
  }
  copyModelOptions(body, options.modelOptions, ANTHROPIC_MODEL_OPTIONS);
  return body;
}

/** Tool results first (they answer the previous assistant turn), then the user's text. */
function userBlocks(parts: readonly WirePart[]): JsonObject[] {
  const blocks: JsonObject[] = [];
  for (const part of parts) {
    if (part.type === 'tool_result') blocks.push({ type: 'tool_result', tool_use_id: part.callId, content: part.text });
  }
  for (const part of parts) {
    // Anthropic rejects empty text blocks.
    if (part.type === 'text' && part.text.trim() !== '') blocks.push({ type: 'text', text: part.text });
  }
  return blocks;
}

function assistantBlocks(parts: readonly WirePart[]): JsonObject[] {
  const blocks: JsonObject[] = [];
  for (const part of parts) {
    if (part.type === 'text' && part.text.trim() !== '') blocks.push({ type: 'text', text: part.text });
    if (part.type === 'tool_call') blocks.push({ type: 'tool_use', id: part.callId, name: part.name, input: part.input });
  }
  return blocks;
}

function textOf(parts: readonly WirePart[], separator: string): string {
  return parts
    .filter((part) => part.type === 'text')
    .map((part) => part.text)
    .join(separator);
}

function copyModelOptions(body: JsonObject, modelOptions: Readonly<Record<string, unknown>> | undefined, allowed: readonly string[]): void {
  if (!modelOptions) return;
  for (const key of allowed) {
    const value = modelOptions[key];
    if (value !== undefined && isJson(value)) body[key] = value;
  }
}

function isJson(value: unknown): value is JsonValue {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}
