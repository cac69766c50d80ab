/**
 * Keeps web pages out of the proxy: a page could otherwise reach it through DNS rebinding (a Host
 * name of the attacker's that resolves to 127.0.0.1 or to this machine's LAN address) or a
 * cross-site request (any Origin at all: sandboxed iframes send `null`, local files `file://`,
 * browser extensions their own scheme), read its stats and spend the keys configured for the
 * default route.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIPv4 } from 'node:net';
import { isAllowedHostName, normaliseHostName, reachableName } from './hostNames';

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

/** Remembered verdicts are few: a client sends the same Host every time, and a proxy has one bound host. */
const REMEMBERED = 32;

/** `decide()`, remembered in `memo` under `key` for the last REMEMBERED keys. */
function remembered(memo: Map<string, boolean>, key: string, decide: () => boolean): boolean {
  let verdict = memo.get(key);
  if (verdict === undefined) {
    verdict = decide();
    if (memo.size >= REMEMBERED) memo.delete(memo.keys().next().value!);
    memo.set(key, verdict);
  }
  return verdict;
}

const boundVerdicts = new Map<string, boolean>();

function boundToLoopback(boundHost: string): boolean {
  return remembered(boundVerdicts, boundHost, () => isLoopbackHost(boundHost));
}

/** Host-header verdicts per allow list (the configuration's own array) and kind of bind: loopback, reachable. */
const hostVerdicts = new WeakMap<readonly string[], [loopback: Map<string, boolean>, reachable: Map<string, boolean>]>();

/** Allow lists are compared by identity: one constant for "none", not a new array per call. */
const NO_HOSTS: readonly string[] = Object.freeze([]);

/**
 * Whether a request with this Host header may reach the proxy. On a loopback bind it must name
 * loopback; on any other bind an IP address or this machine's name (hostNames.ts). On either, a
 * name the user allowed passes.
 */
function hostAccepted(host: string, loopbackBound: boolean, allowedHosts: readonly string[]): boolean {
  let memos = hostVerdicts.get(allowedHosts);
  if (!memos) {
    memos = [new Map(), new Map()];
    hostVerdicts.set(allowedHosts, memos);
  }
  return remembered(memos[loopbackBound ? 0 : 1], host, () => {
    const name = hostnameOf(host);
    return loopbackBound ? isLoopbackHost(name) || isAllowedHostName(normaliseHostName(name), allowedHosts) : reachableName(name, allowedHosts);
  });
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
 *   loopback name; bound elsewhere, to an IP address or this machine's name. DNS rebinding needs a
 *   DNS name of the attacker's, so either keeps it out. `allowedHosts` (`--allow-host`) adds
 *   names: a load balancer's, a DNS name for the machine.
 * - Origin: only browsers send it, and no browser page is a client of this proxy, so any Origin
 *   is refused unless it is on `allowedOrigins` or is the proxy's own origin (its own pages).
 *
 * @example refusalReason({ host: '127.0.0.1:8787', origin: 'null' }, '127.0.0.1', []) // "…web pages…"
 */
export function refusalReason(headers: IncomingHttpHeaders, boundHost: string, allowedOrigins: readonly string[] = [], allowedHosts: readonly string[] = NO_HOSTS): string | undefined {
  const host = headers.host;
  const loopbackBound = boundToLoopback(boundHost);
  if (host && !hostAccepted(host, loopbackBound, allowedHosts)) {
    const named = `(this one was for "${hostnameOf(host).slice(0, 100)}"). To trust that name, pass --allow-host NAME to isartor serve (or add it to security.allowedHosts).`;
    if (loopbackBound) return `Isartor only answers requests addressed to a loopback address or localhost ${named}`;
    return `Isartor only answers requests addressed to an IP address, localhost or this machine's name ${named}`;
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (isAllowedOrigin(origin, allowedOrigins)) return undefined;
  const normalised = normaliseOrigin(origin);
  // Its own pages (same scheme, host and port as the request) are the proxy's, not a foreign site's:
  // the Host check above already refused every name a rebinding page could use, on any bind.
  if (host && normalised === `http://${host.toLowerCase()}`) return undefined;
  return `Isartor does not answer requests from web pages or browser contexts (Origin "${origin.slice(0, 100)}"). If you trust that origin, add it to security.allowedOrigins (or pass --allow-origin to isartor serve).`;
}
