/**
 * The hot path: every OpenAI/Anthropic endpoint under the root, `/v1` and `/r/<routeId>/`,
 * handled on plain Node request objects so a request does not pay for a router it does not need.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApiStyle } from '../core/request';
import { BodyAbortedError, discardBody, jsonContentTypeError, readRequestBody } from './body';
import type { ProxyContext } from './context';
import { serveEngineRequest } from './engine-route';
import { clientErrorShape, MethodNotAllowedError, sendError, toProxyError, unknownRoute, type ErrorShape, type ProxyError } from './errors';
import { serveModel, serveModels, servePassthroughPost } from './passthrough';
import { addressedDeployment, serveDeploymentPassthrough } from './azure-deployment';
import { serveResponseOperation } from './responses';
import { matchApiPath, type ApiEndpoint } from './routes';

const ENGINE_APIS: Partial<Record<ApiEndpoint, ApiStyle>> = {
  chat: 'openai.chat',
  completions: 'openai.completions',
  responses: 'openai.responses',
  messages: 'anthropic.messages',
};

/** Anthropic endpoints answer errors in Anthropic's shape; `models` follows the client's headers. */
export function errorShapeFor(endpoint: ApiEndpoint, req: IncomingMessage): ErrorShape {
  if (endpoint === 'messages' || endpoint === 'count_tokens') return 'anthropic';
  if (endpoint === 'models') return clientErrorShape(req);
  return 'openai';
}

/**
 * A request handler that answers API paths and returns false for anything else.
 *
 * @example const api = createApiHandler(px); server.on('request', (req, res) => api(req, res) || app(req, res));
 */
export function createApiHandler(px: ProxyContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  /** Keeps a handler's promise until it settles, so close() can wait for its ledger record. */
  const track = (handler: Promise<unknown>): void => {
    px.pending.add(handler);
    void handler.finally(() => px.pending.delete(handler));
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const match = matchApiPath(path);
    if (!match) return false;
    const receivedAt = performance.now();
    const shape = errorShapeFor(match.endpoint, req);
    px.metrics.inFlight.inc();
    // `on`, not `once`, for events a request's objects emit once ('close', 'end'): `once` wraps each
    // listener in a closure and removes it again, a per-request cost on the hot path (issue 15).
    res.on('close', () => px.metrics.inFlight.dec());
    const fail = (error: unknown): void => {
      if (error instanceof BodyAbortedError) return;
      const proxyError = toProxyError(error);
      px.metrics.observeError(match.endpoint, proxyError.status, proxyError.code);
      if (proxyError.status >= 500) px.logger.error(proxyError.message);
      sendError(res, shape, proxyError);
    };
    /** Answers `error` once the upload is over, so the client is still listening for it. */
    const refuse = (error: ProxyError): void => {
      track(discardBody(req).then(() => fail(error)));
    };
    const route = px.routes.find(match.routeId);
    if (!route) {
      refuse(unknownRoute(match.routeId ?? ''));
      return true;
    }
    const http = { req, res };
    let azureDeployment: string | undefined;
    if (match.azureDeployment !== undefined) {
      const addressed = addressedDeployment(route, match.azureDeployment, match.subpath);
      if (addressed instanceof Error) {
        refuse(addressed);
        return true;
      }
      azureDeployment = addressed;
    }
    if (match.endpoint === 'models') {
      const subpath = match.subpath;
      if (req.method !== 'GET') fail(new MethodNotAllowedError(['GET'], `/models${subpath ?? ''}`));
      else track((subpath === undefined ? serveModels(px, http, route) : serveModel(px, http, route, subpath)).catch(fail));
      return true;
    }
    if (match.endpoint === 'response') {
      const subpath = match.subpath ?? '';
      // Read whatever the method: a body the client sent goes on with it (a proxy does not drop one).
      track(readRequestBody(req, px.config.maxBodyBytes).then((raw) => serveResponseOperation(px, http, route, subpath, raw)).catch(fail));
      return true;
    }
    if (req.method !== 'POST') {
      refuse(new MethodNotAllowedError(['POST'], path));
      return true;
    }
    if (match.endpoint === 'deployment') {
      // Audio uploads are multipart: the body goes as the client sent it, whatever its type.
      const deployment = azureDeployment!;
      track(readRequestBody(req, px.config.maxBodyBytes).then((raw) => serveDeploymentPassthrough(px, http, route, deployment, match.subpath!, raw)).catch(fail));
      return true;
    }
    const notJson = jsonContentTypeError(req.headers['content-type']);
    if (notJson) {
      refuse(notJson);
      return true;
    }
    const api = ENGINE_APIS[match.endpoint];
    const served = readRequestBody(req, px.config.maxBodyBytes).then((raw) =>
      api
        ? serveEngineRequest(px, http, api, route, raw, receivedAt, azureDeployment)
        : servePassthroughPost(px, http, match.endpoint as 'count_tokens' | 'embeddings', route, raw),
    );
    track(served.catch(fail));
    return true;
  };
}
