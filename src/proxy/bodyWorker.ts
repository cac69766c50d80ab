/**
 * The body worker: parses large request bodies and computes the digests the caches key them by,
 * runs the L2.5 optimiser on large bodies, and reads upstream answers too large to store, so that
 * none of it (tens of milliseconds per MiB)
 * runs on the thread that serves every client, in VS Code the extension host's. See bodyParser.ts
 * for the proxy's side.
 */
import { parentPort } from 'node:worker_threads';
import type { OptimiserConfig } from '../core/config';
import { digestsOf } from '../core/digestMemo';
import { createRequestOptimiser, type RequestOptimiser } from '../core/optimiser/optimise';
import { relevantBodyDigest, type JsonObject } from '../core/request';
import { semanticBodyDigests } from '../core/semantic/keys';
import { readAnswerJson } from '../core/stream/large-answer';
import { approximateTokens } from '../core/tokens';
import type { BodyJob, BodyReply, OptimiseJob, ParseJob } from './bodyWorkerProtocol';
import { toProxyError } from './errors';
import { parseJsonBody } from './incoming';
import { jsonNodesUpTo, MAX_MAIN_THREAD_NODES } from '../core/jsonNodes';
import { validateBody } from './validate';

const bytesOf = (job: ParseJob | OptimiseJob): Buffer => Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);

function parse(job: ParseJob): BodyReply {
  const value = parseJsonBody(bytesOf(job));
  if (jsonNodesUpTo(value, MAX_MAIN_THREAD_NODES) > MAX_MAIN_THREAD_NODES) {
    // Checked here, as the proxy's thread would check it, so a malformed request still gets its 400.
    if (job.api !== undefined) return { id: job.id, oversized: { model: validateBody(job.api, value).model } };
    const model = value !== null && typeof value === 'object' && !Array.isArray(value) ? value.model : undefined;
    return { id: job.id, oversized: typeof model === 'string' ? { model } : {} };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || job.api === undefined) return { id: job.id, value, digests: {} };
  relevantBodyDigest(job.api, value);
  semanticBodyDigests(job.api, value);
  return { id: job.id, value, digests: digestsOf(value) };
}

/** One optimiser per settings seen (in practice one), as the layer keeps one: same counter, same memos. */
const optimisers = new Map<string, RequestOptimiser>();

function optimiserFor(settings: OptimiserConfig): RequestOptimiser {
  const key = JSON.stringify(settings);
  let optimiser = optimisers.get(key);
  if (!optimiser) optimisers.set(key, (optimiser = createRequestOptimiser(settings, approximateTokens, { memoiseCounts: false })));
  return optimiser;
}

function optimise(job: OptimiseJob): { reply: BodyReply; transfer: ArrayBuffer[] } {
  const rawBody = bytesOf(job);
  const body = JSON.parse(rawBody.toString('utf8')) as JsonObject;
  const result = optimiserFor(job.settings).optimise({ api: job.api, model: job.model, body, rawBody });
  if (!result.forwardBody) return { reply: { id: job.id, optimised: { tokensSaved: result.tokensSaved, cacheHints: result.cacheHints } }, transfer: [] };
  // Copied into a buffer of its own, which is handed over rather than cloned.
  const forwardBody = new Uint8Array(result.forwardBody);
  return { reply: { id: job.id, optimised: { ...result, forwardBody } }, transfer: [forwardBody.buffer] };
}

parentPort!.on('message', (job: Exclude<BodyJob, { kind: 'count' }>) => {
  try {
    if (job.kind === 'parse') parentPort!.postMessage(parse(job));
    else if (job.kind === 'answer') parentPort!.postMessage({ id: job.id, reading: readAnswerJson(job.api, job.json) } satisfies BodyReply);
    else {
      const { reply, transfer } = optimise(job);
      parentPort!.postMessage(reply, transfer);
    }
  } catch (error) {
    const failure = toProxyError(error);
    parentPort!.postMessage({ id: job.id, error: { status: failure.status, code: failure.code, message: failure.message, param: failure.param } } satisfies BodyReply);
  }
});
