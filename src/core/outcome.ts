/**
 * What a layer of the Deflection Stack hands back: a stored answer to replay, a locally generated
 * answer to stream, a live upstream response to pipe through, or a share of one another request is receiving.
 */
import type { Readable } from 'node:stream';
import { ObjectMemo } from './objectMemo';
import type { ApiStyle, JsonObject } from './request';

/** The layers, in the order a request meets them. */
export type LayerName = 'l1a' | 'l1b' | 'l2' | 'l3';

/** Token counts, normalised across providers. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens the provider served from its prompt cache (OpenAI cached_tokens, Anthropic cache_read). */
  cachedInputTokens: number;
  /** Anthropic cache_creation_input_tokens: every cache write, 5-minute and 1-hour. */
  cacheWriteTokens: number;
  /**
   * The part of cacheWriteTokens written to Anthropic's 1-hour cache
   * (`cache_creation.ephemeral_1h_input_tokens`), billed at 2x input instead of 1.25x. Absent: none.
   */
  cacheWrite1hTokens?: number;
}

export const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 };

/**
 * A complete, successful answer in the non-streamed body shape of its API style: an OpenAI
 * `chat.completion` / `text_completion` object or an Anthropic `message` object. This is what the
 * caches store; the proxy re-renders it as JSON or as an SSE sequence for either streaming mode.
 */
export interface StoredAnswer {
  api: ApiStyle;
  body: JsonObject;
  usage: TokenUsage;
  /** True when the provider reported no usage and `usage` was estimated from the text. */
  usageEstimated?: boolean;
  /**
   * Anthropic answers stored from a stream: the usage of `message_start` and of the last
   * `message_delta` as the provider streamed them, so a streamed replay says what the live one said.
   */
  streamUsage?: { start: JsonObject; end: JsonObject };
  /**
   * OpenAI-style answers stored from a stream that carried the provider's usage although the
   * request did not ask for it (`stream_options.include_usage`), as some compatible servers always
   * send it: a streamed replay to a request that did not ask either sends it too.
   */
  usageUnasked?: boolean;
  /** Epoch ms when the upstream produced it. */
  createdAt: number;
}

/** What the ledger records of an answer: its usage, and whether that was estimated. */
export type AnswerUsage = Pick<StoredAnswer, 'usage' | 'usageEstimated'>;

const answerJsonMemo = new ObjectMemo<StoredAnswer, string>('isartor.answerJson');

/** The JSON text an answer's body was parsed from, and that body (see `rememberBodyText`). */
const bodyTextMemo = new ObjectMemo<StoredAnswer, { body: JsonObject; text: string }>('isartor.bodyText');

/**
 * Records that `answer.body` was parsed from the JSON text `text` (an upstream's own response
 * body), so `storedAnswerJson` can splice that text in instead of serialising the body again:
 * re-escaping every string of the answer was ~2% of a miss's main-thread CPU (issue 15).
 * `text` must be exactly what `JSON.parse` turned into `answer.body`.
 */
export function rememberBodyText(answer: StoredAnswer, text: string): void {
  bodyTextMemo.set(answer, { body: answer.body, text });
}

/**
 * `JSON.stringify(answer)`, done once per answer: the exact cache stores it and the semantic
 * cache posts it to its worker as a string, which costs far less than cloning the object (issue 15).
 * A body parsed from an upstream's compact JSON (`rememberBodyText`) goes in as that text: the
 * same value to any JSON reader, with the upstream's own spacing and number spelling.
 */
export function storedAnswerJson(answer: StoredAnswer): string {
  let json = answerJsonMemo.get(answer);
  if (json === undefined) answerJsonMemo.set(answer, (json = serialiseAnswer(answer)));
  return json;
}

function serialiseAnswer(answer: StoredAnswer): string {
  const parsedFrom = bodyTextMemo.get(answer);
  // A body replaced since it was parsed is not that text any more. A text with a line break before
  // its end is pretty-printed (JSON strings cannot hold a raw one), as some upstreams send it: it is
  // stored compact, as before, rather than with a few hundred bytes of indentation per answer.
  if (!parsedFrom || parsedFrom.body !== answer.body || isPrettyPrinted(parsedFrom.text)) return JSON.stringify(answer);
  const { api, body: _body, ...rest } = answer;
  const tail = JSON.stringify(rest);
  // The fields in JSON.stringify's order: api and body first, as every StoredAnswer is built.
  return `{"api":${JSON.stringify(api)},"body":${parsedFrom.text}${tail === '{}' ? '}' : `,${tail.slice(1)}`}`;
}

