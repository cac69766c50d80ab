/** Messages between the proxy's thread and the body worker (src/proxy/bodyWorker.ts). */
import type { OptimiserConfig } from '../core/config';
import type { ApiStyle, JsonValue } from '../core/request';
import type { AnswerReading } from '../core/stream/large-answer';

/** A body to parse; with `api`, an engine request whose cache digests the worker computes too. */
export interface ParseJob {
  kind: 'parse';
  id: number;
  bytes: Uint8Array;
  api?: ApiStyle;
}

/** A body to run the L2.5 optimiser on, with the layer's settings. */
export interface OptimiseJob {
  kind: 'optimise';
  id: number;
  bytes: Uint8Array;
  api: ApiStyle;
  model: string;
  settings: OptimiserConfig;
}

/** An upstream answer too large to store, to read for the ledger (core/stream/large-answer.ts). */
export interface AnswerJob {
  kind: 'answer';
  id: number;
  json: Uint8Array | string;
  api: ApiStyle;
}

/**
 * Instruction texts as sent and as forwarded, whose o200k counts' difference is wanted: for the
 * count worker (src/proxy/countWorker.ts), never the body worker requests wait for.
 */
export interface CountJob {
  kind: 'count';
  id: number;
  before: string[];
  after: string[];
}

export type BodyJob = ParseJob | OptimiseJob | AnswerJob | CountJob;

/** A failure, as plain fields: for a parse, the ProxyError it threw (a 400 that says what is wrong). */
export interface JobFailure {
  status: number;
  code: string;
  message: string;
  param: string | null;
}

export type BodyReply =
  | { id: number; value: JsonValue; digests: Record<string, string> }
  /**
   * A valid body with more pieces than the proxy's thread takes in at once (jsonNodes.ts): the
   * worker keeps it and says only its `model` (a string when the body is an object that has one).
   */
  | { id: number; oversized: { model?: string } }
  | { id: number; optimised: { forwardBody?: Uint8Array; tokensSaved: number; cacheHints: number; edited?: { before: string[]; after: string[] } } }
  | { id: number; counted: number }
  | { id: number; reading: AnswerReading }
  | { id: number; error: JobFailure };
