/**
 * The fake upstream's answers in each provider's wire format, written independently of the
 * proxy's own renderers so tests of the proxy do not check its code against itself.
 */

/** A tool call the fake answers with. */
export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What the fake assistant says. */
export interface FakeAnswer {
  /** Assistant text; may be empty when only tools are called. */
  text: string;
  toolCalls: FakeToolCall[];
  inputTokens: number;
  outputTokens: number;
  model: string;
  /** Distinguishes answers in ids (the request number). */
  serial: number;
}

/** Text split into small word pieces, the way providers stream tokens. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text ? [text] : []);
}

function halves(text: string): string[] {
  const middle = Math.floor(text.length / 2);
  return middle === 0 ? [text] : [text.slice(0, middle), text.slice(middle)];
}

function callId(answer: FakeAnswer, call: FakeToolCall, index: number, prefix: string): string {
  return call.id ?? `${prefix}_fake_${answer.serial}_${index}`;
}

/** OpenAI `chat.completion`. */
export function openAIChatBody(answer: FakeAnswer): object {
  const toolCalls = answer.toolCalls.map((call, index) => ({
    id: callId(answer, call, index, 'call'),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
  return {
    id: `chatcmpl-fake-${answer.serial}`,
    object: 'chat.completion',
    created: 1_760_000_000 + answer.serial,
    model: answer.model,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: toolCalls.length > 0 && !answer.text ? null : answer.text, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        logprobs: null,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: answer.inputTokens, completion_tokens: answer.outputTokens, total_tokens: answer.inputTokens + answer.outputTokens },
  };
}

/** OpenAI chat stream: the `data:` payloads in order (the caller adds `[DONE]`). */
export function openAIChatChunks(answer: FakeAnswer, includeUsage: boolean): object[] {
  const head = { id: `chatcmpl-fake-${answer.serial}`, object: 'chat.completion.chunk', created: 1_760_000_000 + answer.serial, model: answer.model, system_fingerprint: 'fp_fake' };
  const withUsage = includeUsage ? { usage: null } : {};
  const chunk = (delta: object, finish: string | null = null): object => ({ ...head, ...withUsage, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out: object[] = [chunk({ role: 'assistant', content: answer.toolCalls.length > 0 && !answer.text ? null : '', refusal: null })];
  for (const piece of pieces(answer.text)) out.push(chunk({ content: piece }));
  answer.toolCalls.forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: callId(answer, call, index, 'call'), type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const part of halves(JSON.stringify(call.arguments))) out.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  });
  out.push(chunk({}, answer.toolCalls.length > 0 ? 'tool_calls' : 'stop'));
  if (includeUsage) {
    out.push({ ...head, choices: [], usage: { prompt_tokens: answer.inputTokens, completion_tokens: answer.outputTokens, total_tokens: answer.inputTokens + answer.outputTokens } });
  }
  return out;
}

/** OpenAI legacy `text_completion`. */
export function openAICompletionBody(answer: FakeAnswer): object {
  return {
    id: `cmpl-fake-${answer.serial}`,
    object: 'text_completion',
    created: 1_760_000_000 + answer.serial,
    model: answer.model,
    choices: [{ text: answer.text, index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: answer.inputTokens, completion_tokens: answer.outputTokens, total_tokens: answer.inputTokens + answer.outputTokens },
  };
}

/** OpenAI legacy completion stream payloads. */
export function openAICompletionChunks(answer: FakeAnswer, includeUsage: boolean): object[] {
  const head = { id: `cmpl-fake-${answer.serial}`, object: 'text_completion', created: 1_760_000_000 + answer.serial, model: answer.model };
  const out: object[] = pieces(answer.text).map((text) => ({ ...head, choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }));
  out.push({ ...head, choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }] });
  if (includeUsage) out.push({ ...head, choices: [], usage: { prompt_tokens: answer.inputTokens, completion_tokens: answer.outputTokens, total_tokens: answer.inputTokens + answer.outputTokens } });
  return out;
}

function anthropicBlocks(answer: FakeAnswer): object[] {
  const blocks: object[] = answer.text ? [{ type: 'text', text: answer.text }] : [];
  answer.toolCalls.forEach((call, index) => blocks.push({ type: 'tool_use', id: callId(answer, call, index, 'toolu'), name: call.name, input: call.arguments }));
  return blocks;
}

/** Anthropic `message`. */
export function anthropicBody(answer: FakeAnswer): object {
  return {
    id: `msg_fake_${answer.serial}`,
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content: anthropicBlocks(answer),
    stop_reason: answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: answer.inputTokens, output_tokens: answer.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

/** Anthropic stream: [event name, payload] pairs in order, with a ping like the real API. */
export function anthropicEvents(answer: FakeAnswer): Array<[string, object]> {
  const out: Array<[string, object]> = [
    ['message_start', {
      type: 'message_start',
      message: { id: `msg_fake_${answer.serial}`, type: 'message', role: 'assistant', model: answer.model, content: [], stop_reason: null, stop_sequence: null,
        usage: { input_tokens: answer.inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
    }],
    ['ping', { type: 'ping' }],
  ];
  anthropicBlocks(answer).forEach((block, index) => {
    const typed = block as { type: string; text?: string; input?: unknown };
    if (typed.type === 'text') {
      out.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
      for (const text of pieces(typed.text ?? '')) out.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }]);
    } else {
      out.push(['content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }]);
      for (const partial of halves(JSON.stringify(typed.input))) out.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } }]);
    }
    out.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  out.push(['message_delta', { type: 'message_delta', delta: { stop_reason: answer.toolCalls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: answer.outputTokens } }]);
  out.push(['message_stop', { type: 'message_stop' }]);
  return out;
}
