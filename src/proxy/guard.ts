/**
 * Keeps web pages out of a loopback proxy: a page could otherwise reach 127.0.0.1 through DNS
 * rebinding (a Host that is not loopback) or a cross-site request (any Origin at all: sandboxed
 * iframes send `null`, local files `file://`, browser extensions their own scheme), and spend the
 * keys configured for the default route.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIPv4 } from 'node:net';

/** The hostname of a Host header or of an origin URL, lower-cased, without the port. */
function hostnameOf(value: string): string {
  const host = value.includes('://') ? value.slice(value.indexOf('://') + 3) : value;
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  if (bracket !== -1) return host.slice(0, bracket + 1).toLowerCase();
  return host.split(':')[0]!.split('/')[0]!.toLowerCase();
}

/**
 * Whether `host` (an address or host name, IPv6 with or without brackets) names this machine's
 * loopback interface: `localhost`, any of 127.0.0.0/8, or ::1 (also IPv4-mapped).
 *
 * @example isLoopbackHost('127.0.0.2') // true
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return isIPv4(mapped[1]!) && mapped[1]!.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

/** Verdicts for the last few Host headers and bound hosts: a client sends the same one every time. */
const recentLoopbackVerdicts = new Map<string, boolean>();

/** `isLoopbackHost` of a bound host (`bound`) or of a Host header's name, remembered for the last 32. */
function namesLoopback(value: string, kind: 'bound' | 'header'): boolean {
  const key = `${kind}\n${value}`;
  let verdict = recentLoopbackVerdicts.get(key);
  if (verdict === undefined) {
    verdict = isLoopbackHost(kind === 'bound' ? value : hostnameOf(value));
    if (recentLoopbackVerdicts.size >= 32) recentLoopbackVerdicts.delete(recentLoopbackVerdicts.keys().next().value!);
    recentLoopbackVerdicts.set(key, verdict);
  }
  return verdict;
}

/** An origin as browsers send it and users write it: lower case, no trailing slash. */
function normaliseOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** Whether `origin` (an Origin header) is one of the origins the user allowed. */
export function isAllowedOrigin(origin: string, allowedOrigins: readonly string[]): boolean {
  const normalised = normaliseOrigin(origin);
  return allowedOrigins.some((allowed) => normaliseOrigin(allowed) === normalised);
}

/**
 * Why a request must be refused, or undefined when it may pass.
 * - Host: when the proxy is bound to a loopback address, the request must be addressed to a
 *   loopback name (someone who binds elsewhere has chosen to be reachable).
 * - Origin: only browsers send it, and no browser page is a client of this proxy, so any Origin
 *   is refused unless it is on `allowedOrigins` or is the proxy's own origin (its own pages).
 *
 * @example refusalReason({ host: '127.0.0.1:8787', origin: 'null' }, '127.0.0.1', []) // "…web pages…"
 */
export function refusalReason(headers: IncomingHttpHeaders, boundHost: string, allowedOrigins: readonly string[] = []): string | undefined {
  const host = headers.host;
  const loopbackBound = namesLoopback(boundHost, 'bound');
  if (loopbackBound && host && !namesLoopback(host, 'header')) {
    return `Isartor only answers requests addressed to a loopback address or localhost (this one was for "${hostnameOf(host)}").`;
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (isAllowedOrigin(origin, allowedOrigins)) return undefined;
  const normalised = normaliseOrigin(origin);
  // Its own pages (same scheme, host and port as the request) are the proxy's, not a foreign site's.
  if (loopbackBound && host && normalised === `http://${host.toLowerCase()}`) return undefined;
  return `Isartor does not answer requests from web pages or browser contexts (Origin "${origin.slice(0, 100)}"). If you trust that origin, add it to security.allowedOrigins (or pass --allow-origin to isartor serve).`;
}
