/**
 * The savings page's transport in a browser tab served by `isartor serve` (src/proxy/savingsPage.ts):
 * commands and requests are POSTed as protocol messages, snapshots arrive as server-sent events.
 * Every call carries the per-start token the server embedded in the page, so a page on another
 * origin (which cannot read this page) cannot drive the proxy.
 */
import type { IpcMessage } from './protocol';
import { createMessage, ResponseMethod, SnapshotNotification } from './protocol';
import type { PanelTransport } from './transport';
import { SAVINGS_EVENT_SNAPSHOT, SAVINGS_TOKEN_HEADER, SAVINGS_TOKEN_META, savingsPaths } from './transportHttpRoutes';

export function createHttpTransport(doc: Document, location: Location): PanelTransport {
  const token = doc.querySelector<HTMLMetaElement>(`meta[name="${SAVINGS_TOKEN_META}"]`)?.content ?? '';
  const paths = savingsPaths(location.pathname);
  const listeners: ((message: IpcMessage) => void)[] = [];
  const deliver = (message: IpcMessage): void => listeners.forEach((listener) => listener(message));
  let counter = 0;

  const events = new EventSource(`${paths.events}?token=${encodeURIComponent(token)}`);
  events.addEventListener(SAVINGS_EVENT_SNAPSHOT, (event) => {
    deliver(createMessage(SnapshotNotification, `sse-${++counter}`, JSON.parse((event as MessageEvent<string>).data)));
  });

  return {
    send(message) {
      void fetch(paths.command, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SAVINGS_TOKEN_HEADER]: token },
        body: JSON.stringify(message),
        credentials: 'omit',
      })
        .then(async (response) => {
          // Requests are answered with a protocol response; commands with 204.
          if (response.status === 204) return;
          const body = (await response.json()) as IpcMessage | { error?: { message?: string } };
          if ('method' in body) deliver(body);
          else deliver({ id: `http-${++counter}`, method: ResponseMethod, completionId: message.id, params: { ok: false, error: body.error?.message ?? `HTTP ${response.status}` } });
        })
        .catch((error: unknown) => {
          deliver({ id: `http-${++counter}`, method: ResponseMethod, completionId: message.id, params: { ok: false, error: error instanceof Error ? error.message : String(error) } });
        });
    },
    onMessage(listener) {
      listeners.push(listener);
    },
  };
}
