/**
 * Checks a parsed request body before anything is looked up or forwarded: the fields every
 * provider requires and the types of the ones the proxy itself reads.
 */
import type { ApiStyle, JsonObject, JsonValue } from '../core/request';
import { ProxyError } from './errors';

function typeName(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function invalid(param: string, message: string): ProxyError {
  return new ProxyError(400, 'invalid_request', message, param);
}

/** Optional fields with a fixed JSON type, per API; a wrong type would fail upstream anyway, so fail early and clearly. */
const TYPED_FIELDS: Record<ApiStyle, Array<[string, 'number' | 'boolean' | 'array' | 'object' | 'string']>> = {
  'openai.chat': [
    ['stream', 'boolean'], ['temperature', 'number'], ['top_p', 'number'], ['n', 'number'], ['max_tokens', 'number'],
    ['max_completion_tokens', 'number'], ['tools', 'array'], ['functions', 'array'], ['stream_options', 'object'], ['seed', 'number'],
  ],
  'openai.completions': [['stream', 'boolean'], ['temperature', 'number'], ['top_p', 'number'], ['n', 'number'], ['max_tokens', 'number'], ['stream_options', 'object']],
  'openai.responses': [
    ['stream', 'boolean'], ['temperature', 'number'], ['top_p', 'number'], ['max_output_tokens', 'number'], ['tools', 'array'],
    ['instructions', 'string'], ['reasoning', 'object'], ['text', 'object'], ['include', 'array'], ['store', 'boolean'],
    ['background', 'boolean'], ['previous_response_id', 'string'], ['metadata', 'object'], ['stream_options', 'object'],
  ],
  'anthropic.messages': [
    ['stream', 'boolean'], ['temperature', 'number'], ['top_p', 'number'], ['top_k', 'number'], ['max_tokens', 'number'],
    ['tools', 'array'], ['stop_sequences', 'array'], ['tool_choice', 'object'], ['thinking', 'object'],
  ],
};

function hasType(value: JsonValue, expected: string): boolean {
  if (expected === 'array') return Array.isArray(value);
  if (expected === 'object') return value !== null && typeof value === 'object' && !Array.isArray(value);
  return typeof value === expected;
}

/**
 * Returns the model and streaming flag, or throws a 400 ProxyError naming the field and what it
 * should be.
 *
 * @example validateBody('openai.chat', { model: 'gpt-4o', messages: [] }) // { model: 'gpt-4o', stream: false }
 */
export function validateBody(api: ApiStyle, body: JsonValue): { body: JsonObject; model: string; stream: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('', `The request body must be a JSON object, not ${typeName(body)}.`);
  }
  if (typeof body.model !== 'string' || body.model.trim() === '') {
    throw invalid('model', `\`model\` is required and must be a non-empty string (got ${typeName(body.model)}), e.g. "gpt-4o-mini" or "claude-sonnet-4-5".`);
  }
  if (api === 'openai.responses') {
    // `input` may be absent (a stored prompt or a conversation supplies it); when present it is text or items.
    if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) {
      throw invalid('input', `\`input\` must be a string or an array of input items (got ${typeName(body.input)}).`);
    }
  } else if (api === 'openai.completions') {
    if (typeof body.prompt !== 'string' && !Array.isArray(body.prompt)) {
      throw invalid('prompt', `\`prompt\` is required and must be a string or an array (got ${typeName(body.prompt)}).`);
    }
  } else {
    if (!Array.isArray(body.messages)) {
      throw invalid('messages', `\`messages\` is required and must be an array of {role, content} objects (got ${typeName(body.messages)}).`);
    }
    body.messages.forEach((message, index) => {
      if (message === null || typeof message !== 'object' || Array.isArray(message) || typeof message.role !== 'string') {
        throw invalid(`messages[${index}]`, `\`messages[${index}]\` must be an object with a string \`role\` (got ${typeName(message)}).`);
      }
    });
  }
  if (api === 'anthropic.messages' && body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    throw invalid('system', `\`system\` must be a string or an array of text blocks (got ${typeName(body.system)}).`);
  }
  for (const [field, expected] of TYPED_FIELDS[api]) {
    const value = body[field];
    if (value !== undefined && value !== null && !hasType(value, expected)) {
      throw invalid(field, `\`${field}\` must be ${expected === 'array' ? 'an array' : `a ${expected}`} (got ${typeName(value)}).`);
    }
  }
  return { body, model: body.model, stream: body.stream === true };
}
