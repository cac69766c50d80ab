/**
 * Serves the endpoints that run through the Deflection Stack (chat completions, legacy
 * completions, responses, messages): validate, resolve the credential, run the engine, answer, record.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestResult } from '../core/engine';
import type { Outcome, UpstreamOutcome } from '../core/outcome';
import type { LayerContext } from '../core/pipeline';
import type { ApiStyle, ProxyRequest, Route } from '../core/request';
import { ClientSignal } from '../core/clientSignal';
import { logValue } from '../core/logger';
import { NoProviderError } from '../core/upstream/errors';
import { endpointForApi, providersFor } from '../core/upstream/target';
import { requestCredentialHash } from './auth';
import { OversizedBody } from './bodyParser';
import { clientToolFrom } from './client-tool';
import type { ProxyContext } from './context';
import { sendError, toProxyError, type ErrorShape } from './errors';
import { MAX_MAIN_THREAD_NODES } from '../core/jsonNodes';
import { forwardVerbatim } from './passthrough';
import { cacheDirectives, flatHeaders, queryString } from './incoming';
import { directivesForApi } from './responses';
import { writeOutcome } from './sse';
import { validateBody } from './validate';

/** Status recorded for a request whose client went away before the answer (nginx's convention). */
const CLIENT_CLOSED = 499;

/** The error shape of an API style. */
export function shapeOf(api: ApiStyle): ErrorShape {
  return api === 'anthropic.messages' ? 'anthropic' : 'openai';
}

/**
 * Answers one engine request. Errors before an answer are sent in the API's shape; the ledger
 * record is written once the response is over.
 */
export async function serveEngineRequest(
  px: ProxyContext,
  http: { req: IncomingMessage; res: ServerResponse },
  api: ApiStyle,
  route: Route,
  rawBody: Buffer,
  receivedAt: number,
  /** The deployment an Azure deployment path named (decoded), for the upstream URL and the partition. */
  azureDeployment?: string,
): Promise<void> {
  const { res } = http;
  for (let wait = px.slices.turn(); wait; wait = px.slices.turn()) await wait;
  const parsed = await px.bodies.parse(rawBody, api);
  if (parsed instanceof OversizedBody) {
    // Taking it in would hold every other client (in VS Code, the extension host) too long; it
    // goes to the provider as the client sent it, past the caches and the optimiser, unrecorded.
    px.logger.info(`${api} ${logValue(parsed.model)}: a body of over ${MAX_MAIN_THREAD_NODES.toLocaleString('en-US')} JSON values (${rawBody.length} bytes) is forwarded as it is, uncached`);
    return forwardVerbatim(px, http, { endpoint: endpointForApi(api), shape: shapeOf(api), route, rawBody, model: parsed.model!, azureDeployment });
  }
  const headers = flatHeaders(http.req);
  const { body, model, stream } = validateBody(api, parsed);
  const providers = providersFor(route.providers, endpointForApi(api));
  if (providers.length === 0) throw new NoProviderError(api);
  const credentialHash = requestCredentialHash(headers, providers, shapeOf(api));

  // Not an AbortController: see clientSignal.ts (a per-request cost, issue 15).
  const clientGone = new ClientSignal();
  res.on('close', () => {
    if (!res.writableFinished) clientGone.abort();
  });
  const req: ProxyRequest = {
    api,
    route,
    body,
    rawBody,
    headers,
    query: queryString(http.req.url),
    ...(azureDeployment === undefined ? {} : { azureDeployment }),
    model,
    stream,
    credentialHash,
    clientTool: route.tool ?? clientToolFrom(headers),
    cache: directivesForApi(api, body, cacheDirectives(headers)),
    signal: clientGone,
    receivedAt,
  };

  let outcome: Outcome | undefined;
  let upstream: UpstreamOutcome | undefined;
  let ctx: LayerContext | undefined;
  let status = 200;
  let error: string | undefined;
  try {
    ({ outcome, ctx } = await px.engine.handle(req));
    if (outcome.kind === 'upstream') {
      upstream = outcome;
      status = outcome.status;
      if (status >= 400) error = `upstream_${status}`;
    }
    await writeOutcome(res, req, outcome, ctx.responseHeaders);
  } catch (failure) {
    if (clientGone.aborted) {
      status = CLIENT_CLOSED;
      error = 'client_closed';
    } else {
      const proxyError = toProxyError(failure);
      if (proxyError.status >= 500) px.logger.warn(`${api} ${logValue(model)}: ${logValue(proxyError.message, 2000)}`);
      status = proxyError.status;
      error = proxyError.code;
      sendError(res, shapeOf(api), proxyError);
    }
    outcome = undefined;
  }
  if (clientGone.aborted && !error) {
    status = CLIENT_CLOSED;
    error = 'client_closed';
  }
  // Observed once the response is out: the client's answer does not wait for the metrics.
  if (upstream) px.metrics.observeUpstreamLatency(upstream.provider, upstream.upstreamLatencyMs / 1000);
  const result: RequestResult = { req, outcome, status, latencyMs: performance.now() - receivedAt };
  if (ctx) result.ctx = ctx;
  if (error) result.error = error;
  try {
    const record = await px.engine.recordOutcome(result);
    px.metrics.observeRecord(record);
    px.logger.debug(`${api} ${logValue(model)} → ${record.layer} ${status} in ${Math.round(record.latencyMs)} ms (${record.tool})`);
  } catch (recordError) {
    px.logger.warn(`could not write the ledger record: ${recordError instanceof Error ? recordError.message : String(recordError)}`);
  }
}
