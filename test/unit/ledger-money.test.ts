// The money figures every surface shows, from real records through the real ledger, summary,
// status-bar formatter, `isartor stats` table and /metrics: what the cloud billed (recorded per
// request, cache-aware), the optimiser's true net, estimate and unpriced counts, and the local share.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ledgerModule from '../../src/core/ledger';
import { openLedger, savingsFor } from '../../src/core/ledger';
import type { LedgerRecord, LedgerSummary } from '../../src/core/ledger-types';
import { withOptimiserSavings } from '../../src/core/optimiser/savings';
import type { TokenUsage } from '../../src/core/outcome';
import { BUILT_IN_PRICES, costUsd } from '../../src/core/prices';
import { formatStatsTable } from '../../src/cli/stats-table';
import { formatStatus } from '../../src/extension/statusView';
import { createProxyMetrics } from '../../src/proxy/metrics';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `m${++counter}`);
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-money-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const MODEL = 'claude-sonnet-4-5';
const PRICE = BUILT_IN_PRICES[MODEL]!;
/** First turn: the optimiser's breakpoints write 8k tokens to the cache, nothing is read yet. */
const FIRST: TokenUsage = { inputTokens: 10_000, outputTokens: 500, cachedInputTokens: 0, cacheWriteTokens: 8000 };
/** Second turn: those 8k are read back, 500 new ones written. */
const SECOND: TokenUsage = { inputTokens: 10_500, outputTokens: 400, cachedInputTokens: 8000, cacheWriteTokens: 500 };

/** A record as the engine writes it: saved from savingsFor/withOptimiserSavings, spent at the cache-aware rates. */
function record(layer: LedgerRecord['layer'], usage: TokenUsage, extra: Partial<LedgerRecord> = {}): LedgerRecord {
  const base = savingsFor(layer, MODEL, usage);
  const saving = layer === 'l3' ? withOptimiserSavings(base, MODEL, usage, { cacheHints: 2 }) : base;
  return {
    time: Date.UTC(2026, 11, 7, 12),
    tool: 'claude-code',
    routeId: 'default',
    api: 'anthropic.messages',
    model: MODEL,
    layer,
    status: 200,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    latencyMs: 5,
    savedTokens: saving.savedTokens,
    savedUsd: saving.savedUsd,
    spentUsd: layer === 'l3' ? costUsd(PRICE, usage) : 0,
    estimated: saving.estimated,
    ...extra,
  };
}

const close = (actual: number | undefined, expected: number, what: string): void => assert.ok(Math.abs((actual ?? Number.NaN) - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

async function summaryOf(records: LedgerRecord[], reopen = true): Promise<LedgerSummary> {
  const dir = freshDir();
  const ledger = await openLedger(dir);
  for (const rec of records) ledger.record(rec);
  await ledger.close();
  if (!reopen) return ledger.summary();
  const again = await openLedger(dir, { readOnly: true });
  return again.summary();
}

describe('what the cloud billed (QA #1, #6)', () => {
  it('spentFor prices a cloud request with cached reads and cache writes at their rates; deflected answers cost $0', () => {
    const { spentFor } = ledgerModule as unknown as Record<string, (...args: unknown[]) => { spentUsd: number; unpriced: boolean }>;
    assert.equal(typeof spentFor, 'function', 'ledger.ts exports spentFor');
    // 2,000 plain input at $3, 8,000 cache writes at $3.75, 500 output at $15 per million.
    close(spentFor!('l3', MODEL, FIRST).spentUsd, 0.0435, 'first turn');
    // 2,000 plain at $3, 8,000 cached reads at $0.30, 500 writes at $3.75, 400 output at $15.
    close(spentFor!('l3', MODEL, SECOND).spentUsd, 0.016275, 'second turn');
    for (const layer of ['l1a', 'l1b', 'l2'] as const) assert.equal(spentFor!(layer, MODEL, SECOND).spentUsd, 0, `${layer} never reached the cloud`);
    assert.equal(spentFor!('error', MODEL, { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 }).spentUsd, 0);
    assert.deepEqual(spentFor!('l3', 'my-private-model', SECOND), { spentUsd: 0, unpriced: true });
  });

  it('the ledger sums each record\'s spend, overall and per layer, and an L1a hit adds none; the status bar shows it', async () => {
    const summary = await summaryOf([record('l3', FIRST), record('l3', SECOND), record('l1a', SECOND)]);
    close(summary.totals.spentUsd, 0.0435 + 0.016275, 'total spent');
    close(summary.byLayer.l3?.spentUsd, 0.0435 + 0.016275, 'l3 spent');
    close(summary.byLayer.l1a?.spentUsd, 0, 'l1a spent');
    // saved: -0.006 (first turn's write premium) + 0.021225 (second turn's reads less its writes) + 0.016275 (the hit)
    close(summary.totals.savedUsd, 0.0315, 'total saved');
    const view = formatStatus({ state: 'on', summary });
    assert.match(view.tooltip, /spent \$0\.06 in the cloud · 35% of the bill saved/);
  });

  it('old records without spentUsd stay readable; their spend is left out and said to be', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const old = { ...record('l3', SECOND) } as Partial<LedgerRecord>;
    delete old.spentUsd;
    await writeFile(join(dir, 'ledger.jsonl'), `${JSON.stringify(old)}\n`);
    const ledger = await openLedger(dir);
    ledger.record(record('l3', FIRST));
    await ledger.close();
    const summary = (await openLedger(dir, { readOnly: true })).summary();
    assert.equal(summary.totals.requests, 2);
    close(summary.totals.spentUsd, 0.0435, 'only the new record\'s spend');
    assert.equal(summary.totals.spentMissing, 1);
    assert.match(formatStatus({ state: 'on', summary }).tooltip, /spent unknown for 1 request recorded before Isartor tracked it/);
  });

  it('an old snapshot without the new fields reads with them filled in, not as NaN', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const oldTotals = { requests: 5, deflected: 2, inputTokens: 10, outputTokens: 5, savedTokens: 4, savedUsd: 0.5 };
    const oldSummary = { totals: oldTotals, byLayer: { l1a: { ...oldTotals, requests: 2, deflected: 2 }, error: { ...oldTotals, requests: 1, deflected: 0 } }, byTool: {}, byModel: {}, byDay: {}, semanticRejected: {}, recent: [] };
    await writeFile(join(dir, 'ledger-rollup.json'), JSON.stringify({ version: 1, absorbed: [], summary: oldSummary }));
    const ledger = await openLedger(dir);
    ledger.record(record('l3', FIRST));
    const summary = ledger.summary();
    await ledger.close();
    close(summary.totals.spentUsd, 0.0435, 'spent');
    assert.equal(summary.totals.spentMissing, 5);
    assert.equal(summary.totals.failed, 1);
  });
});

