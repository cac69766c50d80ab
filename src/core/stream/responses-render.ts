/**
 * Renders a stored Responses API `response` as the JSON or the typed event stream the API sends:
 * `response.created`, `response.in_progress`, per output item `response.output_item.added`, its
 * content parts (a reasoning item's reasoning text and summary parts) and text / argument deltas and their `.done`
 * events, `response.output_item.done`, then `response.completed`. The official `openai` SDK
 * rebuilds the same response from it.
 */
import type { StoredAnswer } from '../outcome';
import type { JsonObject, JsonValue } from '../request';
import { namedFrame } from './sse-format';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Request fields that do not change the answer but that the response echoes back: a replay reports
 * what this request asked, not what the stored one did (`store` is in the key as a yes or no, so
 * only its spelling can differ: absent or true).
 */
const ECHOED_FIELDS = ['store', 'metadata', 'user', 'safety_identifier', 'prompt_cache_key'];

/**
 * The stored response as this request's answer: the echoed fields set from the request. The ids
 * stay those the provider gave: with `store: true` the provider keeps that response, so a later
 * `previous_response_id` naming it continues the very conversation the client was shown.
 *
 * @example res.end(JSON.stringify(responsesReplayBody(answer.body, req.body)))
 */
export function responsesReplayBody(stored: JsonObject, request: JsonObject): JsonObject {
  const body: JsonObject = { ...stored };
  for (const field of ECHOED_FIELDS) {
    // A field the provider does not send (OpenAI-compatible servers such as vLLM send no `store`
    // or `metadata`) is not added: the replay has the shape of the provider's own answer.
    if (stored[field] === undefined) continue;
    if (request[field] !== undefined) body[field] = request[field];
    else if (field === 'store') body.store = true; // the API's default
    else if (field === 'metadata') body.metadata = {};
    // Unset by this request: never the value another request set (the API says null).
    else body[field] = null;
  }
  return body;
}

/** Whether two requests ask for the same echoed fields, so one's response reads right for the other as it is. */
export function sameEcho(a: JsonObject, b: JsonObject): boolean {
  for (const field of ECHOED_FIELDS) {
    if (a[field] === b[field]) continue;
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) return false;
  }
  return true;
}

function nonEmptyArray(value: JsonValue | undefined): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** The item as `output_item.added` announces it: in progress, when it has a status at all. */
function inProgress(item: JsonObject): JsonObject {
  return item.status === undefined ? item : { ...item, status: 'in_progress' };
}

