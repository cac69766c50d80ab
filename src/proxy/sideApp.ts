/**
 * The express app for everything that is not an API call: health, metrics, stats, the savings
 * page and a JSON 404. Loaded on the first such request (app.ts), so start-up and the API path
 * never initialise express, its body parsers and mime tables (~25 ms of CPU at each start).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ProxyContext } from './context';
import { clientErrorShape, ProxyError, sendError, toProxyError } from './errors';
import { createSavingsPage } from './savingsPage';

/** The express app for everything that is not an API call. */
export function createSideApp(px: ProxyContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', px.metrics.registry.contentType).send(await px.metrics.registry.metrics());
  });
  app.get('/isartor/stats', async (_req, res) => {
    res.json(await px.engine.freshStats());
  });
  app.use(createSavingsPage(px));
  app.use((req: Request, res: Response) => {
    sendError(res, clientErrorShape(req), new ProxyError(404, 'not_found', `Isartor has no endpoint ${req.method} ${req.path}. It serves /v1/chat/completions, /v1/responses, /v1/messages, /v1/completions, /v1/embeddings, /v1/models, /v1/models/{id} and /v1/messages/count_tokens.`));
  });
  // Express's default error page is HTML; clients of this proxy expect JSON.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    px.logger.error(`unhandled proxy error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    sendError(res, 'openai', toProxyError(error));
  });
  return app;
}
