/**
 * Writes an outcome to the client in the request's API shape and streaming mode: stored answers
 * re-rendered as JSON or SSE, local answers streamed as they are generated, upstream bodies piped.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GeneratedOutcome, Outcome, SharedOutcome, StoredAnswer, StoredOutcome, UpstreamOutcome } from '../core/outcome';
import type { JsonValue, ProxyRequest } from '../core/request';
import { createAnthropicLiveRenderer, renderAnthropicStream } from '../core/stream/anthropic-render';
import { createOpenAILiveRenderer, openAIUsageObject, renderOpenAIStream, type LiveRenderer } from '../core/stream/openai-render';
import { renderResponsesStream, responsesReplayBody } from '../core/stream/responses-render';
import { streamErrorFrame } from '../core/upstream/tee';
import { errorBody, toProxyError } from './errors';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const JSON_HEADERS = { 'content-type': 'application/json' };

/** The headers every proxied response carries: which layer answered, and whether the cloud was spared. */
export function layerHeaders(outcome: Outcome, extra: Record<string, string>): Record<string, string> {
  return { ...extra, 'x-isartor-layer': outcome.layer, 'x-isartor-deflected': outcome.layer === 'l3' ? 'false' : 'true' };
}

/** The request's `stream_options.include_usage`. */
export function includeUsage(req: Pick<ProxyRequest, 'body'>): boolean {
  const options = req.body.stream_options as JsonValue | undefined;
  return options !== null && typeof options === 'object' && !Array.isArray(options) && options.include_usage === true;
}

/** Renders a whole stored answer as the SSE text of its API style. */
export function renderStoredStream(answer: StoredAnswer, req: ProxyRequest): string {
  if (answer.api === 'anthropic.messages') return renderAnthropicStream(answer);
  if (answer.api === 'openai.responses') return renderResponsesStream(answer, req.body);
  return renderOpenAIStream(answer, { includeUsage: includeUsage(req) });
}

/** A whole stored answer as the JSON body of its API style. */
export function renderStoredJson(answer: StoredAnswer, req: ProxyRequest): string {
  if (answer.api === 'openai.responses') return JSON.stringify(responsesReplayBody(answer.body, req.body));
  // An answer stored from a stream without usage still answers a plain request with usage, as the API would.
  if (answer.api !== 'anthropic.messages' && answer.body.usage === undefined) return JSON.stringify({ ...answer.body, usage: openAIUsageObject(answer) });
  return JSON.stringify(answer.body);
}

