/**
 * The "deflections per layer over time" series for the panel's chart: per UTC day from the ledger's
 * `byDayLayer` when it has it, otherwise per hour from the most recent records.
 */
import type { LedgerRecord, LedgerSummary } from '../src/core/ledger-types';

/** The layers that answer without the cloud, charted as stacked bars; l3 is drawn for contrast. */
export const TIMELINE_LAYERS = ['l1a', 'l1b', 'l2', 'l3'] as const;
export type TimelineLayer = (typeof TIMELINE_LAYERS)[number];

export interface Timeline {
  unit: 'day' | 'hour';
  /** Bucket labels, oldest first: "11-24" for days, "11-24 14:00" for hours (UTC). */
  labels: string[];
  /** Requests per bucket for each layer, aligned with `labels`. */
  series: Record<TimelineLayer, number[]>;
}

/**
 * Builds the chart series. At most `maxBuckets` buckets, ending with the newest one that has data.
 *
 * @example buildTimeline(summary).labels // ["11-22", "11-23", "11-24"]
 */
export function buildTimeline(summary: LedgerSummary, maxBuckets = 14): Timeline {
  const days = summary.byDayLayer ? Object.keys(summary.byDayLayer).sort() : [];
  if (days.length > 0) return fromDays(summary.byDayLayer!, days, maxBuckets);
  return fromRecords(summary.recent, maxBuckets);
}

function fromDays(byDayLayer: NonNullable<LedgerSummary['byDayLayer']>, days: string[], maxBuckets: number): Timeline {
  const shown = fillDays(days[0]!, days[days.length - 1]!).slice(-maxBuckets);
  const series = emptySeries();
  for (const day of shown) {
    for (const layer of TIMELINE_LAYERS) series[layer].push(byDayLayer[day]?.[layer]?.requests ?? 0);
  }
  return { unit: 'day', labels: shown.map((day) => day.slice(5)), series };
}

/** Every UTC day from `first` to `last` inclusive, so quiet days show as gaps, not as nothing. */
function fillDays(first: string, last: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  for (let time = Date.parse(`${first}T00:00:00Z`); time <= end && out.length < 3660; time += 86_400_000) {
    out.push(new Date(time).toISOString().slice(0, 10));
  }
  return out;
}

function fromRecords(records: readonly LedgerRecord[], maxBuckets: number): Timeline {
  const series = emptySeries();
  if (records.length === 0) return { unit: 'hour', labels: [], series };
  const hour = (time: number): number => Math.floor(time / 3_600_000);
  const newest = Math.max(...records.map((record) => hour(record.time)));
  const oldest = Math.max(Math.min(...records.map((record) => hour(record.time))), newest - maxBuckets + 1);
  const labels: string[] = [];
  for (let bucket = oldest; bucket <= newest; bucket++) {
    labels.push(new Date(bucket * 3_600_000).toISOString().slice(5, 13).replace('T', ' ') + ':00');
    for (const layer of TIMELINE_LAYERS) series[layer].push(0);
  }
  for (const record of records) {
    const index = hour(record.time) - oldest;
    if (index < 0 || !(TIMELINE_LAYERS as readonly string[]).includes(record.layer)) continue;
    series[record.layer as TimelineLayer][index]!++;
  }
  return { unit: 'hour', labels, series };
}

function emptySeries(): Record<TimelineLayer, number[]> {
  return { l1a: [], l1b: [], l2: [], l3: [] };
}
