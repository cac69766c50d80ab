/**
 * CORS for the origins a user trusted with `--allow-origin` (security.allowedOrigins): a page on
 * such an origin may call the API (not the savings page or its controls) from a browser, so it gets the preflight answer and the
 * response headers a browser needs to hand it the answer. Every other origin is refused earlier
 * by the guard (guard.ts) and gets no CORS header at all; the proxy's own pages are same-origin.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { isAllowedOrigin } from './guard';

/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** The methods the API and the side routes answer. */
const ALLOWED_METHODS = 'GET, POST, DELETE';

/**
 * Request headers a page may send: whatever its preflight asks for, when that is a list of header
 * names. The SDKs send their own (`x-stainless-*`, `anthropic-version`, …), so a fixed list would
 * break the next SDK release; the guard has already decided that the origin is trusted.
 */
const HEADER_NAME_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const MAX_REQUESTED_HEADERS_CHARS = 4096;

/** The request's Origin when it is one the user allowed, else undefined. */
export function trustedCorsOrigin(headers: IncomingHttpHeaders, allowedOrigins: readonly string[]): string | undefined {
  const origin = headers.origin;
  if (origin === undefined || allowedOrigins.length === 0) return undefined;
  return isAllowedOrigin(origin, allowedOrigins) ? origin : undefined;
}

/**
 * Answers a CORS preflight from a trusted origin with 204 and returns true; returns false for any
 * other request. The answer grants only what the preflight asked for.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, origin: string): boolean {
  const requestedMethod = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || requestedMethod === undefined) return false;
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network',
  };
  const requestedHeaders = req.headers['access-control-request-headers'];
  if (requestedHeaders !== undefined && requestedHeaders.length <= MAX_REQUESTED_HEADERS_CHARS && HEADER_NAME_LIST.test(requestedHeaders.trim())) {
    headers['access-control-allow-headers'] = requestedHeaders.trim();
  }
  // Chrome's Private Network Access: a page served from a public address asks before it may reach
  // a loopback one. The user named this origin, so the answer is yes.
  if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
  res.writeHead(204, headers);
  res.end();
  req.resume();
  return true;
}

/**
 * Lets a trusted origin's page read the response and its headers (`x-isartor-layer`, the
 * provider's request id, `retry-after`). Set before any handler runs: `writeHead` merges them
 * with the handler's own headers. No credentials are allowed, so `*` exposes every header.
 */
export function allowCorsResponse(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', '*');
  res.setHeader('vary', 'Origin');
}
