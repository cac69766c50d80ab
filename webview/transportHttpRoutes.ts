/**
 * The HTTP surface of the browser savings page, shared by the server (src/proxy/savingsPage.ts)
 * and the page's transport (transportHttp.ts) so the two cannot drift apart.
 */

/** Where the page lives on a running `isartor serve`. */
export const SAVINGS_PAGE_PATH = '/isartor/';
/** The meta tag that carries the per-start token into the page (no inline script needed). */
export const SAVINGS_TOKEN_META = 'isartor-token';
/** The header every POST carries the token in; EventSource cannot set headers, so it uses `?token=`. */
export const SAVINGS_TOKEN_HEADER = 'x-isartor-token';
/** The server-sent event that carries a whole PanelSnapshot as JSON. */
export const SAVINGS_EVENT_SNAPSHOT = 'snapshot';

/** The page's endpoints, relative to where the page itself was served. */
export function savingsPaths(pagePath: string = SAVINGS_PAGE_PATH): { command: string; events: string; script: string; style: string; theme: string } {
  const base = pagePath.endsWith('/') ? pagePath : `${pagePath}/`;
  return { command: `${base}command`, events: `${base}events`, script: `${base}webview.js`, style: `${base}webview.css`, theme: `${base}theme.css` };
}
