/**
 * Keeps web pages out of a loopback proxy: a page could otherwise reach 127.0.0.1 through DNS
 * rebinding (a Host that is not loopback) or a cross-site request (an Origin that is not), and
 * spend the keys configured for the default route.
 */
import type { IncomingHttpHeaders } from 'node:http';

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The hostname of a Host header or of an origin URL, lower-cased, without the port. */
function hostnameOf(value: string): string {
  const host = value.includes('://') ? value.slice(value.indexOf('://') + 3) : value;
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  if (bracket !== -1) return host.slice(0, bracket + 1).toLowerCase();
  return host.split(':')[0]!.split('/')[0]!.toLowerCase();
}

/**
 * Why a request must be refused, or undefined when it may pass. Only applies when the proxy is
 * bound to loopback (someone who binds elsewhere has chosen to be reachable).
 *
 * @example refusalReason({ host: 'evil.example:8787' }, '127.0.0.1') // "…Host…"
 */
export function refusalReason(headers: IncomingHttpHeaders, boundHost: string): string | undefined {
  if (!LOOPBACK_HOSTNAMES.has(boundHost)) return undefined;
  const host = headers.host;
  if (host && !LOOPBACK_HOSTNAMES.has(hostnameOf(host))) {
    return `Isartor only answers requests addressed to 127.0.0.1 or localhost (this one was for "${hostnameOf(host)}").`;
  }
  const origin = headers.origin;
  // VS Code webviews and editors send their own schemes; only web origins on other hosts are refused.
  if (origin && /^https?:\/\//i.test(origin) && !LOOPBACK_HOSTNAMES.has(hostnameOf(origin))) {
    return `Isartor does not answer requests from web pages (origin ${origin}).`;
  }
  return undefined;
}
