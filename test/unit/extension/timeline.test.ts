import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LedgerRecord, LedgerTotals } from '../../../src/core/ledger-types';
import { buildTimeline } from '../../../webview/timeline';
import { emptySummary } from '../../../webview/protocol';

const t = (requests: number): LedgerTotals => ({ requests, deflected: 0, inputTokens: 0, outputTokens: 0, savedTokens: 0, savedUsd: 0, failed: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 });

function record(time: string, layer: LedgerRecord['layer']): LedgerRecord {
  return { time: Date.parse(time), tool: 'continue', routeId: '', api: 'openai.chat', model: 'gpt-4o', layer, status: 200, inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, latencyMs: 1, savedTokens: 0, savedUsd: 0, estimated: false };
}

describe('buildTimeline', () => {
  it('uses per-day layer totals and fills quiet days with zeros', () => {
    const summary = { ...emptySummary(), byDayLayer: { '2026-11-24': { l1a: t(3), l3: t(5) }, '2026-11-22': { l1b: t(1) } } };
    const timeline = buildTimeline(summary);
    assert.equal(timeline.unit, 'day');
    assert.deepEqual(timeline.labels, ['11-22', '11-23', '11-24']);
    assert.deepEqual(timeline.series, { l1a: [0, 0, 3], l1b: [1, 0, 0], l2: [0, 0, 0], l3: [0, 0, 5] });
  });

  it('keeps only the newest buckets', () => {
    const byDayLayer: Record<string, Record<string, LedgerTotals>> = {};
    for (let day = 1; day <= 20; day++) byDayLayer[`2026-11-${String(day).padStart(2, '0')}`] = { l1a: t(day) };
    const timeline = buildTimeline({ ...emptySummary(), byDayLayer }, 14);
    assert.equal(timeline.labels.length, 14);
    assert.equal(timeline.labels[13], '11-20');
    assert.equal(timeline.series.l1a[13], 20);
  });

  it('falls back to hourly buckets of the recent records', () => {
    const recent = [record('2026-11-24T14:59:00Z', 'l1a'), record('2026-11-24T14:01:00Z', 'l3'), record('2026-11-24T12:30:00Z', 'l1a'), record('2026-11-24T12:31:00Z', 'error')];
    const timeline = buildTimeline({ ...emptySummary(), recent });
    assert.equal(timeline.unit, 'hour');
    assert.deepEqual(timeline.labels, ['11-24 12:00', '11-24 13:00', '11-24 14:00']);
    assert.deepEqual(timeline.series.l1a, [1, 0, 1]);
    assert.deepEqual(timeline.series.l3, [0, 0, 1]);
  });

  it('is empty with no data', () => {
    assert.deepEqual(buildTimeline(emptySummary()).labels, []);
  });
});
