/**
 * The "Isartor Savings" webview panel on the host side: strict-CSP HTML with a nonce, the bundled
 * script and stylesheet from dist/, and the typed message protocol of webview/protocol.ts.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import type { LayerSwitchName, PanelSnapshot, ResponseParams } from '../../webview/protocol';
import {
  ClearCacheCommand,
  createMessage,
  GetSnapshotRequest,
  isMessageOf,
  parseWebviewMessage,
  ResponseMethod,
  SetEnabledCommand,
  SetLayerCommand,
  ShowLogCommand,
  SnapshotNotification,
} from '../../webview/protocol';
import { DisposableOwner } from './disposables';
import { throttle } from './events';
import { describeError } from './log';
import { panelHtml } from './panelHtml';

/** What the panel reads and what its buttons do. */
export interface PanelSource {
  snapshot(): PanelSnapshot;
  /** Fires whenever the snapshot may have changed (state, settings, each ledger record). */
  onDidChange(listener: () => void): vscode.Disposable;
  clearCache(): Promise<void>;
  setLayer(layer: LayerSwitchName, enabled: boolean): Promise<void>;
  setEnabled(enabled: boolean): Promise<void>;
  showLog(): void;
}

export const SAVINGS_VIEW_TYPE = 'isartor.savings';
export const SAVINGS_TITLE = 'Isartor Savings';
/** Live updates are folded to at most one snapshot per interval, however fast requests flow. */
const UPDATE_INTERVAL_MS = 500;

/**
 * Shows one savings panel (creating it on first use, revealing it after) and keeps it up to date.
 *
 * @example savings.show();
 */
export class SavingsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: PanelSource,
    private readonly logger: Logger,
  ) {}

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(SAVINGS_VIEW_TYPE, SAVINGS_TITLE, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist, vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const owner = new DisposableOwner();
    this.panel = panel;
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      title: SAVINGS_TITLE,
    });

    const push = throttle(() => void this.post(createMessage(SnapshotNotification, nextId(), this.source.snapshot())), UPDATE_INTERVAL_MS);
    owner.add(push);
    owner.add(this.source.onDidChange(() => push()));
    owner.add(panel.webview.onDidReceiveMessage((raw: unknown) => void this.handle(raw, push)));
    owner.add(
      panel.onDidDispose(() => {
        this.panel = undefined;
        owner.dispose();
      }),
    );
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private async handle(raw: unknown, refresh: () => void): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.logger.warn('savings panel sent a malformed message; ignored');
      return;
    }
    try {
      if (isMessageOf(message, GetSnapshotRequest)) {
        await this.respond(message.id, { ok: true, value: this.source.snapshot() });
        return;
      }
      if (isMessageOf(message, ShowLogCommand)) {
        this.source.showLog();
        return;
      }
      if (isMessageOf(message, ClearCacheCommand)) await this.source.clearCache();
      else if (isMessageOf(message, SetLayerCommand)) await this.source.setLayer(message.params.layer, message.params.enabled);
      else if (isMessageOf(message, SetEnabledCommand)) await this.source.setEnabled(message.params.enabled);
      refresh();
    } catch (error) {
      this.logger.error(`savings panel action ${message.method} failed: ${describeError(error)}`);
      if (message.method === GetSnapshotRequest.method) await this.respond(message.id, { ok: false, error: describeError(error) });
      else void vscode.window.showErrorMessage(`Isartor: ${describeError(error)}`);
    }
  }

  private respond(requestId: string, params: ResponseParams<PanelSnapshot>): Thenable<boolean> {
    return this.post({ id: nextId(), method: ResponseMethod, params, completionId: requestId });
  }

  private post(message: unknown): Thenable<boolean> {
    return this.panel ? this.panel.webview.postMessage(message) : Promise.resolve(false);
  }
}

let messageCounter = 0;
function nextId(): string {
  return `host-${++messageCounter}`;
}
