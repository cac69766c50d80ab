/**
 * Endpoints forwarded without the Deflection Stack: Anthropic `count_tokens`, OpenAI `embeddings`
 * and `models` and `models/{id}` (which fall back to the configured models when the upstream has none).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route, UpstreamTarget } from '../core/request';
import type { UpstreamResponse } from '../core/upstream/client';
import { providersFor, clientCredential, clientResponseHeaders, type UpstreamEndpoint } from '../core/upstream/target';
import { requestCredentialHash } from './auth';
import type { ProxyContext } from './context';
import { OversizedBody } from './bodyParser';
import { ProxyError, type ErrorShape } from './errors';
import { flatHeaders, queryString } from './incoming';
import { pipeToClient } from './sse';

const PASSTHROUGH_HEADERS = { 'x-isartor-layer': 'l3', 'x-isartor-deflected': 'false' };

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function signalFor(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Sends an upstream response to the client as it is, marked as not deflected. */
export function pipeResponse(res: ServerResponse, response: UpstreamResponse): Promise<void> {
  res.writeHead(response.status, { ...clientResponseHeaders(response.headers), ...PASSTHROUGH_HEADERS });
  return pipeToClient(res, response.body);
}

/**
 * Forwards a POST (`count_tokens` or `embeddings`) verbatim to the route's first fitting provider chain.
 */
export async function servePassthroughPost(
  px: ProxyContext,
  http: { req: IncomingMessage; res: ServerResponse },
  endpoint: 'count_tokens' | 'embeddings',
  route: Route,
  rawBody: Buffer,
): Promise<void> {
  const body = await px.bodies.parse(rawBody);
  const model = body instanceof OversizedBody ? body.model : body !== null && typeof body === 'object' && !Array.isArray(body) ? body.model : undefined;
  if (typeof model !== 'string' || model === '') {
    throw new ProxyError(400, 'invalid_request', '`model` is required and must be a non-empty string.', 'model');
  }
  await forwardVerbatim(px, http, { endpoint, shape: endpoint === 'count_tokens' ? 'anthropic' : 'openai', route, rawBody, model });
}

/**
 * Sends the client's bytes, unchanged, to the route's first provider chain that serves `endpoint`
 * and pipes the answer back as it comes: no cache, no optimiser, nothing parsed on the way back.
 */
export async function forwardVerbatim(
  px: ProxyContext,
  http: { req: IncomingMessage; res: ServerResponse },
  call: { endpoint: UpstreamEndpoint; shape: ErrorShape; route: Route; rawBody: Buffer; model: string; azureDeployment?: string | undefined },
): Promise<void> {
  const { endpoint, shape } = call;
  const headers = flatHeaders(http.req);
  const providers = providersFor(call.route.providers, endpoint);
  if (providers.length === 0) {
    throw new ProxyError(400, 'no_provider', `This route has no ${shape === 'anthropic' ? 'Anthropic' : 'OpenAI-style'} upstream for ${endpoint}.`);
  }
  requestCredentialHash(headers, providers, shape);
  const response = await px.engine.upstream.send({
    providers, endpoint, model: call.model, method: 'POST', headers, body: call.rawBody, query: queryString(http.req.url), signal: signalFor(http.res),
    ...(call.azureDeployment === undefined ? {} : { azureDeployment: call.azureDeployment }),
  });
  await pipeResponse(http.res, response);
}

/** A configured model in the API's own model shape. */
function configuredModel(id: string, shape: ErrorShape): object {
  return shape === 'anthropic' ? { type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z' } : { id, object: 'model', created: 0, owned_by: 'isartor' };
}

/** The configured model list in the API's own list shape. */
function configuredModels(models: string[], shape: ErrorShape): object {
  const data = models.map((id) => configuredModel(id, shape));
  if (shape === 'anthropic') return { data, has_more: false, first_id: models[0] ?? null, last_id: models[models.length - 1] ?? null };
  return { object: 'list', data };
}

/** Sends a model answer of the proxy's own (not the upstream's), marked as such. */
function sendConfigured(res: ServerResponse, value: object): void {
  const text = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...PASSTHROUGH_HEADERS, 'x-isartor-models': 'configured' });
  res.end(text);
}

/** Who answers a models request: the API style (by the client's `anthropic-version`) and its providers. */
function modelsTarget(headers: Record<string, string>, route: Route): { shape: ErrorShape; endpoint: UpstreamEndpoint; providers: UpstreamTarget[]; hasKey: boolean } {
  const shape: ErrorShape = headers['anthropic-version'] ? 'anthropic' : 'openai';
  const endpoint: UpstreamEndpoint = shape === 'anthropic' ? 'anthropic.models' : 'openai.models';
  const providers = providersFor(route.providers, endpoint);
  const hasKey = clientCredential(headers) !== undefined || providers.some((provider) => provider.apiKey);
  return { shape, endpoint, providers, hasKey };
}

/** Statuses that mean "the upstream has no model list for us", as opposed to "your key is wrong". */
function upstreamHasNoList(status: number): boolean {
  return status === 404 || status === 405 || status === 501 || status >= 500;
}

/**
 * `GET /models`: the upstream's list when it has one; the configured models when the route has no
 * fitting provider, no credential is available, or the upstream has no such route or fails.
 * Anthropic clients are recognised by their `anthropic-version` header.
 */
export async function serveModels(px: ProxyContext, http: { req: IncomingMessage; res: ServerResponse }, route: Route): Promise<void> {
  const headers = flatHeaders(http.req);
  const { shape, endpoint, providers, hasKey } = modelsTarget(headers, route);
  const sendConfiguredList = (): void => sendConfigured(http.res, configuredModels(px.config.models, shape));
  if (providers.length === 0 || !hasKey) return sendConfiguredList();
  let response: UpstreamResponse;
  try {
    response = await px.engine.upstream.send({
      providers, endpoint, model: '', method: 'GET', headers, query: queryString(http.req.url), signal: signalFor(http.res),
    });
  } catch (error) {
    px.logger.info(`model list from the upstream failed (${error instanceof Error ? error.message : String(error)}); serving the configured models`);
    return sendConfiguredList();
  }
  if (upstreamHasNoList(response.status)) {
    await response.body.dump().catch(() => undefined);
    return sendConfiguredList();
  }
  await pipeResponse(http.res, response);
}

/**
 * `GET /models/{id}` (`subpath` "/{id}", as the client encoded it): the upstream's answer as it
 * is, a 404 for an unknown model included. Without a fitting provider or a credential, a configured
 * model is answered from the configuration and any other id is not found.
 */
export async function serveModel(px: ProxyContext, http: { req: IncomingMessage; res: ServerResponse }, route: Route, subpath: string): Promise<void> {
  const headers = flatHeaders(http.req);
  const { shape, endpoint, providers, hasKey } = modelsTarget(headers, route);
  if (providers.length === 0 || !hasKey) {
    let id: string;
    try {
      id = decodeURIComponent(subpath.slice(1));
    } catch {
      id = subpath.slice(1);
    }
    if (!px.config.models.includes(id)) throw new ProxyError(404, 'model_not_found', `The model \`${id}\` does not exist or you do not have access to it.`);
    return sendConfigured(http.res, configuredModel(id, shape));
  }
  const response = await px.engine.upstream.send({
    providers, endpoint, model: '', method: 'GET', headers, query: queryString(http.req.url), subpath, signal: signalFor(http.res),
  });
  await pipeResponse(http.res, response);
}
