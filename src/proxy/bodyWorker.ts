/**
 * The body worker: parses large request bodies and computes the digests the caches key them by,
 * so that neither (tens of milliseconds per MiB) runs on the thread that serves every client, in
 * VS Code the extension host's. See bodyParser.ts for the proxy's side.
 */
import { parentPort } from 'node:worker_threads';
import { digestsOf } from '../core/digestMemo';
import { relevantBodyDigest } from '../core/request';
import { semanticBodyDigests } from '../core/semantic/keys';
import type { BodyJob, BodyReply } from './bodyWorkerProtocol';
import { toProxyError } from './errors';
import { parseJsonBody } from './incoming';

function handle(job: BodyJob): BodyReply {
  try {
    const value = parseJsonBody(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength));
    if (value === null || typeof value !== 'object' || Array.isArray(value) || job.api === undefined) return { id: job.id, value, digests: {} };
    relevantBodyDigest(job.api, value);
    semanticBodyDigests(job.api, value);
    return { id: job.id, value, digests: digestsOf(value) };
  } catch (error) {
    const failure = toProxyError(error);
    return { id: job.id, error: { status: failure.status, code: failure.code, message: failure.message, param: failure.param } };
  }
}

parentPort!.on('message', (job: BodyJob) => parentPort!.postMessage(handle(job)));
