/** sha256 in hex, the digest every cache key and route id is made of. */
import * as crypto from 'node:crypto';

/** `crypto.hash` (Node 20.12+), absent from older runtimes such as some editors' builds. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string }).hash;

export function sha256(text: string | Buffer): string {
  // One-shot where the runtime has it (Node 20.12+): no Hash object per call, and a miss hashes ~9 times.
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}
