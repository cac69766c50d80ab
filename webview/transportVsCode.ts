/** The savings page's transport inside a VS Code webview: postMessage both ways. */
import type { IpcMessage } from './protocol';
import type { PanelTransport } from './transport';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
  getState(): unknown;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

/** True inside a VS Code webview, where the host injects `acquireVsCodeApi`. */
export function inVsCodeWebview(): boolean {
  return typeof acquireVsCodeApi === 'function';
}

export function createVsCodeTransport(): PanelTransport {
  const vscode = acquireVsCodeApi!();
  return {
    send: (message) => vscode.postMessage(message),
    onMessage(listener) {
      window.addEventListener('message', (event: MessageEvent<IpcMessage>) => {
        const message = event.data;
        if (message && typeof message.method === 'string') listener(message);
      });
    },
  };
}
