/**
 * Pure formatting of the status-bar item: text, Markdown tooltip and look for each host state, from
 * the ledger summary. Kept free of `vscode` so it is tested in plain Node.
 */
import type { LedgerSummary, LedgerTotals } from '../core/ledger-types';

/** Where the embedded proxy is in its life. */
export type HostState = 'off' | 'starting' | 'on' | 'error';

export interface StatusInput {
  state: HostState;
  summary?: LedgerSummary;
  proxyUrl?: string;
  /** Set in the error state: why the proxy is not running. */
  error?: string;
}

export interface StatusView {
  /** Always starts with `$(shield)` so users (and tests) can find the item. */
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Which theme colours the item gets. */
  look: HostState;
}

/** Display names of the ledger's layers, in the order a request meets them. */
export const LAYER_LABELS: Record<string, string> = {
  l1a: 'L1a exact cache',
  l1b: 'L1b semantic cache',
  l2: 'L2 local model',
  l3: 'L3 cloud',
  error: 'Errors',
};

/** "$4.12", "$0.004" for amounts under a cent (so early savings are not shown as zero), "$1.2k". */
export function formatUsd(amount: number): string {
  if (!Number.isFinite(amount) || amount <= 0) return '$0.00';
  if (amount < 0.01) return `$${amount.toPrecision(1)}`;
  if (amount < 1000) return `$${amount.toFixed(2)}`;
  if (amount < 1_000_000) return `$${(amount / 1000).toFixed(1)}k`;
  return `$${(amount / 1_000_000).toFixed(1)}M`;
}

/** "950", "12.3k", "4.5M". */
export function formatCount(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '0';
  if (count < 1000) return String(Math.round(count));
  if (count < 1_000_000) return `${(count / 1000).toFixed(1)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

/** Share of requests answered without the cloud, as a whole percentage ("0%" with no requests). */
export function deflectionRate(totals: Pick<LedgerTotals, 'requests' | 'deflected'>): string {
  if (totals.requests <= 0) return '0%';
  return `${Math.round((100 * totals.deflected) / totals.requests)}%`;
}

/**
 * The status-bar item for a state and summary.
 *
 * @example formatStatus({ state: 'on', summary }).text // "$(shield) 37% · $4.12"
 */
export function formatStatus(input: StatusInput): StatusView {
  switch (input.state) {
    case 'off':
      return { text: '$(shield) Off', look: 'off', tooltip: 'Isartor is off. Click for the menu, or run **Isartor: Enable**.' };
    case 'starting':
      return { text: '$(shield) $(loading~spin) Starting', look: 'starting', tooltip: 'Isartor is starting its local proxy…' };
    case 'error':
      return {
        text: '$(shield) Error',
        look: 'error',
        tooltip: `Isartor could not start: ${escapeMarkdown(input.error ?? 'unknown error')}\n\nClick for the menu (Show Log, Enable to retry).`,
      };
    case 'on':
      return formatOn(input);
  }
}

function formatOn(input: StatusInput): StatusView {
  const totals = input.summary?.totals ?? { requests: 0, deflected: 0, inputTokens: 0, outputTokens: 0, savedTokens: 0, savedUsd: 0 };
  const text = `$(shield) ${deflectionRate(totals)} · ${formatUsd(totals.savedUsd)}`;
  const lines = [
    `**Isartor** — ${formatCount(totals.deflected)} of ${formatCount(totals.requests)} requests answered locally (${deflectionRate(totals)})`,
    '',
    `Saved **${formatCount(totals.savedTokens)} tokens** · **${formatUsd(totals.savedUsd)}**`,
    '',
    '| Layer | Requests | Tokens saved | Saved |',
    '|:--|--:|--:|--:|',
  ];
  const byLayer = input.summary?.byLayer ?? {};
  for (const layer of Object.keys(LAYER_LABELS)) {
    const slice = byLayer[layer];
    if (!slice || slice.requests === 0) continue;
    lines.push(`| ${LAYER_LABELS[layer]} | ${formatCount(slice.requests)} | ${formatCount(slice.savedTokens)} | ${formatUsd(slice.savedUsd)} |`);
  }
  if (Object.keys(byLayer).every((layer) => (byLayer[layer]?.requests ?? 0) === 0)) lines.push('| No requests yet | | | |');
  if (input.proxyUrl) lines.push('', `Proxy: \`${input.proxyUrl}\``);
  return { text, look: 'on', tooltip: lines.join('\n') };
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (char) => `\\${char}`);
}