/** Whether JSON `text` has a line break before its last character: outside strings, so layout. */
function isPrettyPrinted(text: string): boolean {
  const lineBreak = text.indexOf('\n');
  return lineBreak !== -1 && lineBreak < text.length - 1;
}

/** A replay of an answer stored by an earlier request. */
export interface StoredOutcome {
  kind: 'stored';
  layer: 'l1a' | 'l1b';
  answer: StoredAnswer;
}

/** An answer produced locally (L2), streamed as it is generated. */
export interface GeneratedOutcome {
  kind: 'generated';
  layer: 'l2';
  /** Name of the local model, sent as `x-isartor-local-model`. */
  localModel: string;
  /**
   * The answer's id in its API's style (`chatcmpl-…`, `msg_…`) and its creation time (epoch ms):
   * a streamed rendering uses them, so it says what the body in `done` says.
   */
  id: string;
  createdAt: number;
  /** Text as the model produces it. */
  deltas: AsyncIterable<string>;
  /** Resolves after the last delta with the full answer and real local token counts. */
  done: Promise<StoredAnswer>;
}

/** A live upstream response (L3), success or error, piped to the client byte for byte. */
export interface UpstreamOutcome {
  kind: 'upstream';
  layer: 'l3';
  /** The provider of the chain that answered. */
  provider: string;
  /**
   * True when a fallback on another origin than the primary's (another vendor) answered: its
   * answer reaches the client but is not cached under the primary's key.
   */
  fromFallback?: boolean;
  status: number;
  /** Response headers to pass on (hop-by-hop headers already removed). */
  headers: Record<string, string>;
  /** The body stream. Whoever consumes it must consume it fully or destroy it. */
  body: Readable;
  /**
   * Resolves once the body has been fully read: with the complete answer when the response was a
   * complete success, or undefined for an error status, an abort or a broken stream (never cached).
   */
  completion: Promise<StoredAnswer | undefined>;
  /**
   * For an answer too large to store (large-answer.ts), which `completion` resolves as undefined:
   * its usage for the ledger, read without holding the proxy's thread; for one too large that is
   * no complete answer (a Responses `response.incomplete`), the usage it reported, which is billed.
   * Absent or undefined otherwise.
   */
  unstored?: Promise<AnswerUsage | undefined>;
  /**
   * For a response that did not end as a complete answer (`completion` is then undefined): the
   * usage the provider reported in it before it was cut, cancelled or ended in an error or
   * `response.incomplete`, which the provider bills. `usageEstimated` when it is only a running
   * count (an Anthropic stream stopped before its final usage). Absent or undefined otherwise.
   */
  billed?: Promise<AnswerUsage | undefined>;
  /** Milliseconds from sending the request to the upstream's response headers. */
  upstreamLatencyMs: number;
  /**
   * A stream only: the error code once the client's stream ended in the proxy's error event
   * because the upstream broke off (tee.ts); undefined otherwise. Known once `completion` resolved.
   */
  streamFailure?: () => string | undefined;
  /**
   * Called when the client goes away before the body's end, once the body is unpiped from it: true
   * when it has the body read on for other requests sharing this upstream call (single flight);
   * false, and the body is destroyed.
   */
  readOnFor?: () => boolean;
}

/**
 * An answer another identical request is receiving live from the upstream right now (single
 * flight): this request gets its own copy of that stream from the first chunk, framed for itself.
 */
export interface SharedOutcome {
  kind: 'shared';
  layer: 'l1a';
  /** The leader's response headers (content type and the provider's own). */
  headers: Record<string, string>;
  body: Readable;
  /** The leader's finished answer, or undefined when its stream broke off. */
  completion: Promise<StoredAnswer | undefined>;
  /** As UpstreamOutcome's: this request's copy of the stream ended in the proxy's error event. */
  streamFailure?: () => string | undefined;
}

export type Outcome = StoredOutcome | GeneratedOutcome | UpstreamOutcome | SharedOutcome;

/** Layer-specific facts the pipeline adds to the request's ledger record. */
export interface OutcomeNotes {
  /** L1b: why a near neighbour was rejected by a safety gate, if one was. */
  semanticRejected?: string;
  /** L2: why the local model did not answer (ineligible, complex, low confidence, ...). */
  localSkipped?: string;
  /** L2.5: input tokens removed by the opt-in edits (an estimate until the real count replaces it). */
  optimisedTokens?: number;
  /** L2.5: the same counted with o200k off the request's path; the ledger record waits for it. */
  optimisedTokensCounting?: Promise<number | undefined>;
  /** L2.5: Anthropic cache_control breakpoints the optimiser added. */
  cacheHints?: number;
}
