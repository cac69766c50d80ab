/**
 * Pure formatting of the status-bar item: text, Markdown tooltip and look for each host state, from
 * the ledger summary. Kept free of `vscode` so it is tested in plain Node.
 */
import type { LedgerSummary } from '../core/ledger-types';
import { answeredRequests, deflectionRate, formatCount, formatUsd, formatUsdEstimated, L3_SAVED_LABEL, LAYER_LABELS, LEDGER_LAYERS, moneyNotes, savedShare } from '../shared/format';
import { emptyTotals } from '../core/ledgerSummary';

/** Where the embedded proxy is in its life. */
export type HostState = 'off' | 'starting' | 'on' | 'error';

export interface StatusInput {
  state: HostState;
  summary?: LedgerSummary;
  proxyUrl?: string;
  /** Set in the error state: why the proxy is not running. */
  error?: string;
  /** Tools Isartor connected whose settings no longer go through it (labels). */
  disconnected?: string[];
  /** Set while the team's shared cache (Redis) cannot be reached: requests go to the cloud meanwhile. */
  sharedCacheProblem?: string;
}

export interface StatusView {
  /** Always starts with `$(shield)` so users (and tests) can find the item. */
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Which theme colours the item gets. */
  look: HostState | 'warning';
}

/** Commands the tooltip links to; the item's MarkdownString trusts exactly these. */
export const TOOLTIP_COMMANDS = ['isartor.showSavings', 'isartor.connectTools', 'isartor.enable', 'isartor.disable', 'isartor.showLog'] as const;

const link = (title: string, command: (typeof TOOLTIP_COMMANDS)[number]): string => `[${title}](command:${command})`;

/**
 * The status-bar item for a state and summary.
 *
 * @example formatStatus({ state: 'on', summary }).text // "$(shield) $4.12 saved · 37% local"
 */
export function formatStatus(input: StatusInput): StatusView {
  switch (input.state) {
    case 'off':
      return { text: '$(shield) Off', look: 'off', tooltip: `Isartor is off: no tool goes through it.\n\n${link('$(play) Enable', 'isartor.enable')} · ${link('$(graph) Show Savings', 'isartor.showSavings')}` };
    case 'starting':
      return { text: '$(shield) $(loading~spin) Starting', look: 'starting', tooltip: 'Isartor is starting its local proxy…' };
    case 'error':
      return {
        text: '$(shield) Error',
        look: 'error',
        tooltip: `Isartor could not start: ${escapeMarkdown(input.error ?? 'unknown error')}\n\n${link('$(output) Show Log', 'isartor.showLog')} · ${link('$(play) Retry', 'isartor.enable')}`,
      };
    case 'on':
      return formatOn(input);
  }
}

function formatOn(input: StatusInput): StatusView {
  const totals = input.summary?.totals ?? emptyTotals();
  const spent = totals.spentUsd ?? 0;
  const disconnected = input.disconnected ?? [];
  const lines: string[] = [];
  if (disconnected.length > 0) {
    lines.push(`$(warning) **${escapeMarkdown(disconnected.join(', '))} ${disconnected.length === 1 ? 'does' : 'do'} not go through Isartor**: ${disconnected.length === 1 ? 'its settings were' : 'their settings were'} changed back. ${link('Connect Tools…', 'isartor.connectTools')}`, '');
  }
  lines.push(
    `**Isartor** — ${formatCount(totals.deflected)} of ${formatCount(answeredRequests(totals))} answered requests served locally (${deflectionRate(totals)})`,
    '',
    `Saved **${formatUsdEstimated(totals.savedUsd, totals)}** (${formatCount(totals.savedTokens)} tokens) · spent ${formatUsd(spent)} in the cloud · ${savedShare(totals.savedUsd, spent)} of the bill saved`,
    ...moneyNotes(totals).map((note) => `\n_${escapeMarkdown(note)}_`),
    '',
    '| Layer | Requests | Tokens saved | Saved | Spent |',
    '|:--|--:|--:|--:|--:|',
  );
  const byLayer = input.summary?.byLayer ?? {};
  for (const layer of LEDGER_LAYERS) {
    const slice = byLayer[layer];
    if (!slice || slice.requests === 0) continue;
    const label = layer === 'l3' ? L3_SAVED_LABEL : LAYER_LABELS[layer];
    lines.push(`| ${label} | ${formatCount(slice.requests)} | ${formatCount(slice.savedTokens)} | ${formatUsd(slice.savedUsd)} | ${formatUsd(slice.spentUsd ?? 0)} |`);
  }
  if (Object.keys(byLayer).every((layer) => (byLayer[layer]?.requests ?? 0) === 0)) lines.push('| No requests yet | | | | |');
  if (input.sharedCacheProblem) lines.push('', `$(warning) **Shared cache unavailable**: ${escapeMarkdown(input.sharedCacheProblem)}. Requests go to the cloud until it is back.`);
  if (input.proxyUrl) lines.push('', `Proxy: \`${input.proxyUrl}\``);
  lines.push('', `${link('$(graph) Show Savings', 'isartor.showSavings')} · ${link('$(plug) Connect Tools…', 'isartor.connectTools')} · ${link('$(debug-stop) Disable', 'isartor.disable')} · ${link('$(output) Log', 'isartor.showLog')}`);
  if (disconnected.length > 0) {
    return { text: `$(shield) $(warning) ${disconnected.join(', ')} not connected`, look: 'warning', tooltip: lines.join('\n') };
  }
  if (input.sharedCacheProblem) {
    return { text: `$(shield) $(warning) Shared cache unavailable · ${formatUsd(totals.savedUsd)} saved`, look: 'warning', tooltip: lines.join('\n') };
  }
  return { text: `$(shield) ${formatUsdEstimated(totals.savedUsd, totals)} saved · ${deflectionRate(totals)} local`, look: 'on', tooltip: lines.join('\n') };
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (char) => `\\${char}`);
}
