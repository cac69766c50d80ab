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

/** The Responses API's output items for an answer: a message with the text, then one function_call per tool call. */
function responsesOutput(answer: FakeAnswer): Array<Record<string, unknown>> {
  const output: Array<Record<string, unknown>> = [];
  if (answer.text || answer.toolCalls.length === 0) {
    output.push({
      id: `msg_fake_${answer.serial}`, type: 'message', status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', text: answer.text, annotations: [], logprobs: [] }],
    });
  }
  answer.toolCalls.forEach((call, index) => {
    output.push({ id: `fc_fake_${answer.serial}_${index}`, type: 'function_call', status: 'completed', arguments: JSON.stringify(call.arguments), call_id: callId(answer, call, index, 'call'), name: call.name });
  });
  return output;
}

/** OpenAI Responses API `response` object, echoing the request's parameters as the real API does. */
export function openAIResponsesBody(answer: FakeAnswer, request: any): Record<string, unknown> {
  return {
    id: `resp_fake_${answer.serial}`,
    object: 'response',
    created_at: 1_760_000_000 + answer.serial,
    status: 'completed',
    background: request?.background ?? false,
    error: null,
    incomplete_details: null,
    instructions: request?.instructions ?? null,
    max_output_tokens: request?.max_output_tokens ?? null,
    model: answer.model,
    output: responsesOutput(answer),
    parallel_tool_calls: request?.parallel_tool_calls ?? true,
    previous_response_id: request?.previous_response_id ?? null,
    reasoning: { effort: request?.reasoning?.effort ?? null, summary: null },
    service_tier: request?.service_tier ?? 'default',
    store: request?.store ?? true,
    temperature: request?.temperature ?? 1,
    text: request?.text ?? { format: { type: 'text' } },
    tool_choice: request?.tool_choice ?? 'auto',
    tools: request?.tools ?? [],
    top_p: request?.top_p ?? 1,
    truncation: 'disabled',
    usage: {
      input_tokens: answer.inputTokens, input_tokens_details: { cached_tokens: 0 },
      output_tokens: answer.outputTokens, output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: answer.inputTokens + answer.outputTokens,
    },
    user: request?.user ?? null,
    metadata: request?.metadata ?? {},
  };
}

/** OpenAI Responses stream: [event type, payload] pairs in order, with sequence numbers, as the API sends them. */
export function openAIResponsesEvents(answer: FakeAnswer, request: any): Array<[string, object]> {
  const final = openAIResponsesBody(answer, request);
  const events: Array<Record<string, unknown>> = [];
  const started = { ...final, status: 'in_progress', output: [], usage: null };
  events.push({ type: 'response.created', response: started }, { type: 'response.in_progress', response: started });
  (final.output as Array<Record<string, any>>).forEach((item, outputIndex) => {
    if (item.type === 'message') {
      const text: string = item.content[0].text;
      events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { id: item.id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
      const at = { item_id: item.id, output_index: outputIndex, content_index: 0 };
      events.push({ type: 'response.content_part.added', ...at, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      for (const delta of pieces(text)) events.push({ type: 'response.output_text.delta', ...at, delta, logprobs: [] });
      events.push({ type: 'response.output_text.done', ...at, text, logprobs: [] });
      events.push({ type: 'response.content_part.done', ...at, part: { type: 'output_text', annotations: [], logprobs: [], text } });
    } else {
      events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of halves(item.arguments)) events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: outputIndex, delta });
      events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: outputIndex, arguments: item.arguments });
    }
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  });
  events.push({ type: 'response.completed', response: final });
  return events.map((event, sequence) => [String(event.type), { ...event, sequence_number: sequence }]);
}
