/**
 * Reads what the proxy needs from an incoming HTTP request: flat lower-case headers, the query
 * string, the client's cache directives and the body as JSON.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { CacheDirectives, JsonValue } from '../core/request';
import { ProxyError, malformedJson } from './errors';
import { parseUtf8Json } from './utf8Json';

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

/**
 * Deepest nesting of arrays and objects a request body may have. Real requests stay far below it
 * (tool schemas nest a few dozen levels); the layers that canonicalise and hash a body recurse, and
 * a body nested thousands deep would overflow their stack.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether `value` nests arrays and objects deeper than `max`. Iterative (an explicit stack), so a
 * body nested a million deep is measured, not recursed into; JSON.parse itself does not recurse.
 */
export function nestsDeeperThan(value: JsonValue, max: number): boolean {
  const nodes: JsonValue[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    if (Array.isArray(node)) {
      for (const child of node) {
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const child = node[key]!;
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** Parses a request body; throws a 400 ProxyError that quotes the parser's complaint. */
export function parseJsonBody(raw: Buffer): JsonValue {
  if (raw.length === 0) throw malformedJson('the body is empty');
  // Decoding would turn broken bytes into U+FFFD: the model would read other text than was sent, and
  // two different bodies could share one exact-cache key. JSON on the wire is UTF-8 (RFC 8259).
  if (!isUtf8(raw)) {
    throw new ProxyError(400, 'invalid_utf8', 'The request body is not valid UTF-8. Send JSON encoded as UTF-8 (JSON text on the wire must be).');
  }
  let value: JsonValue;
  try {
    value = parseUtf8Json(raw) as JsonValue;
  } catch (error) {
    throw malformedJson(error instanceof Error ? error.message : String(error));
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new ProxyError(400, 'json_too_deep', `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; no API request needs that. Flatten it and retry.`);
  }
  return value;
}
