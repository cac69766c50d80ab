/**
 * The savings page in a browser, for terminal users of `isartor serve`: the VS Code panel's own
 * webview bundle at /isartor/, talking the panel protocol (webview/protocol.ts) over POST + server-sent
 * events instead of postMessage. The proxy's loopback guard (guard.ts) runs before this; on top of it
 * every call but the page itself needs the per-start token embedded in the page and must come from
 * the page's own origin, so another page (another origin, another loopback port) can neither read
 * the figures nor switch a layer or clear the cache.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { PanelSnapshot } from '../../webview/protocol';
import { ClearCacheCommand, GetSnapshotRequest, isMessageOf, parseWebviewMessage, ResponseMethod, SetLayerCommand } from '../../webview/protocol';
import { SAVINGS_EVENT_SNAPSHOT, SAVINGS_PAGE_PATH, SAVINGS_TOKEN_HEADER, SAVINGS_TOKEN_META, savingsPaths } from '../../webview/transportHttpRoutes';
import { throttle } from '../extension/events';
import { buildPanelSnapshot } from '../extension/lifecycle/snapshot';
import type { ProxyContext } from './context';
import { ProxyError, sendError } from './errors';
import { BROWSER_THEME_CSS } from './savingsTheme';

/** Scripts, styles and connections only from the proxy itself; no frames, forms or base changes. */
export const SAVINGS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Live updates are folded to at most one snapshot per interval, as in the VS Code panel. */
const UPDATE_INTERVAL_MS = 500;
/** A comment line keeps idle event streams open through proxies and lets dead ones be noticed. */
const HEARTBEAT_MS = 25_000;
const MAX_COMMAND_BYTES = 16 * 1024;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

export interface SavingsPageOptions {
  /** Folder holding webview.js and webview.css (scripts/build.mjs output); found next to the bundle by default. */
  assetDir?: string;
  /** The per-start token; random unless a test fixes one. */
  token?: string;
}

/** dist/ when running from the bundle (dist/cli.js, dist/extension.js); ../../dist from the sources under tsx. */
function defaultAssetDir(): string {
  const candidates = [__dirname, join(__dirname, '..', '..', 'dist')];
  return candidates.find((dir) => existsSync(join(dir, 'webview.js'))) ?? candidates[0]!;
}

function sameToken(given: unknown, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

/**
 * Why a call to the page's endpoints must be refused, or undefined. Browsers mark every fetch with
 * Sec-Fetch-Site and Origin; a call from any other origin (another loopback port included) is refused
 * even before the token is looked at. Clients that send neither (curl) still need the token.
 */
function callRefusal(req: IncomingMessage, givenToken: unknown, token: string): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `the savings page only answers itself (Sec-Fetch-Site: ${site})`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return `the savings page only answers itself (origin ${origin})`;
  if (!sameToken(givenToken, token)) return 'missing or wrong savings page token; reload the page from the URL `isartor serve` printed';
  return undefined;
}

