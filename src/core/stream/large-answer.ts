/**
 * Answers too large to store. Storing an answer, and replaying it on a hit, turns it into a string
 * and parses it in one piece on the proxy's thread (~10 ms per MB of non-ASCII text): a 5 MB answer
 * held that thread, in VS Code the extension host's, for 120 ms. So an answer over
 * MAX_STORED_ANSWER_BYTES goes to its client as it came but is not cached, and the ledger's usage
 * is read from it on a worker thread. No model answers that much today: 128,000 output tokens are
 * well under 1 MB.
 */
import type { TokenUsage } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { jsonNodesUpTo } from '../jsonNodes';
import { approximateTokensOf } from '../tokens';
import { answerTexts } from './estimate-usage';
import { isCompleteResponse } from './responses-accumulator';
import { normaliseUsage } from './usage';

/** An answer body (or, for a stream, its generated text, or one of its events) larger than this is not stored. */
export const MAX_STORED_ANSWER_BYTES = 1024 * 1024;

/**
 * An answer of more parts than this (content blocks, choices and tool calls, output items and
 * their parts) is not stored either, whatever its size: a replay renders every part as frames of
 * its own on the proxy's thread, ~14 µs a content block, so an answer of 30,000 one-letter blocks
 * (under 1 MB) held that thread for 80-200 ms on each hit. Models answer with a few dozen at most.
 */
export const MAX_STORED_ANSWER_PARTS = 1_000;

/**
 * Pieces of JSON (jsonNodes.ts: an object's keys past its 1,000th count ten) an answer may have to
 * be stored. Each hit parses the stored answer on the proxy's thread and renders it: a tool call
 * whose input has 60,000 keys (880 KB) took 35-100 ms to parse, and a stream of 2,000 tokens with
 * top_logprobs (424,000 pieces) ~50 ms to render. 500 such tokens are ~106,000 pieces.
 */
export const MAX_STORED_ANSWER_NODES = 200_000;

/** What the ledger needs of an answer too large to store. */
export interface AnswerReading {
  /** Whether it is a finished, successful answer (not an error object). */
  complete: boolean;
  /**
   * The provider's own usage, when it reported any; also for an answer that is not complete (a
   * Responses `response.incomplete` or `response.failed`), which the provider bills all the same.
   */
  usage?: TokenUsage;
  /** Approximate tokens of the generated text, for an estimate when it reported none. */
  outputTokens: number;
}

/**
 * Reads a large answer body (JSON bytes, or an SSE event's data) on a worker thread: the proxy's
 * body worker. Bytes in shared memory go there without a copy.
 */
export type OffThreadAnswerReader = (api: ApiStyle, json: Uint8Array | string) => Promise<AnswerReading>;

/** A collected answer too large to store: its reading, once it is read. */
export class LargeAnswer {
  constructor(readonly reading: Promise<AnswerReading | undefined>) {}
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether a parsed non-streamed body is a finished answer of its API style (not an error object). */
export function isCompleteAnswerBody(api: ApiStyle, body: JsonValue): body is JsonObject {
  if (!isObject(body)) return false;
  // A Responses body always carries `error` (null on success); the others carry it only on failure.
  if (api === 'openai.responses') return isCompleteResponse(body);
  if (body.error !== undefined) return false;
  if (api === 'anthropic.messages') return body.type === 'message' && Array.isArray(body.content);
  return Array.isArray(body.choices) && body.choices.length > 0;
}

/** The Responses stream events that carry the final `response` object. */
export const RESPONSES_END_EVENTS: ReadonlySet<string> = new Set(['response.completed', 'response.failed', 'response.incomplete']);

/**
 * Reads a parsed answer body, or a Responses stream's final event (`response.completed`,
 * `response.incomplete` or `response.failed`, whose `response` is the body). A body that is no
 * complete answer still gives the usage it reports: billed, though nothing is stored.
 *
 * @example readAnswerValue('openai.chat', body) // { complete: true, usage: { inputTokens: 12, … }, outputTokens: 250000 }
 */
export function readAnswerValue(api: ApiStyle, value: JsonValue): AnswerReading {
  const endEvent = api === 'openai.responses' && isObject(value) && typeof value.type === 'string' && RESPONSES_END_EVENTS.has(value.type);
  const body = endEvent && isObject(value) ? value.response : value;
  if (body === undefined || !isCompleteAnswerBody(api, body)) {
    const billed = isObject(body) ? normaliseUsage(api, body.usage) : undefined;
    return { complete: false, ...(billed ? { usage: billed } : {}), outputTokens: 0 };
  }
  const usage = normaliseUsage(api, body.usage);
  return { complete: true, ...(usage ? { usage } : {}), outputTokens: approximateTokensOf(answerTexts(api, body)) };
}

/** `readAnswerValue` of JSON text; an answer that does not parse is not complete. */
export function readAnswerJson(api: ApiStyle, json: Uint8Array | string): AnswerReading {
  try {
    const text = typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
    return readAnswerValue(api, JSON.parse(text) as JsonValue);
  } catch {
    return { complete: false, outputTokens: 0 };
  }
}

/** UTF-8 bytes of an answer body's generated text: what storing it costs, near enough. */
export function answerTextBytes(api: ApiStyle, body: JsonObject): number {
  let bytes = 0;
  for (const text of answerTexts(api, body)) bytes += Buffer.byteLength(text, 'utf8');
  return bytes;
}

const partsOf = (value: JsonValue | undefined): number => (Array.isArray(value) ? value.length : 0);

/**
 * The parts of an answer body a replay renders one by one: what replaying it costs, beside its text.
 *
 * @example answerParts('anthropic.messages', { content: [{ type: 'text', text: 'hi' }] }) // 1
 */
export function answerParts(api: ApiStyle, body: JsonObject): number {
  if (api === 'anthropic.messages') return partsOf(body.content);
  let parts = 0;
  if (api === 'openai.responses') {
    for (const item of Array.isArray(body.output) ? body.output : []) parts += 1 + (isObject(item) ? partsOf(item.content) + partsOf(item.summary) : 0);
    return parts;
  }
  for (const choice of Array.isArray(body.choices) ? body.choices : []) {
    const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
    parts += 1 + (message ? partsOf(message.tool_calls) + partsOf(message.content) : 0);
  }
  return parts;
}

/** Whether a complete answer body is too large, in text, parts or pieces, to store. */
export function tooLargeToStore(api: ApiStyle, body: JsonObject): boolean {
  return answerParts(api, body) > MAX_STORED_ANSWER_PARTS || answerTextBytes(api, body) > MAX_STORED_ANSWER_BYTES || jsonNodesUpTo(body, MAX_STORED_ANSWER_NODES) > MAX_STORED_ANSWER_NODES;
}

/**
 * Reads `json` with `reader`, or here when there is none (a missing worker script, tests); never
 * rejects: an answer that could not be read has no reading.
 */
export function readLargeAnswer(api: ApiStyle, json: Uint8Array | string, reader: OffThreadAnswerReader | undefined): Promise<AnswerReading | undefined> {
  if (!reader) return Promise.resolve(readAnswerJson(api, json));
  return reader(api, json).catch(() => undefined);
}
