/** Messages between the proxy's thread and the body worker (src/proxy/bodyWorker.ts). */
import type { ApiStyle, JsonValue } from '../core/request';

/** A body to parse; with `api`, an engine request whose cache digests the worker computes too. */
export interface BodyJob {
  id: number;
  bytes: Uint8Array;
  api?: ApiStyle;
}

export type BodyReply =
  | { id: number; value: JsonValue; digests: Record<string, string> }
  /** The ProxyError the parse threw (a 400 that says what is wrong), as plain fields. */
  | { id: number; error: { status: number; code: string; message: string; param: string | null } };
