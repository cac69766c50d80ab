/**
 * Reads what the proxy needs from an incoming HTTP request: flat lower-case headers, the query
 * string, the client's cache directives and the body as JSON.
 */
import type { IncomingMessage } from 'node:http';
import type { CacheDirectives, JsonValue } from '../core/request';
import { malformedJson } from './errors';

/** Node's headers with repeated values joined, as the upstream client and the layers expect them. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The query string of a request URL, without "?"; "" when there is none. */
export function queryString(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at === -1 ? '' : url!.slice(at + 1);
}

/** `Cache-Control: no-cache / no-store` and the `x-isartor-*: off` switches. */
export function cacheDirectives(headers: Record<string, string>): CacheDirectives {
  const cacheControl = (headers['cache-control'] ?? '').toLowerCase();
  return {
    noCache: /\bno-cache\b/.test(cacheControl),
    noStore: /\bno-store\b/.test(cacheControl),
    semanticOff: (headers['x-isartor-semantic'] ?? '').toLowerCase() === 'off',
    localOff: (headers['x-isartor-local'] ?? '').toLowerCase() === 'off',
  };
}

/** Parses a request body; throws a 400 ProxyError that quotes the parser's complaint. */
export function parseJsonBody(raw: Buffer): JsonValue {
  if (raw.length === 0) throw malformedJson('the body is empty');
  try {
    return JSON.parse(raw.toString('utf8')) as JsonValue;
  } catch (error) {
    throw malformedJson(error instanceof Error ? error.message : String(error));
  }
}
