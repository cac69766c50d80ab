/**
 * Formats the ledger summary as a plain terminal table for `isartor stats`.
 */
import type { LedgerSummary, LedgerTotals } from '../core/ledger-types';

const COLUMNS = ['requests', 'deflected', 'input tok', 'output tok', 'saved tok', 'saved USD'];

function row(label: string, totals: LedgerTotals): string[] {
  return [
    label,
    String(totals.requests),
    String(totals.deflected),
    String(totals.inputTokens),
    String(totals.outputTokens),
    String(totals.savedTokens),
    `$${totals.savedUsd.toFixed(4)}`,
  ];
}

function section(title: string, slices: Record<string, LedgerTotals>, limit?: number): string[][] {
  const keys = Object.keys(slices).sort();
  const shown = limit === undefined ? keys : keys.slice(-limit);
  if (shown.length === 0) return [];
  return [[title, '', '', '', '', '', ''], ...shown.map((key) => row(`  ${key}`, slices[key]!))];
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
  const rate = summary.totals.requests > 0 ? ((summary.totals.deflected / summary.totals.requests) * 100).toFixed(1) : '0.0';
  const rejected = Object.entries(summary.semanticRejected).map(([reason, count]) => `${reason} ${count}`).join(', ');
  return [
    `Isartor savings (data: ${dataDir})`,
    `${summary.totals.deflected} of ${summary.totals.requests} requests answered without the cloud (${rate}%), $${summary.totals.savedUsd.toFixed(4)} saved`,
    '',
    ...lines,
    ...(rejected ? ['', `semantic near-misses rejected by a gate: ${rejected}`] : []),
  ].join('\n');
}
