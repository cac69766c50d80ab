/**
 * The URLs integrations write into tool settings, and how to recognise URLs that already point at
 * a local server (Isartor's proxy from any run, or a model server such as Ollama) and so must not
 * be wrapped in another route.
 */
import { homedir } from 'node:os';

/** The proxy path for a route: the proxy strips `/r/<id>` and forwards the rest to the route's base. */
export function routeUrl(proxyUrl: string, routeId: string): string {
  return `${proxyUrl.replace(/\/+$/, '')}/r/${routeId}`;
}

/** Whether `url` points at this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Whether `url` looks like an Isartor route URL from any port (loopback + `/r/<32 hex>`). */
export function looksLikeRouteUrl(url: string): boolean {
  if (!isLoopbackUrl(url)) return false;
  return /^\/r\/[0-9a-f]{32}(\/|$)/.test(new URL(url).pathname);
}

/** Whether `url` is a route URL of the proxy at `proxyUrl` (and not of another port's). */
export function isRouteOf(url: unknown, proxyUrl: string): boolean {
  return typeof url === 'string' && url.startsWith(`${proxyUrl.replace(/\/+$/, '')}/r/`);
}

/** Whether `url` is an Isartor route URL of another proxy than the one at `proxyUrl` (it moved, or is another window's). */
export function isRouteElsewhere(url: unknown, proxyUrl: string): boolean {
  return typeof url === 'string' && looksLikeRouteUrl(url) && !isRouteOf(url, proxyUrl);
}

/** Removes trailing slashes (route bases are stored without them). */
export function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A path shown to the user with the home folder as "~". */
export function displayPath(path: string, homeDir: string = homedir()): string {
  return path.startsWith(homeDir) ? `~${path.slice(homeDir.length)}` : path;
}

/** Copy-ready base URLs of the proxy's default route, for tools Isartor does not edit. */
export function proxyCopyValues(proxyUrl: string): { label: string; value: string }[] {
  return [
    { label: 'OpenAI-compatible base URL', value: `${proxyUrl}/v1` },
    { label: 'Anthropic base URL', value: proxyUrl },
  ];
}
