/**
 * Folding ledger records into the aggregates shown by `/isartor/stats`, `isartor stats` and the
 * panel: totals by layer, tool, model and UTC day, rejection counts, and the newest records.
 */
import type { LedgerLayer, LedgerRecord, LedgerSummary, LedgerTotals } from './ledger-types';
import { relabelStoredRouteId } from './routeLabel';

/** Layers that answered without the cloud. */
export const DEFLECTING_LAYERS: ReadonlySet<LedgerLayer> = new Set(['l1a', 'l1b', 'l2']);
/** How many of the newest records a summary keeps. */
export const RECENT_RECORDS = 100;

const LAYERS: readonly LedgerLayer[] = ['l1a', 'l1b', 'l2', 'l3', 'error'];

/**
 * Longest label (tool, model, error, gate reason) a record keeps. Any client may send any model
 * name: 1,000 requests with distinct 20 kB names took the stats to 22 MB and RSS up 120 MB.
 */
export const MAX_LABEL_CHARS = 128;
/** Distinct tools, and distinct models, a summary keeps apart; the rest are counted under OTHER_KEY. */
export const MAX_KEYS = 200;
export const OTHER_KEY = 'other';
/**
 * UTC days `byDay` and `byDayLayer` keep, newest first. Every surface shows the last 14; without a
 * limit a proxy running for years grew a slice per day for ever, in memory, in the rollup rewritten
 * at each roll and in every snapshot pushed to the savings panel. Older days stay in the totals.
 */
export const MAX_DAYS = 400;

export function emptyTotals(): LedgerTotals {
  return { requests: 0, deflected: 0, failed: 0, inputTokens: 0, outputTokens: 0, savedTokens: 0, savedUsd: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 };
}

/**
 * Totals read from a snapshot written by an older Isartor, with the fields it lacked filled in.
 * A snapshot without `spentUsd` counted requests whose cloud cost was never recorded: they are
 * `spentMissing` (every request of it: which of them reached the cloud is not known any more).
 */
export function completeTotals(raw: Partial<LedgerTotals> | undefined): LedgerTotals {
  const totals = emptyTotals();
  for (const field of Object.keys(totals) as Array<keyof LedgerTotals>) {
    const value = raw?.[field];
    if (typeof value === 'number' && Number.isFinite(value)) totals[field] = value;
  }
  if (raw && typeof raw.spentUsd !== 'number') totals.spentMissing = totals.requests;
  return totals;
}

export function emptySummary(): LedgerSummary {
  return { totals: emptyTotals(), byLayer: {}, byTool: {}, byModel: {}, byDay: {}, byDayLayer: {}, semanticRejected: {}, recent: [] };
}

const DAY_MS = 86_400_000;
/** Dates end at ±8.64e15 ms; the last day is cut there (the first one starts exactly on it). */
const LAST_VALID_MS = 8.64e15;
/** The last day `utcDay` formatted, as [start, end) in epoch ms: two records per request fall in it. */
let lastDay = { start: 0, end: 0, text: '' };

/** UTC day of an epoch-ms time, "2026-11-24". */
export function utcDay(time: number): string {
  // A Date keeps whole milliseconds (dropping the fraction toward zero); a UTC day is exactly DAY_MS long.
  const whole = Math.trunc(time);
  if (whole >= lastDay.start && whole < lastDay.end) return lastDay.text;
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return 'unknown';
  const text = date.toISOString().slice(0, 10);
  const start = whole - (((whole % DAY_MS) + DAY_MS) % DAY_MS);
  lastDay = { start, end: Math.min(start + DAY_MS, LAST_VALID_MS + 1), text };
  return text;
}

/** Adds one record to `summary` in place: its counts, and the record as the newest of `recent`. */
export function addRecord(summary: LedgerSummary, record: LedgerRecord): void {
  countRecord(summary, record);
  summary.recent.unshift(record);
  if (summary.recent.length > RECENT_RECORDS) summary.recent.length = RECENT_RECORDS;
}

/**
 * Adds one record's counts to `summary` in place and leaves `recent` alone: a live ledger keeps
 * its newest records in a RecentRecords, where adding one moves nothing.
 */
export function countRecord(summary: LedgerSummary, record: LedgerRecord): void {
  const day = utcDay(record.time);
  const newDay = !Object.hasOwn(summary.byDay, day);
  const slices = [
    summary.totals,
    slice(summary.byLayer, record.layer),
    boundedSlice(summary.byTool, record.tool),
    boundedSlice(summary.byModel, record.model),
    slice(summary.byDay, day),
    slice((summary.byDayLayer ??= {})[day] ??= {}, record.layer),
  ];
  const deflected = DEFLECTING_LAYERS.has(record.layer) ? 1 : 0;
  for (const totals of slices) {
    totals.requests += 1;
    totals.deflected += deflected;
    if (record.layer === 'error') totals.failed += 1;
    totals.inputTokens += record.inputTokens;
    totals.outputTokens += record.outputTokens;
    totals.savedTokens += record.savedTokens;
    totals.savedUsd += record.savedUsd;
    totals.spentUsd += record.spentUsd ?? 0;
    if (record.estimated) totals.estimated += 1;
    if (record.unpriced) totals.unpriced += 1;
    if (record.spentUsd === undefined) totals.spentMissing += 1;
  }
  if (record.semanticRejected) summary.semanticRejected[record.semanticRejected] = (summary.semanticRejected[record.semanticRejected] ?? 0) + 1;
  if (newDay) dropOldDays(summary);
}

