/**
 * The `isartor.status` status-bar item: shield, deflection rate and money saved, with a look per
 * state, updated live (throttled) as ledger records arrive. Formatting lives in statusView.ts.
 */
import * as vscode from 'vscode';
import type { LedgerSummary } from '../core/ledger-types';
import { DisposableOwner } from './disposables';
import { throttle } from './events';
import type { StatusInput, StatusView } from './statusView';
import { formatStatus, TOOLTIP_COMMANDS } from './statusView';

export const STATUS_ITEM_ID = 'isartor.status';
/** Internal command behind a click on the item (hidden from the palette). */
export const STATUS_MENU_COMMAND = 'isartor.statusMenu';
/** At most this many redraws per second, however many requests flow. */
const REDRAW_INTERVAL_MS = 1000;

const LOOKS: Record<StatusView['look'], { color?: string; background?: string }> = {
  off: { color: 'disabledForeground' },
  starting: { background: 'statusBarItem.warningBackground', color: 'statusBarItem.warningForeground' },
  on: {},
  warning: { background: 'statusBarItem.warningBackground', color: 'statusBarItem.warningForeground' },
  error: { background: 'statusBarItem.errorBackground', color: 'statusBarItem.errorForeground' },
};

/**
 * Owns the item. `refresh()` may be called as often as wanted (one per ledger record): redraws are
 * throttled, the first one immediate.
 */
export class IsartorStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly owner = new DisposableOwner();
  readonly refresh: () => void;

  constructor(private readonly read: () => StatusInput & { summary?: LedgerSummary }) {
    this.item = this.owner.add(vscode.window.createStatusBarItem(STATUS_ITEM_ID, vscode.StatusBarAlignment.Right, 100));
    this.item.name = 'Isartor';
    this.item.command = STATUS_MENU_COMMAND;
    const redraw = this.owner.add(throttle(() => this.draw(), REDRAW_INTERVAL_MS));
    this.refresh = redraw;
    this.draw();
    this.item.show();
  }

  private draw(): void {
    const view = formatStatus(this.read());
    const look = LOOKS[view.look];
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip);
    tooltip.supportThemeIcons = true;
    // The hover's links run these commands and nothing else.
    tooltip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    this.item.tooltip = tooltip;
    this.item.color = look.color ? new vscode.ThemeColor(look.color) : undefined;
    this.item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
    this.item.accessibilityInformation = { label: `Isartor: ${view.text.replace(/\$\([^)]+\)\s*/g, '')}` };
  }

  dispose(): void {
    this.owner.dispose();
  }
}
