/**
 * A provider's failed HTTP answer (a 429 or 5xx), kept while the rest of the fallback chain is
 * tried: when no later provider answers better, the client gets this real answer (status, error
 * body, Retry-After) rather than a proxy-made 502 about a provider it never addressed.
 */
import { Readable } from 'node:stream';
import type { UpstreamBody, UpstreamResponse } from './client';

export interface HeldAnswer {
  response: Omit<UpstreamResponse, 'body'>;
  bytes: Buffer;
}

/** Error bodies are a few hundred bytes; a longer body is let go rather than kept in memory. */
const MAX_HELD_BYTES = 64 * 1024;

/**
 * Reads `response`'s body to keep it; undefined when it is too long to keep or could not be read
 * (the answer is then dropped, as before: the chain's own outcome decides).
 *
 * @example const held = await holdAnswer(response); … return replayHeld(held);
 */
export async function holdAnswer(response: UpstreamResponse): Promise<HeldAnswer | undefined> {
  const { body, ...rest } = response;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += bytes.length;
      if (size > MAX_HELD_BYTES) {
        body.destroy();
        return undefined;
      }
      chunks.push(bytes);
    }
  } catch {
    return undefined;
  }
  return { response: rest, bytes: Buffer.concat(chunks, size) };
}

/** The held answer as a response whose body can be read (or dumped) once. */
export function replayHeld(held: HeldAnswer): UpstreamResponse {
  const body = Readable.from([held.bytes], { objectMode: false }) as UpstreamBody;
  body.dump = async () => {
    body.destroy();
  };
  return { ...held.response, body };
}
