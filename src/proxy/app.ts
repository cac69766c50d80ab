/**
 * The express application: health, metrics and stats endpoints, and one dispatcher for every
 * OpenAI/Anthropic endpoint under the root, `/v1` and `/r/<routeId>/`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { ApiStyle } from '../core/request';
import type { ProxyContext } from './context';
import { serveEngineRequest } from './engine-route';
import { ProxyError, bodyTooLarge, sendError, toProxyError, unknownRoute, type ErrorShape } from './errors';
import { refusalReason } from './guard';
import { serveModels, servePassthroughPost } from './passthrough';
import { matchApiPath, type ApiEndpoint } from './routes';

const ENGINE_APIS: Partial<Record<ApiEndpoint, ApiStyle>> = {
  chat: 'openai.chat',
  completions: 'openai.completions',
  messages: 'anthropic.messages',
};

/** Anthropic endpoints answer errors in Anthropic's shape; `models` follows the client's headers. */
function errorShapeFor(endpoint: ApiEndpoint, req: Request): ErrorShape {
  if (endpoint === 'messages' || endpoint === 'count_tokens') return 'anthropic';
  if (endpoint === 'models' && req.headers['anthropic-version']) return 'anthropic';
  return 'openai';
}

/** body-parser's failures as ProxyErrors. */
function bodyReadError(error: unknown, limit: number): ProxyError | undefined {
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') return bodyTooLarge(limit);
  if (type === 'request.aborted') return undefined;
  if (type === 'encoding.unsupported') {
    return new ProxyError(415, 'unsupported_encoding', 'The request body uses a Content-Encoding this proxy cannot read; send it uncompressed, gzip or deflate.');
  }
  return new ProxyError(400, 'unreadable_body', `The request body could not be read (${error instanceof Error ? error.message : String(error)}).`);
}

/**
 * Builds the app for one proxy instance.
 *
 * @example http.createServer(createProxyApp(px)).listen(0, '127.0.0.1')
 */
export function createProxyApp(px: ProxyContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const readBody = express.raw({ type: () => true, limit: px.config.maxBodyBytes });
  /** Keeps a handler's promise until it settles, so close() can wait for its ledger record. */
  const track = (handler: Promise<unknown>): void => {
    px.pending.add(handler);
    void handler.finally(() => px.pending.delete(handler));
  };

  app.use((req: Request, res: Response, next: NextFunction) => {
    const refusal = refusalReason(req.headers, px.config.host);
    if (!refusal) return next();
    px.metrics.observeError('guard', 403, 'forbidden_origin');
    sendError(res, 'openai', new ProxyError(403, 'forbidden_origin', refusal));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', px.metrics.registry.contentType).send(await px.metrics.registry.metrics());
  });
  app.get('/isartor/stats', (_req, res) => {
    res.json(px.engine.stats());
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const match = matchApiPath(req.path);
    if (!match) return next();
    const receivedAt = performance.now();
    const shape = errorShapeFor(match.endpoint, req);
    px.metrics.inFlight.inc();
    res.once('close', () => px.metrics.inFlight.dec());
    const fail = (error: unknown): void => {
      const proxyError = toProxyError(error);
      px.metrics.observeError(match.endpoint, proxyError.status, proxyError.code);
      if (proxyError.status >= 500) px.logger.error(proxyError.message);
      sendError(res, shape, proxyError);
    };
    const route = px.routes.find(match.routeId);
    if (!route) return fail(unknownRoute(match.routeId ?? ''));
    const http = { req, res };
    if (match.endpoint === 'models') {
      if (req.method !== 'GET') return fail(new ProxyError(405, 'method_not_allowed', 'Use GET for /models.'));
      track(serveModels(px, http, route).catch(fail));
      return;
    }
    if (req.method !== 'POST') return fail(new ProxyError(405, 'method_not_allowed', `Use POST for ${req.path}.`));
    readBody(req, res, (readError?: unknown) => {
      if (readError) {
        const proxyError = bodyReadError(readError, px.config.maxBodyBytes);
        if (proxyError) fail(proxyError);
        return;
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const api = ENGINE_APIS[match.endpoint];
      const served = api
        ? serveEngineRequest(px, http, api, route, raw, receivedAt)
        : servePassthroughPost(px, http, match.endpoint as 'count_tokens' | 'embeddings', route, raw);
      track(served.catch(fail));
    });
  });

  app.use((req: Request, res: Response) => {
    sendError(res, 'openai', new ProxyError(404, 'not_found', `Isartor has no endpoint ${req.method} ${req.path}. It serves /v1/chat/completions, /v1/messages, /v1/completions, /v1/embeddings, /v1/models and /v1/messages/count_tokens.`));
  });
  // Express's default error page is HTML; clients of this proxy expect JSON.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    px.logger.error(`unhandled proxy error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    sendError(res, 'openai', toProxyError(error));
  });
  return app;
}