/** Keeps the newest MAX_DAYS days of `byDay` and `byDayLayer`, in place (runs once per new day, not per record). */
function dropOldDays(summary: LedgerSummary): void {
  for (const table of [summary.byDay ?? {}, summary.byDayLayer ?? {}]) {
    const days = Object.keys(table);
    if (days.length <= MAX_DAYS) continue;
    // ISO dates sort as text, so the oldest come first.
    for (const day of days.sort().slice(0, days.length - MAX_DAYS)) delete table[day];
  }
}

/** A deep copy, so a caller can keep or change it without touching the ledger's state. */
export function cloneSummary(summary: LedgerSummary): LedgerSummary {
  return structuredClone(summary);
}

/**
 * A record as it arrived from code or from the file, with every number finite and non-negative
 * and every label a string; undefined when it is not a ledger record at all.
 */
export function sanitiseRecord(value: unknown): LedgerRecord | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const raw = value as Record<string, unknown>;
  const layer = raw.layer as LedgerLayer;
  if (!LAYERS.includes(layer) || typeof raw.time !== 'number' || !Number.isFinite(raw.time)) return undefined;
  const record: LedgerRecord = {
    time: raw.time,
    tool: label(raw.tool, 'unknown'),
    routeId: relabelStoredRouteId(label(raw.routeId, 'default')),
    api: label(raw.api, 'openai.chat') as LedgerRecord['api'],
    model: label(raw.model, 'unknown'),
    layer,
    status: count(raw.status),
    inputTokens: count(raw.inputTokens),
    outputTokens: count(raw.outputTokens),
    cachedInputTokens: count(raw.cachedInputTokens),
    latencyMs: count(raw.latencyMs),
    savedTokens: count(raw.savedTokens),
    // An l3 record's optimiser net may be negative (cache writes cost more than the reads saved).
    savedUsd: layer === 'l3' ? finite(raw.savedUsd) : count(raw.savedUsd),
    estimated: raw.estimated === true,
  };
  if (raw.spentUsd !== undefined) record.spentUsd = count(raw.spentUsd);
  if (raw.unpriced === true) record.unpriced = true;
  if (raw.optimisedTokens !== undefined) record.optimisedTokens = count(raw.optimisedTokens);
  if (raw.cacheHints !== undefined) record.cacheHints = count(raw.cacheHints);
  if (typeof raw.semanticRejected === 'string' && raw.semanticRejected) record.semanticRejected = label(raw.semanticRejected, '');
  if (typeof raw.error === 'string' && raw.error) record.error = label(raw.error, '');
  return record;
}

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

function finite(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}

function label(s: unknown, fallback: string): string {
  return typeof s === 'string' && s ? s.slice(0, MAX_LABEL_CHARS) : fallback;
}

function slice(table: Record<string, LedgerTotals>, key: string): LedgerTotals {
  return (table[key] ??= emptyTotals());
}

/** The key's totals, or OTHER_KEY's once the table holds MAX_KEYS keys. */
function boundedSlice(table: Record<string, LedgerTotals>, key: string): LedgerTotals {
  const existing = table[key];
  if (existing) return existing;
  if (Object.keys(table).length < MAX_KEYS - 1) return slice(table, key);
  return slice(table, OTHER_KEY);
}

/**
 * The summary with long labels cut, overflowing tool and model tables folded into OTHER_KEY, and
 * totals missing newer fields completed (completeTotals), for snapshots written before these
 * existed. Changes `summary` in place.
 */
export function boundSummary(summary: LedgerSummary): LedgerSummary {
  for (const name of ['byTool', 'byModel'] as const) {
    const bounded: Record<string, LedgerTotals> = {};
    for (const [key, totals] of Object.entries(summary[name] ?? {})) {
      const target = boundedSlice(bounded, key.slice(0, MAX_LABEL_CHARS));
      const complete = completeTotals(totals);
      for (const field of Object.keys(target) as Array<keyof LedgerTotals>) target[field] += complete[field];
    }
    summary[name] = bounded;
  }
  const oldTotals = typeof summary.totals?.failed !== 'number';
  summary.totals = completeTotals(summary.totals);
  if (oldTotals) summary.totals.failed = completeTotals(summary.byLayer?.error).requests;
  const complete = (table: Record<string, LedgerTotals>, key: string): void => {
    const old = typeof table[key]?.failed !== 'number';
    table[key] = completeTotals(table[key]);
    if (old && key === 'error') table[key].failed = table[key].requests;
  };
  for (const name of ['byLayer', 'byDay'] as const) {
    for (const key of Object.keys(summary[name] ?? {})) complete(summary[name], key);
  }
  for (const day of Object.values(summary.byDayLayer ?? {})) {
    for (const key of Object.keys(day)) complete(day, key);
  }
  dropOldDays(summary);
  const recent = Array.isArray(summary.recent) ? summary.recent : [];
  summary.recent = recent.map((record) => sanitiseRecord(record)).filter((record): record is LedgerRecord => record !== undefined);
  return summary;
}
