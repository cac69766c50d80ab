/**
 * Upstream URLs split into the origin and path undici's dispatcher takes. undici's top-level
 * `request(url)` parses the URL string into a `URL` on every call; the proxy sends every request
 * of a route to the same few URLs, so each is parsed once here.
 */
import { undiciIfLoaded } from './undici';

export interface ParsedUrl {
  origin: string;
  /** Path and query, as undici builds it from a `URL`. */
  path: string;
}

/** Bounded: a URL varies only with the provider, the endpoint, the client's query and (Azure) the model. */
const MAX_URLS = 256;
const parsed = new Map<string, ParsedUrl>();

/**
 * A path segment that is a dot segment only once decoded (`%2E`, `%2E%2E`, `.%2E`, `%2E.`): how
 * upstreamUrl spells an Azure deployment named "." or "..". WHATWG URL parsing resolves it as a
 * step up the path like a literal "..", which would send the request off the deployment.
 */
const ENCODED_DOT_SEGMENT = /\/(?:(?:\.|%2e)?%2e|%2e\.)(?=[/?]|$)/i;

/**
 * `url` as undici's `request(url)` would split it, with the same errors for an invalid one (once
 * undici is loaded, as it is before the client sends anything: see undici.ts); except that a URL
 * with an encoded dot segment keeps its path as written.
 *
 * @example parseUpstreamUrl('http://127.0.0.1:8080/v1/chat/completions?x=1') // { origin: 'http://127.0.0.1:8080', path: '/v1/chat/completions?x=1' }
 */
export function parseUpstreamUrl(url: string): ParsedUrl {
  let split = parsed.get(url);
  if (split) return split;
  const full = new URL(url); // throws the same TypeError undici's parseURL would
  if (full.protocol !== 'http:' && full.protocol !== 'https:') {
    const message = 'Invalid URL protocol: the URL must start with `http:` or `https:`.';
    const undici = undiciIfLoaded();
    throw undici ? new undici.errors.InvalidArgumentError(message) : new TypeError(message);
  }
  const path = ENCODED_DOT_SEGMENT.test(url) ? url.slice(url.indexOf('/', url.indexOf('//') + 2)) : full.search ? `${full.pathname}${full.search}` : full.pathname;
  split = { origin: full.origin, path };
  if (parsed.size >= MAX_URLS) parsed.clear();
  parsed.set(url, split);
  return split;
}
