/**
 * Small helpers every benchmark mode shares: nearest-rank percentiles, rounding for reports,
 * aligned text tables, and a progress bar on stderr (cli-progress; silent when stderr is no TTY).
 */
import { SingleBar } from 'cli-progress';

/**
 * The nearest-rank percentile of `values` (need not be sorted); 0 for an empty list.
 *
 * @example percentile([5, 1, 3, 2, 4], 50) // 3
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, not ${p}`);
  const sorted = isSorted(values) ? values : [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function isSorted(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i - 1]! > values[i]!) return false;
  return true;
}

/** p50 and p99 of a list of timings, rounded for a report. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Summarises timings in milliseconds.
 *
 * @example summarize([1.23456, 2]) // { count: 2, p50Ms: 1.235, p99Ms: 2 }
 */
export function summarize(timingsMs: readonly number[]): LatencySummary {
  const sorted = [...timingsMs].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
}

/**
 * Rounds to `digits` decimals (3 by default: microseconds when the unit is ms).
 *
 * @example round(0.123456) // 0.123
 */
export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Lays out rows as an aligned text table with a header line; numbers are right-aligned.
 *
 * @example formatTable(['name', 'ms'], [['a', 1.5]]) // "name  ms\n----  ---\na     1.5"
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const numeric = header.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(cells[0]!), line(widths.map((width) => '-'.repeat(width))), ...cells.slice(1).map(line)].join('\n');
}

/** A progress bar for one phase of a run. */
export interface Progress {
  /** Sets how much of the phase is done. */
  update(done: number): void;
  /** Finishes the bar (and its line). */
  stop(): void;
}

/**
 * Starts a progress bar on stderr for `total` steps. When stderr is not a terminal (CI, a log file)
 * it writes the phase name once instead, so logs stay readable.
 *
 * @example const bar = startProgress('fill exact 10000', 10_000); bar.update(500); bar.stop();
 */
export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    stream.write(`${label} …\n`);
    return { update() {}, stop() {} };
  }
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
    barsize: 30,
    hideCursor: null,
    clearOnComplete: false,
    fps: 5,
  });
  bar.start(Math.max(1, total), 0);
  return {
    update: (done) => bar.update(Math.min(done, Math.max(1, total))),
    stop: () => bar.stop(),
  };
}
