/**
 * The proxy's request listener: the loopback guard, then the API hot path, then an express app for
 * health, metrics, stats and a JSON 404 for everything else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createApiHandler, errorShapeFor } from './api-handler';
import { discardBody } from './body';
import type { ProxyContext } from './context';
import { ProxyError, sendError, toProxyError } from './errors';
import { refusalReason } from './guard';
import { matchApiPath } from './routes';
import { createSavingsPage } from './savingsPage';

/** The express app for everything that is not an API call. */
function createSideApp(px: ProxyContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', px.metrics.registry.contentType).send(await px.metrics.registry.metrics());
  });
  app.get('/isartor/stats', (_req, res) => {
    res.json(px.engine.stats());
  });
  app.use(createSavingsPage(px));
  app.use((req: Request, res: Response) => {
    sendError(res, 'openai', new ProxyError(404, 'not_found', `Isartor has no endpoint ${req.method} ${req.path}. It serves /v1/chat/completions, /v1/responses, /v1/messages, /v1/completions, /v1/embeddings, /v1/models and /v1/messages/count_tokens.`));
  });
  // Express's default error page is HTML; clients of this proxy expect JSON.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    px.logger.error(`unhandled proxy error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendError(res, 'openai', toProxyError(error));
  });
  return app;
}

/**
 * The listener for one proxy instance.
 *
 * @example http.createServer(createProxyListener(px)).listen(0, '127.0.0.1')
 */
export function createProxyListener(px: ProxyContext): (req: IncomingMessage, res: ServerResponse) => void {
  const api = createApiHandler(px);
  const app = createSideApp(px);
  return (req, res) => {
    const refusal = refusalReason(req.headers, px.config.host, px.config.security.allowedOrigins);
    if (refusal) {
      px.metrics.observeError('guard', 403, 'forbidden_origin');
      const match = matchApiPath((req.url ?? '/').split('?')[0]!);
      const shape = match ? errorShapeFor(match.endpoint, req) : 'openai';
      void discardBody(req).then(() => sendError(res, shape, new ProxyError(403, 'forbidden_origin', refusal)));
      return;
    }
    if (!api(req, res)) void app(req, res);
  };
}