/** The events that stream one output item, from `output_item.added` to `output_item.done`. */
function itemEvents(item: JsonObject, outputIndex: number): JsonObject[] {
  const itemId = typeof item.id === 'string' ? item.id : '';
  const events: JsonObject[] = [];
  const at = { item_id: itemId, output_index: outputIndex };
  if (item.type === 'message' && Array.isArray(item.content)) {
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
    item.content.forEach((part, contentIndex) => {
      if (!isObject(part)) return;
      const where = { ...at, content_index: contentIndex };
      if (part.type === 'output_text') {
        const text = typeof part.text === 'string' ? part.text : '';
        const logprobs = Array.isArray(part.logprobs) ? part.logprobs : [];
        events.push({ type: 'response.content_part.added', ...where, part: { ...part, text: '', annotations: [], ...(part.logprobs !== undefined ? { logprobs: [] } : {}) } });
        if (text !== '') events.push({ type: 'response.output_text.delta', ...where, delta: text, logprobs });
        const annotations = Array.isArray(part.annotations) ? part.annotations : [];
        annotations.forEach((annotation, annotationIndex) => {
          events.push({ type: 'response.output_text.annotation.added', ...where, annotation_index: annotationIndex, annotation });
        });
        events.push({ type: 'response.output_text.done', ...where, text, logprobs });
      } else if (part.type === 'refusal') {
        const refusal = typeof part.refusal === 'string' ? part.refusal : '';
        events.push({ type: 'response.content_part.added', ...where, part: { ...part, refusal: '' } });
        if (refusal !== '') events.push({ type: 'response.refusal.delta', ...where, delta: refusal });
        events.push({ type: 'response.refusal.done', ...where, refusal });
      } else {
        events.push({ type: 'response.content_part.added', ...where, part });
      }
      events.push({ type: 'response.content_part.done', ...where, part });
    });
  } else if (item.type === 'function_call') {
    const args = typeof item.arguments === 'string' ? item.arguments : '';
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
    if (args !== '') events.push({ type: 'response.function_call_arguments.delta', ...at, delta: args });
    events.push({ type: 'response.function_call_arguments.done', ...at, arguments: args });
  } else if (item.type === 'custom_tool_call') {
    // A freeform tool's input streams as a function call's arguments do, under its own event names.
    const input = typeof item.input === 'string' ? item.input : '';
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...inProgress(item), input: '' } });
    if (input !== '') events.push({ type: 'response.custom_tool_call_input.delta', ...at, delta: input });
    events.push({ type: 'response.custom_tool_call_input.done', ...at, input });
  } else if (item.type === 'web_search_call' || item.type === 'file_search_call') {
    // A hosted search is announced in progress and reports its steps, which clients show ("Searching…").
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: inProgress(item) });
    const steps = item.status === 'completed' ? ['in_progress', 'searching', 'completed'] : ['in_progress', 'searching'];
    for (const step of steps) events.push({ type: `response.${item.type}.${step}`, ...at });
  } else if (item.type === 'reasoning' && (nonEmptyArray(item.summary) || nonEmptyArray(item.content))) {
    // As a live stream sends it: the item with no text yet, then its reasoning text (open-weight models
    // return the raw chain of thought as `reasoning_text` content) and its summary parts, each streamed.
    const added: JsonObject = { ...item, summary: [] };
    if (Array.isArray(item.content)) added.content = [];
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: added });
    (Array.isArray(item.content) ? item.content : []).forEach((part, contentIndex) => {
      if (!isObject(part)) return;
      const where = { ...at, content_index: contentIndex };
      const text = typeof part.text === 'string' ? part.text : '';
      events.push({ type: 'response.content_part.added', ...where, part: part.type === 'reasoning_text' ? { ...part, text: '' } : part });
      if (part.type === 'reasoning_text') {
        if (text !== '') events.push({ type: 'response.reasoning_text.delta', ...where, delta: text });
        events.push({ type: 'response.reasoning_text.done', ...where, text });
      }
      events.push({ type: 'response.content_part.done', ...where, part });
    });
    (Array.isArray(item.summary) ? item.summary : []).forEach((part, summaryIndex) => {
      if (!isObject(part)) return;
      const where = { ...at, summary_index: summaryIndex };
      const text = typeof part.text === 'string' ? part.text : '';
      events.push({ type: 'response.reasoning_summary_part.added', ...where, part: { ...part, text: '' } });
      if (text !== '') events.push({ type: 'response.reasoning_summary_text.delta', ...where, delta: text });
      events.push({ type: 'response.reasoning_summary_text.done', ...where, text });
      events.push({ type: 'response.reasoning_summary_part.done', ...where, part });
    });
  } else {
    // Reasoning without a summary and other items: announced whole, then finished.
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item });
  }
  events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
  return events;
}

/**
 * The full event stream for a stored response, as one string ready to write.
 *
 * @example res.end(renderResponsesStream(answer, req.body))
 */
export function renderResponsesStream(answer: StoredAnswer, request: JsonObject): string {
  const final = responsesReplayBody(answer.body, request);
  const output = Array.isArray(final.output) ? final.output.filter(isObject) : [];
  const pending: JsonObject = { ...final, status: 'in_progress', output: [], usage: null };
  const events: JsonObject[] = [
    { type: 'response.created', response: pending },
    { type: 'response.in_progress', response: pending },
    ...output.flatMap((item, index) => itemEvents(item, index)),
    { type: 'response.completed', response: final },
  ];
  let out = '';
  events.forEach((event, sequence) => {
    out += namedFrame(String(event.type), { ...event, sequence_number: sequence });
  });
  return out;
}