function writeStored(res: ServerResponse, req: ProxyRequest, outcome: StoredOutcome, headers: Record<string, string>): void {
  const text = req.stream ? renderStoredStream(outcome.answer, req) : renderStoredJson(outcome.answer, req);
  res.writeHead(200, { ...(req.stream ? SSE_HEADERS : JSON_HEADERS), 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Frames for a local answer as it is generated: the answer's own id (`chatcmpl-…`, `msg_…`) and
 * time, so the stream says what a plain reply would. `model` echoes the requested model, as the
 * plain reply does; the local model is named in `x-isartor-local-model`.
 */
function liveRenderer(req: ProxyRequest, outcome: GeneratedOutcome): LiveRenderer {
  if (req.api === 'anthropic.messages') return createAnthropicLiveRenderer({ id: outcome.id, model: req.model || outcome.localModel });
  const meta = { id: outcome.id, model: req.model, created: Math.floor(outcome.createdAt / 1000) };
  return createOpenAILiveRenderer(req.api === 'openai.chat' ? 'chat' : 'completions', meta, { includeUsage: includeUsage(req) });
}

/**
 * How long writing a local answer may hold the event loop before other work gets a turn. Its
 * deltas come through promises: when they are already there (an answer generated in full before
 * it is sent), the loop below never left the microtask queue, and 500,000 of them held the proxy's
 * thread for 1.8 s.
 */
const WRITE_SLICE_MS = 10;

/** Resolves once `res` takes more writes again, or is closed. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function writeGenerated(res: ServerResponse, req: ProxyRequest, outcome: GeneratedOutcome, headers: Record<string, string>): Promise<void> {
  const allHeaders = { ...headers, 'x-isartor-local-model': outcome.localModel };
  if (!req.stream) {
    try {
      const answer = await outcome.done;
      const text = JSON.stringify(answer.body);
      res.writeHead(200, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...allHeaders });
      res.end(text);
    } catch (error) {
      const failure = toProxyError(error);
      const text = JSON.stringify(errorBody(req.api === 'anthropic.messages' ? 'anthropic' : 'openai', failure));
      res.writeHead(failure.status, { ...JSON_HEADERS, ...allHeaders });
      res.end(text);
    }
    return;
  }
  const renderer = liveRenderer(req, outcome);
  res.writeHead(200, { ...SSE_HEADERS, ...allHeaders });
  res.write(renderer.start());
  try {
    let sliceStart = performance.now();
    for await (const delta of outcome.deltas) {
      if (res.destroyed) return;
      // A client reading slower than the answer comes is waited for, not buffered for. A 'drain'
      // can come in the same turn (the socket took the bytes at once), so the slice still counts.
      if (!res.write(renderer.text(delta))) await writable(res);
      if (performance.now() - sliceStart < WRITE_SLICE_MS) continue;
      await nextTurn();
      sliceStart = performance.now();
    }
    res.end(renderer.end(await outcome.done));
  } catch (error) {
    res.end(streamErrorFrame(req.api, `the local model failed mid-answer (${error instanceof Error ? error.message : String(error)}); retry the request`));
  }
}

/**
 * Pipes a live body to the client; resolves once the response is over (finished or abandoned).
 * Plain `pipe` rather than `stream.pipeline`: pipeline allocates an AbortController per call and
 * aborts it when done, a measurable cost on the proxy's hottest path. When the client leaves early
 * the body is destroyed (which cancels its upstream call), unless `readOnFor` says other requests
 * share it: it is then read on for them without this client.
 */
export function pipeToClient(res: ServerResponse, body: Readable, readOnFor?: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      // The client left while the layers were working: 'close' has already fired and will not again.
      abandon(res, body, readOnFor);
      resolve();
      return;
    }
    // A non-stream body that fails half-way cannot be mended: end the connection so the client sees it.
    body.once('error', () => res.destroy());
    res.on('close', () => {
      abandon(res, body, readOnFor);
      resolve();
    });
    body.pipe(res);
  });
}

/** The client left: destroys an unfinished body, unless it is read on without this client for the others sharing it. */
function abandon(res: ServerResponse, body: Readable, readOnFor: (() => boolean) | undefined): void {
  if (body.readableEnded) return;
  body.unpipe(res);
  if (!readOnFor?.()) body.destroy();
}

function writeUpstream(res: ServerResponse, outcome: UpstreamOutcome, extraHeaders: Record<string, string>): Promise<void> {
  // One headers object per response (a miss's hot path): the same keys in the same order as
  // { ...outcome.headers, ...layerHeaders(outcome, extraHeaders) }.
  const headers: Record<string, string> = { ...outcome.headers, ...extraHeaders };
  headers['x-isartor-layer'] = outcome.layer;
  headers['x-isartor-deflected'] = outcome.layer === 'l3' ? 'false' : 'true';
  res.writeHead(outcome.status, headers);
  // A stream's headers go out at once so the client sees a live response before the first token;
  // a JSON body goes out with its headers in one write.
  if (outcome.headers['content-type']?.includes('text/event-stream')) res.flushHeaders();
  return pipeToClient(res, outcome.body, outcome.readOnFor);
}

function writeShared(res: ServerResponse, outcome: SharedOutcome, headers: Record<string, string>): Promise<void> {
  const { 'content-length': _length, ...leaderHeaders } = outcome.headers;
  res.writeHead(200, { ...leaderHeaders, ...headers });
  res.flushHeaders();
  return pipeToClient(res, outcome.body);
}

/**
 * Sends `outcome` to the client; resolves when the response has been written or abandoned.
 *
 * @example await writeOutcome(res, req, outcome, ctx.responseHeaders);
 */
export async function writeOutcome(res: ServerResponse, req: ProxyRequest, outcome: Outcome, extraHeaders: Record<string, string>): Promise<void> {
  if (outcome.kind === 'upstream') return writeUpstream(res, outcome, extraHeaders);
  const headers = layerHeaders(outcome, extraHeaders);
  if (outcome.kind === 'stored') writeStored(res, req, outcome, headers);
  else if (outcome.kind === 'generated') await writeGenerated(res, req, outcome, headers);
  else await writeShared(res, outcome, headers);
}
