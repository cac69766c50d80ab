/**
 * Formats the ledger summary as a plain terminal table for `isartor stats`.
 */
import type { LedgerSummary, LedgerTotals } from '../core/ledger-types';
import { answeredRequests, deflectionRate, formatUsd, formatUsdEstimated, moneyNotes, savedShare } from '../shared/format';

const COLUMNS = ['requests', 'deflected', 'input tok', 'output tok', 'saved tok', 'saved USD', 'spent USD'];

function row(label: string, totals: LedgerTotals): string[] {
  return [
    label,
    String(totals.requests),
    String(totals.deflected),
    String(totals.inputTokens),
    String(totals.outputTokens),
    String(totals.savedTokens),
    // The status bar's rounding: "<$0.01" for a fraction of a cent, never "$0.0000".
    formatUsd(totals.savedUsd),
    formatUsd(totals.spentUsd ?? 0),
  ];
}

function section(title: string, slices: Record<string, LedgerTotals>, limit?: number): string[][] {
  const keys = Object.keys(slices).sort();
  const shown = limit === undefined ? keys : keys.slice(-limit);
  if (shown.length === 0) return [];
  return [[title, '', '', '', '', '', '', ''], ...shown.map((key) => row(`  ${key}`, slices[key]!))];
}

/**
 * The summary as aligned columns: totals, then by layer, tool, model and the last 14 days.
 *
 * @example console.log(formatStatsTable(ledger.summary(), dataDir))
 */
export function formatStatsTable(summary: LedgerSummary, dataDir: string): string {
  const rows: string[][] = [
    ['', ...COLUMNS],
    row('total', summary.totals),
    ...section('by layer', summary.byLayer),
    ...section('by tool', summary.byTool),
    ...section('by model', summary.byModel),
    ...section('by day (last 14)', summary.byDay, 14),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const lines = rows.map((cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd());
  const totals = summary.totals;
  const rejected = Object.entries(summary.semanticRejected).map(([reason, count]) => `${reason} ${count}`).join(', ');
  return [
    `Isartor savings (data: ${dataDir})`,
    `${totals.deflected} of ${answeredRequests(totals)} answered requests served without the cloud (${deflectionRate(totals)}), ${formatUsdEstimated(totals.savedUsd, totals)} saved, ${formatUsd(totals.spentUsd ?? 0)} spent in the cloud (${savedShare(totals.savedUsd, totals.spentUsd ?? 0)} of the bill saved)`,
    ...moneyNotes(totals).map((note) => `  note: ${note}`),
    '',
    ...lines,
    ...(rejected ? ['', `semantic near-misses rejected by a gate: ${rejected}`] : []),
  ].join('\n');
}
