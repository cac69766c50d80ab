/**
 * The proxy's request listener: the loopback guard, then the API hot path, then an express app for
 * health, metrics, stats and a JSON 404 for everything else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApiHandler, errorShapeFor } from './api-handler';
import { discardBody } from './body';
import type { ProxyContext } from './context';
import { allowCorsResponse, answerPreflight, trustedCorsOrigin } from './cors';
import { clientErrorShape, ProxyError, sendError, toProxyError } from './errors';
import { refusalReason } from './guard';
import { matchApiPath } from './routes';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const HEALTHY = Buffer.from(JSON.stringify({ status: 'ok' }));

/**
 * Answers `GET /healthz` as the side app's route does (express's `res.json`: same status, headers
 * and body), so health checks polling a fresh start do not wait for express to initialise. Other
 * spellings express would match ("/HEALTHZ", "/healthz/") still go to it.
 */
function answerHealth(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url ?? '/';
  if (url !== '/healthz' && !url.startsWith('/healthz?')) return false;
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': HEALTHY.length });
  res.end(req.method === 'HEAD' ? undefined : HEALTHY);
  return true;
}

/**
 * The listener for one proxy instance.
 *
 * @example http.createServer(createProxyListener(px)).listen(0, '127.0.0.1')
 */
export function createProxyListener(px: ProxyContext): Handler {
  const api = createApiHandler(px);
  // Built on the first request that is not an API call: see sideApp.ts.
  let side: Promise<Handler> | undefined;
  const sideApp = (): Promise<Handler> =>
    (side ??= import('./sideApp').then(({ createSideApp }) => {
      const app = createSideApp(px);
      return (req, res) => void app(req, res);
    }));
  return (req, res) => {
    const refusal = refusalReason(req.headers, px.config.host, px.config.security.allowedOrigins, px.config.security.allowedHosts);
    if (refusal) {
      px.metrics.observeError('guard', 403, 'forbidden_origin');
      const match = matchApiPath((req.url ?? '/').split('?')[0]!);
      const shape = match ? errorShapeFor(match.endpoint, req) : clientErrorShape(req);
      void discardBody(req).then(() => sendError(res, shape, new ProxyError(403, 'forbidden_origin', refusal)));
      return;
    }
    // CORS covers the API only: the savings page's controls stay with the page itself.
    const corsOrigin = trustedCorsOrigin(req.headers, px.config.security.allowedOrigins);
    if (corsOrigin !== undefined && matchApiPath((req.url ?? '/').split('?')[0]!) !== undefined) {
      if (answerPreflight(req, res, corsOrigin)) return;
      allowCorsResponse(res, corsOrigin);
    }
    if (api(req, res) || answerHealth(req, res)) return;
    sideApp().then(
      (app) => app(req, res),
      (error: unknown) => sendError(res, 'openai', toProxyError(error)),
    );
  };
}