describe('the optimiser\'s true net (QA #2)', () => {
  it('a first turn that writes more than it reads keeps its negative net through the ledger and a reopen', async () => {
    const first = record('l3', FIRST);
    close(first.savedUsd, -0.006, 'net of the first turn');
    const summary = await summaryOf([first, record('l3', SECOND)]);
    close(summary.byLayer.l3?.savedUsd, 0.021225 - 0.006, 'conversation net');
    close(summary.recent.at(-1)?.savedUsd, -0.006, 'the record as read back');
  });

  it('/metrics counts the write premium apart, so saved minus premium is the net', async () => {
    const metrics = createProxyMetrics();
    metrics.observeRecord(record('l3', FIRST));
    metrics.observeRecord(record('l3', SECOND));
    const text = await metrics.registry.metrics();
    assert.match(text, /isartor_optimiser_cache_write_premium_usd_total 0\.006\b/);
    assert.match(text, /isartor_saved_usd_total\{layer="l3"\} 0\.021225/);
    assert.match(text, /isartor_spent_usd_total\{layer="l3"\} 0\.05977/);
  });

  it('the tooltip labels the l3 row as the optimiser\'s saving', async () => {
    const summary = await summaryOf([record('l3', SECOND)], false);
    assert.match(formatStatus({ state: 'on', summary }).tooltip, /\| L3 cloud \(saved by the optimiser's cache hints and prompt edits\) \| 1 \|/);
  });
});

describe('estimates and unpriced models are said (QA #4)', () => {
  it('totals count estimated and unpriced requests; the status bar and isartor stats say so', async () => {
    const unknown: LedgerRecord = { ...record('l3', SECOND), model: 'my-private-model', spentUsd: 0, savedUsd: 0, estimated: true, unpriced: true };
    const l2 = record('l2', SECOND);
    const summary = await summaryOf([unknown, l2, record('l3', SECOND)]);
    assert.equal(summary.totals.unpriced, 1);
    assert.equal(summary.totals.estimated, 2);
    const view = formatStatus({ state: 'on', summary });
    assert.match(view.text, /^\$\(shield\) ~\$0\.\d\d saved/);
    const tooltip = view.tooltip;
    assert.match(tooltip, /1 request on a model without a price is not counted in \$/);
    assert.match(tooltip, /Saved \*\*~\$/);
    const table = formatStatsTable(summary, '/data');
    assert.match(table, /1 request on a model without a price is not counted in \$/);
    assert.match(table, /~ estimated: 2 requests/);
  });
});

describe('the local share is over answered requests (QA #9)', () => {
  it('2 answers and 3 upstream 404s read "50% local", "1 of 2 answered requests"', async () => {
    const failed = (): LedgerRecord => ({ ...record('error', { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 }), status: 404, error: 'upstream_404' });
    const summary = await summaryOf([record('l3', SECOND), record('l1a', SECOND), failed(), failed(), failed()]);
    const view = formatStatus({ state: 'on', summary });
    assert.equal(view.text, '$(shield) $0.04 saved · 50% local');
    assert.match(view.tooltip, /1 of 2 answered requests served locally \(50%\)/);
    assert.match(formatStatsTable(summary, '/data'), /1 of 2 answered requests served without the cloud \(50%\)/);
  });
});

describe('isartor stats (QA #12)', () => {
  it('shows spent and rounds like the status bar: "<$0.01", never "$0.0000"', async () => {
    const tiny = { ...record('l1a', { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 }) };
    const cloud = record('l3', { inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 }, { savedUsd: 0 });
    const table = formatStatsTable(await summaryOf([tiny, cloud]), '/data');
    assert.doesNotMatch(table, /\$0\.0000/);
    assert.match(table, /<\$0\.01 saved, <\$0\.01 spent in the cloud/);
    assert.match(table, /spent USD/);
  });
});


describe("the optimiser's net on a long-context request", () => {
  it('prices the read discount and the write premium at the long-context rates the request was billed at', () => {
    // claude-sonnet-4-5 over 200K input: input $6, cache read $0.60, 5-minute write $7.50 per MTok.
    const usage: TokenUsage = { inputTokens: 260_000, outputTokens: 1_000, cachedInputTokens: 200_000, cacheWriteTokens: 40_000 };
    const saving = withOptimiserSavings({ savedTokens: 0, savedUsd: 0, estimated: false }, 'claude-sonnet-4-5', usage, { cacheHints: 2 });
    const expected = (200_000 * (6 - 0.6) - 40_000 * (7.5 - 6)) / 1e6;
    assert.ok(Math.abs(saving.savedUsd - expected) < 1e-9, `${saving.savedUsd} != ${expected}`);
  });
});
