/**
 * What the ledger records for a route: route ids are capabilities (whoever knows one can spend the
 * route's keys), so `/isartor/stats` and `ledger.jsonl` carry a short one-way label instead.
 */
import { createHash } from 'node:crypto';

/** The id of the default route, which grants nothing beyond the root path and is kept as is. */
const DEFAULT_ROUTE = 'default';

/** A route id as stored before labels: 16 to 128 id characters. */
const RAW_ROUTE_ID = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * "r-" and the first 8 hex digits of the id's sha256: enough to tell a handful of routes apart,
 * far too little to find the id.
 *
 * @example routeLabel('0123456789abcdef0123456789abcdef') // "r-" + 8 hex digits
 */
export function routeLabel(routeId: string): string {
  if (routeId === DEFAULT_ROUTE) return routeId;
  return `r-${createHash('sha256').update(routeId).digest('hex').slice(0, 8)}`;
}

/** Labels a route id read from an older ledger line; labels and "default" pass unchanged. */
export function relabelStoredRouteId(value: string): string {
  return RAW_ROUTE_ID.test(value) ? routeLabel(value) : value;
}
