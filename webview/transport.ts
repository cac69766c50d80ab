/**
 * How the savings page talks to its host. The same bundle runs in two places: a VS Code webview
 * (postMessage) and a browser tab served by `isartor serve` (fetch + server-sent events); main.ts
 * picks one at start and speaks the typed protocol of protocol.ts over it either way.
 */
import type { IpcMessage } from './protocol';
import { createHttpTransport } from './transportHttp';
import { createVsCodeTransport, inVsCodeWebview } from './transportVsCode';

export interface PanelTransport {
  /** Sends a command or a request to the host. */
  send(message: IpcMessage): void;
  /** Delivers every message from the host: responses and notifications. */
  onMessage(listener: (message: IpcMessage) => void): void;
}

/** The VS Code transport inside a webview, the HTTP one in a browser tab. */
export function pickTransport(): PanelTransport {
  return inVsCodeWebview() ? createVsCodeTransport() : createHttpTransport(document, window.location);
}
