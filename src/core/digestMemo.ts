/**
 * Digests of parts of a request body (the exact cache's key, the semantic cache's partition),
 * remembered per body object. A large body is parsed and digested on a worker thread
 * (src/proxy/bodyWorker.ts) and its digests come back with it, so the proxy's own thread never
 * serialises megabytes just to hash them. Keyed by the object itself: a different body, even a
 * copy with one field changed, is a different object and gets its digests computed afresh. That is
 * only sound because nothing edits a request body in place once it is parsed.
 */

import { ObjectMemo } from './objectMemo';

const remembered = new ObjectMemo<object, Map<string, string>>('isartor.digests');

/**
 * The digest of `body` for `purpose`, computed by `compute` the first time it is asked for.
 *
 * @example rememberedDigest(req.body, 'relevant:openai.chat', () => canonicalObjectDigest(kept))
 */
export function rememberedDigest(body: object, purpose: string, compute: () => string): string {
  let digests = remembered.get(body);
  if (!digests) remembered.set(body, (digests = new Map()));
  let digest = digests.get(purpose);
  if (digest === undefined) digests.set(purpose, (digest = compute()));
  return digest;
}

/** Every digest remembered for `body`, to send to another thread. */
export function digestsOf(body: object): Record<string, string> {
  return Object.fromEntries(remembered.get(body) ?? []);
}

/** Takes digests computed on another thread for (a structured clone of) `body`. */
export function adoptDigests(body: object, digests: Record<string, string>): void {
  const entries = Object.entries(digests);
  if (entries.length > 0) remembered.set(body, new Map(entries));
}
