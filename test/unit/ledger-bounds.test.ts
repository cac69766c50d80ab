// The ledger's memory and stats stay bounded whatever the clients send (issue 11): long model and
// tool names are cut, and past MAX_KEYS distinct ones the rest count under "other".
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { openLedger } from '../../src/core/ledger';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { boundSummary, emptySummary, MAX_DAYS, MAX_KEYS, MAX_LABEL_CHARS, OTHER_KEY } from '../../src/core/ledgerSummary';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-ledger-bounds-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function rec(model: string, tool: string): LedgerRecord {
  return {
    time: Date.UTC(2026, 10, 24), tool, routeId: 'default', api: 'openai.chat', model, layer: 'l3', status: 200,
    inputTokens: 10, outputTokens: 2, cachedInputTokens: 0, latencyMs: 5, savedTokens: 0, savedUsd: 0, estimated: false,
  };
}

/** 1,000 distinct names of 20 kB each, as in the measurement. */
const longName = (i: number, prefix: string): string => `${prefix}-${i}-${'m'.repeat(20_000)}`;

function assertBounded(summary: ReturnType<typeof emptySummary>, requests: number): void {
  assert.equal(summary.totals.requests, requests, 'every request still counts');
  for (const table of [summary.byModel, summary.byTool]) {
    const keys = Object.keys(table);
    assert.ok(keys.length <= MAX_KEYS, `${keys.length} keys`);
    assert.ok(keys.every((key) => key.length <= MAX_LABEL_CHARS));
    assert.equal(Object.values(table).reduce((sum, totals) => sum + totals.requests, 0), requests, 'folded, not dropped');
  }
  assert.ok(summary.byModel[OTHER_KEY]!.requests > 0);
  assert.ok(summary.recent.every((record) => record.model.length <= MAX_LABEL_CHARS && record.tool.length <= MAX_LABEL_CHARS));
  assert.ok(JSON.stringify(summary).length < 200_000, `stats are ${JSON.stringify(summary).length} bytes`);
}

it('1,000 distinct 20 kB model and tool names: bounded summary, short ledger lines, same after reopening', async () => {
  const dir = join(root, 'a');
  const ledger = await openLedger(dir, { flushDelayMs: 0 });
  for (let i = 0; i < 1000; i++) ledger.record(rec(longName(i, 'model'), longName(i, 'tool')));
  assertBounded(ledger.summary(), 1000);
  await ledger.close();
  const lines = (await readFile(join(dir, 'ledger.jsonl'), 'utf8')).split('\n').filter(Boolean);
  assert.equal(lines.length, 1000);
  assert.ok(lines.every((line) => line.length < 1000), 'no 20 kB name reaches the file');
  const reopened = await openLedger(dir);
  assertBounded(reopened.summary(), 1000);
  await reopened.close();
});

it('a snapshot written before the bounds is folded when it is read', async () => {
  const dir = join(root, 'b');
  const summary = emptySummary();
  for (let i = 0; i < 500; i++) summary.byModel[longName(i, 'old')] = { requests: 1, deflected: 0, inputTokens: 1, outputTokens: 1, savedTokens: 0, savedUsd: 0, failed: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 };
  summary.totals.requests = 500;
  const ledger = await openLedger(dir);
  await ledger.close();
  await writeFile(join(dir, 'ledger-rollup.json'), JSON.stringify({ version: 1, absorbed: [], summary }));
  const reopened = await openLedger(dir);
  const models = reopened.summary().byModel;
  assert.ok(Object.keys(models).length <= MAX_KEYS);
  assert.equal(Object.values(models).reduce((sum, totals) => sum + totals.requests, 0), 500);
  await reopened.close();
});

it('a proxy running for years keeps MAX_DAYS days, in memory and after reopening; the totals keep every day', async () => {
  const dir = join(root, 'days');
  const ledger = await openLedger(dir, { flushDelayMs: 0 });
  const days = MAX_DAYS + 100;
  const start = Date.UTC(2026, 0, 1, 12);
  for (let day = 0; day < days; day++) ledger.record({ ...rec('gpt-4o', 'cli'), layer: 'l1a', time: start + day * 86_400_000 });
  const newest = new Date(start + (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const oldestKept = new Date(start + (days - MAX_DAYS) * 86_400_000).toISOString().slice(0, 10);
  const check = (summary: ReturnType<typeof emptySummary>): void => {
    assert.equal(summary.totals.requests, days, 'every day still counts in the totals');
    for (const table of [summary.byDay, summary.byDayLayer!]) {
      const kept = Object.keys(table).sort();
      assert.equal(kept.length, MAX_DAYS);
      assert.equal(kept[0], oldestKept);
      assert.equal(kept.at(-1), newest);
    }
  };
  check(ledger.summary());
  await ledger.close();
  const reopened = await openLedger(dir);
  check(reopened.summary());
  await reopened.close();
});

it('a rollup written before the day limit is trimmed when it is read', () => {
  const summary = emptySummary();
  for (let day = 0; day < MAX_DAYS + 30; day++) {
    const text = new Date(Date.UTC(2020, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
    summary.byDay[text] = { ...summary.totals, requests: 1 };
    summary.byDayLayer![text] = { l3: { ...summary.totals, requests: 1 } };
  }
  const bounded = boundSummary(summary);
  assert.equal(Object.keys(bounded.byDay).length, MAX_DAYS);
  assert.equal(Object.keys(bounded.byDayLayer!).length, MAX_DAYS);
  assert.ok(!('2020-01-01' in bounded.byDay), 'the oldest days went');
});
