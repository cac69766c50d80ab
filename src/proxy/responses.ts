/**
 * The Responses API's per-response operations (`GET /responses/{id}`, `DELETE /responses/{id}`,
 * `POST /responses/{id}/cancel`, `GET /responses/{id}/input_items`): state kept by the provider,
 * so they are forwarded untouched and never cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheDirectives, JsonObject, Route } from '../core/request';
import { dependsOnProviderState } from '../core/request';
import { providersFor } from '../core/upstream/target';
import { requestCredentialHash } from './auth';
import type { ProxyContext } from './context';
import { MethodNotAllowedError, ProxyError } from './errors';
import { flatHeaders, queryString } from './incoming';
import { pipeResponse, signalFor } from './passthrough';

/** The methods each per-response path accepts. */
function allowedMethods(subpath: string): readonly string[] {
  if (subpath.endsWith('/cancel')) return ['POST'];
  if (subpath.endsWith('/input_items')) return ['GET'];
  return ['GET', 'DELETE'];
}

/**
 * Forwards one per-response operation verbatim (method, query, body) to the route's OpenAI-style chain.
 *
 * @example await serveResponseOperation(px, { req, res }, route, '/resp_123/cancel', Buffer.alloc(0))
 */
export async function serveResponseOperation(
  px: ProxyContext,
  http: { req: IncomingMessage; res: ServerResponse },
  route: Route,
  subpath: string,
  rawBody: Buffer | undefined,
): Promise<void> {
  const method = http.req.method ?? 'GET';
  const allowed = allowedMethods(subpath);
  if (!allowed.includes(method)) throw new MethodNotAllowedError(allowed, `/responses${subpath}`);
  const headers = flatHeaders(http.req);
  const providers = providersFor(route.providers, 'responses');
  if (providers.length === 0) throw new ProxyError(400, 'no_provider', 'This route has no OpenAI-style upstream for the Responses API.');
  requestCredentialHash(headers, providers, 'openai');
  const response = await px.engine.upstream.send({
    providers: providers.slice(0, 1), // a stored response lives with one provider; a fallback has never seen it
    endpoint: 'responses',
    subpath,
    model: '',
    method: method as 'GET' | 'POST' | 'DELETE',
    headers,
    ...(rawBody && rawBody.length > 0 ? { body: rawBody } : {}),
    query: queryString(http.req.url),
    signal: signalFor(http.res),
  });
  await pipeResponse(http.res, response);
}

/**
 * The cache directives for a request, tightened for what its API style cannot cache: a Responses
 * request that depends on provider state skips every cache, and the local model (which speaks only
 * chat and Messages) never answers the Responses API.
 */
export function directivesForApi(api: string, body: JsonObject, directives: CacheDirectives): CacheDirectives {
  if (api !== 'openai.responses') return directives;
  if (dependsOnProviderState(api, body)) return { noCache: true, noStore: true, semanticOff: true, localOff: true };
  return { ...directives, localOff: true };
}
