/**
 * The Host names a proxy bound beyond loopback answers to. DNS rebinding always goes through a DNS
 * name the attacker controls (attacker.example made to resolve to this machine), so an IP literal
 * is safe, and so are this machine's own names and the names the user allowed (`--allow-host`,
 * security.allowedHosts).
 */
import { hostname } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';

/** A host name as Host headers and users write it: lower case, without the FQDN's trailing dot. */
export function normaliseHostName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Whether `name` (a Host header's name: IPv6 in brackets) is an IPv4 or IPv6 address rather than a DNS name. */
export function isIpLiteral(name: string): boolean {
  if (name.startsWith('[') && name.endsWith(']')) return isIPv6(name.slice(1, -1));
  return isIPv4(name);
}

/** Whether `name` is `localhost` or this machine's host name, in full or its first label. */
export function namesThisMachine(name: string): boolean {
  if (name === 'localhost') return true;
  const machine = normaliseHostName(hostname());
  return machine !== '' && (name === machine || name === machine.split('.')[0]);
}

/**
 * Whether `name` is on `allowedHosts`. An entry with a leading dot (`.corp.example`) allows that
 * domain and every subdomain of it.
 *
 * @example isAllowedHostName('proxy.corp.example', ['.corp.example']) // true
 */
export function isAllowedHostName(name: string, allowedHosts: readonly string[]): boolean {
  for (const entry of allowedHosts) {
    const allowed = normaliseHostName(entry);
    if (allowed.startsWith('.') ? name === allowed.slice(1) || name.endsWith(allowed) : name === allowed) return true;
  }
  return false;
}

/**
 * Whether a proxy bound to a non-loopback address answers a request addressed to `name` (lower
 * case, without port).
 */
export function reachableName(name: string, allowedHosts: readonly string[]): boolean {
  const bare = normaliseHostName(name);
  if (bare === '') return false;
  return isIpLiteral(bare) || namesThisMachine(bare) || isAllowedHostName(bare, allowedHosts);
}
