/**
 * Errors the proxy answers itself, rendered in the error shape of the API the client called
 * (OpenAI `{"error":{…}}`, Anthropic `{"type":"error","error":{…}}`), each saying what to do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NoProviderError, UpstreamTimeoutError, UpstreamUnreachableError } from '../core/upstream/errors';

/** Which API's error object to answer with. */
export type ErrorShape = 'openai' | 'anthropic';

/**
 * The error shape of the client's API when the path names none (an endpoint Isartor does not
 * serve): Anthropic's for a client that says `anthropic-version` (its SDKs always do), else OpenAI's.
 */
export function clientErrorShape(req: IncomingMessage): ErrorShape {
  return req.headers['anthropic-version'] ? 'anthropic' : 'openai';
}

/** An error with the HTTP status and short code the client should see. */
export class ProxyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** 405: the path takes other methods; the response's Allow header names them (RFC 9110 requires it). */
export class MethodNotAllowedError extends ProxyError {
  constructor(
    readonly allowed: readonly string[],
    path: string,
  ) {
    super(405, 'method_not_allowed', `Use ${allowed.join(' or ')} for ${path}.`);
  }
}

const OPENAI_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'invalid_request_error', 413: 'invalid_request_error', 415: 'invalid_request_error' };
const ANTHROPIC_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 413: 'request_too_large', 415: 'invalid_request_error', 504: 'timeout_error' };

/** The JSON error body for `error` in `shape`. */
export function errorBody(shape: ErrorShape, error: ProxyError): object {
  if (shape === 'anthropic') {
    return { type: 'error', error: { type: ANTHROPIC_TYPES[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error'), message: error.message } };
  }
  const type = OPENAI_TYPES[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error');
  return { error: { message: error.message, type, code: error.code, param: error.param } };
}

/** Writes `error` as the response (unless headers already went out, in which case the socket is ended). */
export function sendError(res: ServerResponse, shape: ErrorShape, error: ProxyError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(shape, error));
  const allow = error instanceof MethodNotAllowedError ? { allow: error.allowed.join(', ') } : {};
  res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...allow, ...extraHeaders });
  res.end(body);
}

/** Maps anything the engine or the upstream client threw to a ProxyError. */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error instanceof UpstreamUnreachableError) {
    return new ProxyError(502, error.code, `Isartor ${error.message}. Check the upstream URL and your network connection, then retry.`);
  }
  if (error instanceof UpstreamTimeoutError) {
    return new ProxyError(504, error.code, `${error.message}. Retry, or raise ${error.setting} in the Isartor configuration.`);
  }
  if (error instanceof NoProviderError) {
    return new ProxyError(
      400,
      error.code,
      `${error.message}. Add a provider of that kind to the route (for \`isartor serve\`: ANTHROPIC_API_KEY or --anthropic-upstream for Messages; OPENAI_API_KEY or --upstream for Chat Completions).`,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProxyError(500, 'internal_error', `Isartor failed to handle the request: ${message}. The proxy is still running; see its log for details.`);
}

/** Error for a body that did not parse as JSON. */
export function malformedJson(detail: string): ProxyError {
  return new ProxyError(400, 'invalid_json', `The request body is not valid JSON (${detail}). Send one JSON object with Content-Type: application/json.`);
}

/** Error for a body over the configured size limit. */
export function bodyTooLarge(limit: number): ProxyError {
  return new ProxyError(
    413,
    'request_too_large',
    `The request body is larger than this proxy's limit of ${limit} bytes. Send a smaller request, or raise maxBodyBytes in the Isartor configuration.`,
  );
}

/** Error for a `/r/<id>` that names no route. Only a short prefix of the id is echoed. */
export function unknownRoute(routeId: string): ProxyError {
  return new ProxyError(
    404,
    'unknown_route',
    `No route "${routeId.slice(0, 6)}…" exists on this Isartor proxy, so nothing was forwarded. Reconnect the tool from the Isartor panel in VS Code (routes change when they are released), or use the default route at /v1.`,
  );
}

/** Error for a request that carries no key when none is configured either. */
export function missingKey(shape: ErrorShape): ProxyError {
  const where = shape === 'anthropic'
    ? 'set ANTHROPIC_API_KEY before `isartor serve`'
    : 'set OPENAI_API_KEY (or AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT) before `isartor serve`';
  return new ProxyError(
    401,
    'missing_api_key',
    `No API key: the request carried no Authorization, x-api-key or api-key header and no key is configured for this upstream. Send your own key, ${where}, or run "Isartor: Set API Key" in VS Code.`,
  );
}
