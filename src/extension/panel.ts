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
/** The side-bar webview view (package.json contributes.views.isartor). */
export const SAVINGS_SIDEBAR_VIEW_ID = 'isartor.savingsView';
export const SAVINGS_TITLE = 'Isartor Savings';
/** Live updates are folded to at most one snapshot per interval, however fast requests flow. */
const UPDATE_INTERVAL_MS = 500;

/**
 * Serves the savings page in one webview (an editor panel or the side-bar view): strict-CSP HTML,
 * the snapshot on request, live snapshots as the ledger grows, and the page's commands.
 *
 * @example owner.add(connectSavingsWebview(panel.webview, extensionUri, source, logger));
 */
export function connectSavingsWebview(webview: vscode.Webview, extensionUri: vscode.Uri, source: PanelSource, logger: Logger): vscode.Disposable {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  webview.options = { enableScripts: true, localResourceRoots: [dist, vscode.Uri.joinPath(extensionUri, 'media')] };
  webview.html = panelHtml({
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    title: SAVINGS_TITLE,
  });
  const owner = new DisposableOwner();
  const post = (message: unknown): Thenable<boolean> => webview.postMessage(message);
  const respond = (requestId: string, params: ResponseParams<PanelSnapshot>): Thenable<boolean> => post({ id: nextId(), method: ResponseMethod, params, completionId: requestId });
  const push = owner.add(throttle(() => void post(createMessage(SnapshotNotification, nextId(), source.snapshot())), UPDATE_INTERVAL_MS));
  owner.add(source.onDidChange(() => push()));
  owner.add(
    webview.onDidReceiveMessage(async (raw: unknown) => {
      const message = parseWebviewMessage(raw);
      if (!message) {
        logger.warn('savings page sent a malformed message; ignored');
        return;
      }
      try {
        if (isMessageOf(message, GetSnapshotRequest)) {
          await respond(message.id, { ok: true, value: source.snapshot() });
          return;
        }
        if (isMessageOf(message, ShowLogCommand)) {
          source.showLog();
          return;
        }
        if (isMessageOf(message, ClearCacheCommand)) await source.clearCache();
        else if (isMessageOf(message, SetLayerCommand)) await source.setLayer(message.params.layer, message.params.enabled);
        else if (isMessageOf(message, SetEnabledCommand)) await source.setEnabled(message.params.enabled);
        push();
      } catch (error) {
        logger.error(`savings page action ${message.method} failed: ${describeError(error)}`);
        if (message.method === GetSnapshotRequest.method) await respond(message.id, { ok: false, error: describeError(error) });
        else void vscode.window.showErrorMessage(`Isartor: ${describeError(error)}`);
      }
    }),
  );
  return owner;
}

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
    const panel = vscode.window.createWebviewPanel(SAVINGS_VIEW_TYPE, SAVINGS_TITLE, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    this.panel = panel;
    const connection = connectSavingsWebview(panel.webview, this.extensionUri, this.source, this.logger);
    panel.onDidDispose(() => {
      this.panel = undefined;
      connection.dispose();
    });
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** The "Savings" view in Isartor's own activity-bar container: the same page, sized for a side bar. */
export class SavingsViewProvider implements vscode.WebviewViewProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: PanelSource,
    private readonly logger: Logger,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    const connection = connectSavingsWebview(view.webview, this.extensionUri, this.source, this.logger);
    view.onDidDispose(() => connection.dispose());
  }
}

let messageCounter = 0;
function nextId(): string {
  return `host-${++messageCounter}`;
}
