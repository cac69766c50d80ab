/**
 * Words and numbers the status bar, the savings panel and the side-bar view all show: one spelling
 * of each layer's name and one way to round money and counts. Imported by the extension and by the
 * webview bundle, so it holds no `vscode` and no DOM code.
 */

/** Ledger layer ids, in the order a request meets them. */
export const LEDGER_LAYERS = ['l1a', 'l1b', 'l2', 'l3', 'error'] as const;
export type LedgerLayerId = (typeof LEDGER_LAYERS)[number];

/** The layers that answer without the cloud: a request ending in one of them was deflected. */
export const DEFLECTING_LAYERS: readonly LedgerLayerId[] = ['l1a', 'l1b', 'l2'];

/** Display name of each ledger layer; the same words the settings and the README use. */
export const LAYER_LABELS: Record<LedgerLayerId, string> = {
  l1a: 'L1a exact cache',
  l1b: 'L1b semantic cache',
  l2: 'L2 local model',
  l3: 'L3 cloud',
  error: 'Errors',
};

/** The short tag shown in table cells ("L1a"), with the label as its tooltip. */
export const LAYER_TAGS: Record<LedgerLayerId, string> = { l1a: 'L1a', l1b: 'L1b', l2: 'L2', l3: 'L3', error: 'Error' };

/** The layers a user switches on and off (engine ids), spelled like the ledger layers above. */
export const SWITCH_LABELS: Record<'exact' | 'semantic' | 'local' | 'optimiser', string> = {
  exact: LAYER_LABELS.l1a,
  semantic: LAYER_LABELS.l1b,
  local: LAYER_LABELS.l2,
  optimiser: 'L2.5 optimiser',
};

/** "L1a exact cache" for "l1a"; an unknown id as it is. */
export function layerLabel(layer: string): string {
  return (LAYER_LABELS as Record<string, string>)[layer] ?? layer;
}

/**
 * Money for people: "$4.12", "<$0.01" for anything above zero and under a cent (so early savings
 * are neither hidden as zero nor shown as "$0.000008"), "$1.2k", "$2.5M".
 *
 * @example formatUsd(0.000008) // "<$0.01"
 */
export function formatUsd(amount: number): string {
  if (!Number.isFinite(amount) || amount <= 0) return '$0.00';
  if (amount < 0.01) return '<$0.01';
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
export function deflectionRate(totals: { requests: number; deflected: number }): string {
  if (totals.requests <= 0) return '0%';
  return `${Math.round((100 * totals.deflected) / totals.requests)}%`;
}

/** Share of what the requests would have cost that was saved: saved / (saved + spent). */
export function savedShare(savedUsd: number, spentUsd: number): string {
  const whole = savedUsd + spentUsd;
  if (!(whole > 0)) return '0%';
  return `${Math.round((100 * Math.max(0, savedUsd)) / whole)}%`;
}
