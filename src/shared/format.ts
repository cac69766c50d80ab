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

/** What an l3 row's "saved" figure is: the L2.5 optimiser's work on requests that went to the cloud. */
export const L3_SAVED_LABEL = 'L3 cloud (saved by the optimiser\'s cache hints and prompt edits)';

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

/** Each step of 1000 after the plain number; the unit is chosen after rounding, so 999.996 reads "1.0k", not "1000.00". */
const UNITS = ['', 'k', 'M', 'B', 'T'];

/** `value` rounded to `plainDigits` decimals below 1000, else to one decimal of the first unit that keeps it under 1000. */
function scaled(value: number, plainDigits: number): string {
  for (let i = 0; i < UNITS.length; i++) {
    const text = (value / 1000 ** i).toFixed(i === 0 ? plainDigits : 1);
    if (Number(text) < 1000 || i === UNITS.length - 1) return `${text}${UNITS[i]}`;
  }
  return String(value);
}

/**
 * Money for people: "$4.12", "<$0.01" for anything above zero and under a cent (so early savings
 * are neither hidden as zero nor shown as "$0.000008"), "$1.2k", "$2.5M".
 *
 * @example formatUsd(0.000008) // "<$0.01"
 */
export function formatUsd(amount: number): string {
  // A net below zero (optimiser cache writes that cost more than their reads saved) keeps its sign.
  if (amount < 0 && Number.isFinite(amount)) return `-${formatUsd(-amount)}`;
  if (!Number.isFinite(amount) || amount <= 0) return '$0.00';
  if (amount < 0.01) return '<$0.01';
  return `$${scaled(amount, 2)}`;
}

/** "950", "12.3k", "4.5M". */
export function formatCount(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '0';
  return scaled(count, 0);
}

/**
 * A share as a whole percentage that never claims more than it knows: "0%" and "100%" only when
 * exact, "<1%" and ">99%" for what rounding would turn into them (199 of 200 is not "100% local").
 */
function percent(part: number, whole: number): string {
  if (!(whole > 0) || !(part > 0)) return '0%';
  if (part >= whole) return '100%';
  const rounded = Math.round((100 * part) / whole);
  if (rounded < 1) return '<1%';
  if (rounded > 99) return '>99%';
  return `${rounded}%`;
}

/**
 * Requests that got an answer (status < 400): failures (upstream errors, a client that went away)
 * are not counted, so three 404s do not make the cache look worse. `failed` is absent on totals
 * an older Isartor wrote.
 */
export function answeredRequests(totals: { requests: number; failed?: number }): number {
  return Math.max(0, totals.requests - (totals.failed ?? 0));
}

/** Share of the answered requests that were answered without the cloud ("0%" with none). */
export function deflectionRate(totals: { requests: number; deflected: number; failed?: number }): string {
  return percent(totals.deflected, answeredRequests(totals));
}

/** Totals' caveats as the money figures' fine print. */
export interface MoneyCaveats {
  estimated?: number;
  unpriced?: number;
  spentMissing?: number;
}

/**
 * What the money figures leave out or guess, one short sentence each, for the status bar, the
 * panel and `isartor stats` alike; empty when the figures are exact and complete.
 *
 * @example moneyNotes({ unpriced: 3 }) // ["3 requests on models without a price are not counted in $"]
 */
export function moneyNotes(totals: MoneyCaveats): string[] {
  const notes: string[] = [];
  const plural = (n: number, one: string, many: string): string => `${formatCount(n)} ${n === 1 ? one : many}`;
  if ((totals.unpriced ?? 0) > 0) notes.push(`${plural(totals.unpriced!, 'request on a model', 'requests on models')} without a price ${totals.unpriced === 1 ? 'is' : 'are'} not counted in $`);
  if ((totals.estimated ?? 0) > 0) notes.push(`~ estimated: ${plural(totals.estimated!, 'request', 'requests')} (local-model answers, token counts Isartor made)`);
  if ((totals.spentMissing ?? 0) > 0) notes.push(`spent unknown for ${plural(totals.spentMissing!, 'request', 'requests')} recorded before Isartor tracked it (not in the spent figure)`);
  return notes;
}

/** "~$4.12" when some of the figures behind the amount are estimates, else "$4.12". */
export function formatUsdEstimated(amount: number, totals: MoneyCaveats): string {
  return `${(totals.estimated ?? 0) > 0 ? '~' : ''}${formatUsd(amount)}`;
}

/** Share of what the requests would have cost that was saved: saved / (saved + spent). */
export function savedShare(savedUsd: number, spentUsd: number): string {
  return percent(Math.max(0, savedUsd), savedUsd + spentUsd);
}