function pageHtml(token: string): string {
  const paths = savingsPaths();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<meta name="${SAVINGS_TOKEN_META}" content="${token}">
<link rel="stylesheet" href="${paths.theme}">
<link rel="stylesheet" href="${paths.style}">
<title>Isartor Savings</title>
</head>
<body>
<main id="app"><p>Loading savings…</p></main>
<script src="${paths.script}"></script>
</body>
</html>`;
}

/**
 * The /isartor/ routes of a proxy: the page, its assets, the command endpoint and the event stream.
 *
 * @example app.use(createSavingsPage(px));
 */
export function createSavingsPage(px: ProxyContext, options: SavingsPageOptions = {}): express.Router {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const assetDir = options.assetDir ?? defaultAssetDir();
  const paths = savingsPaths();
  const streams = new Set<() => void>();
  // Strict: "/isartor" redirects to "/isartor/", which must not match the redirect again.
  const router = express.Router({ strict: true });

  const snapshot = (req: Request): PanelSnapshot => {
    const { config } = px;
    return buildPanelSnapshot({
      host: { state: 'on', url: `http://${req.headers.host ?? `${config.host}:${config.port}`}` },
      enabled: true,
      stats: px.engine.stats(),
      settings: { layers: { exact: config.exact.enabled, semantic: config.semantic.enabled, local: config.local.enabled, optimiser: config.optimiser.enabled }, prices: config.prices },
    });
  };
  const refreshAll = (): void => streams.forEach((push) => push());

  router.get(SAVINGS_PAGE_PATH.slice(0, -1), (_req, res) => res.redirect(SAVINGS_PAGE_PATH));
  router.get(SAVINGS_PAGE_PATH, (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'content-security-policy': SAVINGS_PAGE_CSP, 'x-frame-options': 'DENY', 'content-type': 'text/html; charset=utf-8' });
    res.send(pageHtml(token));
  });
  router.get(paths.theme, (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8' }).send(BROWSER_THEME_CSS);
  });
  for (const [path, file, type] of [
    [paths.script, 'webview.js', 'text/javascript; charset=utf-8'],
    [paths.style, 'webview.css', 'text/css; charset=utf-8'],
  ] as const) {
    router.get(path, (_req, res) => {
      let body: Buffer;
      try {
        body = readFileSync(join(assetDir, file));
      } catch {
        sendError(res, 'openai', new ProxyError(404, 'not_found', `The savings page is not built (no ${file} in ${assetDir}); run npm run build.`));
        return;
      }
      res.set({ ...SECURITY_HEADERS, 'content-type': type }).send(body);
    });
  }

  router.get(paths.events, (req, res) => {
    const refusal = callRefusal(req, req.query.token, token);
    if (refusal) {
      sendError(res, 'openai', new ProxyError(403, 'forbidden', refusal));
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (): void => void res.write(`event: ${SAVINGS_EVENT_SNAPSHOT}\ndata: ${JSON.stringify(snapshot(req))}\n\n`);
    const push = throttle(send, UPDATE_INTERVAL_MS);
    const records = px.engine.ledger.onRecord(() => push());
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    streams.add(push);
    res.on('close', () => {
      streams.delete(push);
      records.dispose();
      push.dispose();
      clearInterval(heartbeat);
    });
    res.write('retry: 2000\n\n');
    push();
  });

  router.post(paths.command, express.json({ limit: MAX_COMMAND_BYTES }), async (req, res) => {
    const refusal = callRefusal(req, req.headers[SAVINGS_TOKEN_HEADER], token);
    if (refusal) {
      sendError(res, 'openai', new ProxyError(403, 'forbidden', refusal));
      return;
    }
    // A JSON content type makes any cross-origin fetch a preflighted one, which this server never approves.
    if (!req.is('application/json')) {
      sendError(res, 'openai', new ProxyError(415, 'unsupported_media_type', 'Send the command as application/json.'));
      return;
    }
    const message = parseWebviewMessage(req.body);
    if (!message) {
      sendError(res, 'openai', new ProxyError(400, 'invalid_request_error', 'Not a savings page command (see webview/protocol.ts).'));
      return;
    }
    res.set(SECURITY_HEADERS);
    if (isMessageOf(message, GetSnapshotRequest)) {
      res.json({ id: `server-${Date.now()}`, method: ResponseMethod, completionId: message.id, params: { ok: true, value: snapshot(req) } });
      return;
    }
    if (isMessageOf(message, SetLayerCommand)) px.engine.setLayerEnabled(message.params.layer, message.params.enabled);
    else if (isMessageOf(message, ClearCacheCommand)) {
      try {
        await px.engine.clearCaches();
      } catch (error) {
        sendError(res, 'openai', new ProxyError(503, 'cache_clear_failed', `Isartor ${error instanceof Error ? error.message : String(error)}. Try again once the shared cache is back.`));
        return;
      }
    } else {
      sendError(res, 'openai', new ProxyError(409, 'not_available', 'Enable/Disable and the log belong to the VS Code extension; in a terminal, stop `isartor serve` with Ctrl-C and read its log on stderr.'));
      return;
    }
    px.logger.info(`savings page: ${message.method} ${JSON.stringify(message.params)}`);
    refreshAll();
    res.status(204).end();
  });
  // body-parser's errors (bad JSON, too large) carry their own status; answer them in the API's shape.
  router.use((error: { status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (typeof error.status !== 'number' || error.status < 400 || error.status >= 500) {
      next(error);
      return;
    }
    sendError(res, 'openai', new ProxyError(error.status, 'invalid_request_error', `Bad savings page command: ${error.message ?? 'unreadable body'}`));
  });
  return router;
}
