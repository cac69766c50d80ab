// The savings ledger on real files: aggregates, reopen, torn lines, rotation with exact totals, savingsFor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLedger, savingsFor } from '../../src/core/ledger';
import type { LedgerRecord } from '../../src/core/ledger-types';
import { StoreLockedError } from '../../src/core/store/lockFile';
import { BUILT_IN_PRICES, costUsd } from '../../src/core/prices';

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `l${++counter}`);
const DAY1 = Date.UTC(2026, 10, 23, 23, 59, 0);
const DAY2 = Date.UTC(2026, 10, 24, 0, 1, 0);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-ledger-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function rec(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    time: DAY1,
    tool: 'continue',
    routeId: 'default',
    api: 'openai.chat',
    model: 'gpt-4o',
    layer: 'l3',
    status: 200,
    inputTokens: 100,
    outputTokens: 20,
    cachedInputTokens: 0,
    latencyMs: 300,
    savedTokens: 0,
    savedUsd: 0,
    spentUsd: 0,
    estimated: false,
    ...overrides,
  };
}

const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean);

describe('ledger', () => {
  it('aggregates by layer, tool, model and UTC day, counting deflections and rejections', async () => {
    const ledger = await openLedger(freshDir());
    ledger.record(rec({ layer: 'l3', semanticRejected: 'numbers_differ' }));
    ledger.record(rec({ layer: 'l1a', savedTokens: 120, savedUsd: 0.01, time: DAY2 }));
    ledger.record(rec({ layer: 'l1b', tool: 'claude-code', model: 'claude-sonnet-4-5', savedTokens: 50, savedUsd: 0.002, time: DAY2 }));
    ledger.record(rec({ layer: 'l2', savedTokens: 30, savedUsd: 0, estimated: true, time: DAY2 }));
    ledger.record(rec({ layer: 'error', status: 502, inputTokens: 0, outputTokens: 0, error: 'upstream_unreachable', semanticRejected: 'numbers_differ' }));
    // Counted at once, before anything reached the disk.
    const summary = ledger.summary();
    assert.deepEqual(summary.totals, { requests: 5, deflected: 3, failed: 1, inputTokens: 400, outputTokens: 80, savedTokens: 200, savedUsd: 0.012, spentUsd: 0, estimated: 1, unpriced: 0, spentMissing: 0 });
    assert.equal(summary.byLayer.l1a!.deflected, 1);
    assert.equal(summary.byLayer.l3!.deflected, 0);
    assert.equal(summary.byLayer.error!.requests, 1);
    assert.equal(summary.byTool.continue!.requests, 4);
    assert.equal(summary.byTool['claude-code']!.savedTokens, 50);
    assert.equal(summary.byModel['claude-sonnet-4-5']!.requests, 1);
    assert.deepEqual(Object.keys(summary.byDay).sort(), ['2026-11-23', '2026-11-24']);
    assert.equal(summary.byDay['2026-11-24']!.deflected, 3);
    assert.equal(summary.byDayLayer!['2026-11-24']!.l1b!.requests, 1);
    assert.deepEqual(summary.semanticRejected, { numbers_differ: 2 });
    assert.deepEqual(summary.recent.map((r) => r.layer), ['error', 'l2', 'l1b', 'l1a', 'l3'], 'newest first');
    await ledger.close();
  });

  it('keeps at most 100 recent records', async () => {
    const ledger = await openLedger(freshDir());
    for (let i = 0; i < 130; i++) ledger.record(rec({ latencyMs: i }));
    const { recent, totals } = ledger.summary();
    assert.equal(recent.length, 100);
    assert.equal(recent[0]!.latencyMs, 129);
    assert.equal(totals.requests, 130);
    await ledger.close();
  });

  it('rebuilds the same aggregates on reopen', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir);
    for (let i = 0; i < 20; i++) ledger.record(rec({ layer: i % 2 ? 'l1a' : 'l3', savedTokens: i, time: DAY1 + i }));
    const before = ledger.summary();
    await ledger.close();
    ledger = await openLedger(dir);
    assert.deepEqual(ledger.summary(), before);
    await ledger.close();
  });

  it('skips a torn last line after a crash and appends cleanly after it', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir);
    ledger.record(rec());
    ledger.record(rec());
    await ledger.close();
    await appendFile(join(dir, 'ledger.jsonl'), '{"time":17000000,"tool":"cont');
    ledger = await openLedger(dir);
    assert.equal(ledger.summary().totals.requests, 2);
    ledger.record(rec({ layer: 'l1a' }));
    await ledger.close();
    ledger = await openLedger(dir);
    assert.equal(ledger.summary().totals.requests, 3);
    assert.equal(ledger.summary().byLayer.l1a!.requests, 1);
    assert.equal((await lines(join(dir, 'ledger.jsonl'))).length, 3);
    await ledger.close();
  });

  it('skips lines that are not records instead of failing to open', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir);
    ledger.record(rec());
    await ledger.close();
    await appendFile(join(dir, 'ledger.jsonl'), 'garbage\n{"not":"a record"}\n');
    ledger = await openLedger(dir);
    assert.equal(ledger.summary().totals.requests, 1);
    await ledger.close();
  });

  it('keeps the newest 100 records newest first through many records, rotations and a reopen', async () => {
    const dir = freshDir();
    const newest = (last: number): number[] => Array.from({ length: 100 }, (_, i) => last - i);
    let ledger = await openLedger(dir, { maxRecords: 50 });
    for (let i = 0; i < 451; i++) {
      ledger.record(rec({ latencyMs: i }));
      // Around each multiple of 100 and 200 the live list trims its slack; check both sides.
      if ([99, 100, 101, 199, 200, 201, 399].includes(i)) {
        const { recent } = ledger.summary();
        assert.deepEqual(recent.map((r) => r.latencyMs), newest(i).filter((n) => n >= 0), `after record ${i}`);
      }
      if (i % 7 === 0) await ledger.flush();
    }
    await ledger.close();
    // The rollup written at the last rotation holds the newest records then on disk, newest first.
    const rollup = JSON.parse(await readFile(join(dir, 'ledger-rollup.json'), 'utf8')) as { summary: { totals: { requests: number }; recent: LedgerRecord[] } };
    const rolled = rollup.summary.totals.requests;
    assert.deepEqual(rollup.summary.recent.map((r) => r.latencyMs), newest(rolled - 1));
    ledger = await openLedger(dir, { maxRecords: 50 });
    assert.deepEqual(ledger.summary().recent.map((r) => r.latencyMs), newest(450));
    ledger.record(rec({ latencyMs: 451 }));
    assert.deepEqual(ledger.summary().recent.map((r) => r.latencyMs), newest(451));
    await ledger.close();
  });

  it('rotates the file into a snapshot so it stays bounded, with totals still exact after reopen', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir, { maxRecords: 10 });
    for (let i = 0; i < 47; i++) {
      ledger.record(rec({ layer: i % 3 === 0 ? 'l1a' : 'l3', savedTokens: 1, savedUsd: 0.5, time: DAY1 + i * 60_000 }));
      if (i % 4 === 0) await ledger.flush();
    }
    const before = ledger.summary();
    await ledger.close();
    assert.ok((await lines(join(dir, 'ledger.jsonl'))).length < 10, 'the live file was rotated');
    assert.deepEqual((await readdir(dir)).sort(), ['ledger-rollup.json', 'ledger.jsonl']);
    ledger = await openLedger(dir, { maxRecords: 10 });
    const after = ledger.summary();
    assert.equal(after.totals.requests, 47);
    assert.equal(after.totals.savedTokens, 47);
    assert.equal(after.byLayer.l1a!.requests, 16);
    assert.deepEqual(after, before);
    await ledger.close();
  });

  it('counts a file rolled aside by a crash mid-rotation exactly once', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir, { maxRecords: 5 });
    for (let i = 0; i < 5; i++) ledger.record(rec());
    await ledger.close(); // rotated: rollup holds 5, ledger.jsonl empty
    const rollup = JSON.parse(await readFile(join(dir, 'ledger-rollup.json'), 'utf8')) as { absorbed: string[] };
    // Crash after the snapshot was written but before the rolled file was deleted: already counted.
    await writeFile(join(dir, `ledger.rolling-${rollup.absorbed[0]}.jsonl`), `${JSON.stringify(rec())}\n`.repeat(5));
    // Crash after the rename but before the snapshot: not counted yet.
    await writeFile(join(dir, 'ledger.rolling-zzz-new.jsonl'), `${JSON.stringify(rec({ layer: 'l1a' }))}\n`.repeat(3));
    ledger = await openLedger(dir, { maxRecords: 5 });
    assert.equal(ledger.summary().totals.requests, 8);
    assert.equal(ledger.summary().byLayer.l1a!.requests, 3);
    await ledger.close();
    ledger = await openLedger(dir, { maxRecords: 5 });
    assert.equal(ledger.summary().totals.requests, 8, 'and still once after another reopen');
    assert.ok(!(await readdir(dir)).some((name) => name.startsWith('ledger.rolling-')));
    await ledger.close();
  });

  it('a rotation whose snapshot cannot be written (a full disk) does not stop the records after it from reaching the file', async () => {
    const dir = freshDir();
    const ledger = await openLedger(dir, { maxRecords: 5 });
    // The snapshot's draft cannot be created, as on a full disk: a folder stands in its way.
    await mkdir(join(dir, 'ledger-rollup.json.tmp'));
    for (let i = 0; i < 5; i++) ledger.record(rec());
    await ledger.flush(); // appended, then the rotation fails at the snapshot
    // More than the snapshot's list of absorbed files: each failed rotation is tried again later.
    for (let i = 0; i < 60; i++) {
      ledger.record(rec());
      await ledger.flush();
    }
    await rmdir(join(dir, 'ledger-rollup.json.tmp')); // space again
    for (let i = 0; i < 3; i++) ledger.record(rec({ layer: 'l1a' }));
    await ledger.flush();
    for (let i = 0; i < 4; i++) ledger.record(rec());
    await ledger.flush(); // and a rotation that succeeds
    assert.equal(ledger.summary().totals.requests, 72);
    // A crash now (no close): what a restart counts is what reached the disk.
    const reopened = await openLedger(dir, { maxRecords: 5, readOnly: true });
    assert.equal(reopened.summary().totals.requests, 72, 'the records after the failed rotations are on disk');
    assert.equal(reopened.summary().byLayer.l1a?.requests, 3);
    await ledger.close();
    const afterClose = await openLedger(dir, { maxRecords: 5 });
    assert.equal(afterClose.summary().totals.requests, 72, 'each record counted once');
    await afterClose.close();
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('ledger.rolling-')), [], 'no rolled file left to count again');
  });

  it('one writer per data dir: a second process is refused while the first runs, and opens once it was killed', async () => {
    // Two writers each roll the file aside and write the snapshot of their own counts: one loses
    // the other's records (two `isartor serve --store redis://…` on one data dir took no other lock).
    const dir = freshDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'ledgerHolderChild.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      assert.equal(line, 'open');
      await assert.rejects(openLedger(dir), StoreLockedError);
      const reader = await openLedger(dir, { readOnly: true }); // isartor stats and the panel still read it
      await reader.close();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const ledger = await openLedger(dir); // a killed owner's lock does not block the next start
    ledger.record(rec());
    await ledger.close();
    assert.ok(!(await readdir(dir)).some((name) => name.includes('.lock')), 'close releases the lock');
  });

  it('tells listeners about each record until disposed; a throwing listener breaks nothing', async () => {
    const ledger = await openLedger(freshDir());
    const seen: string[] = [];
    ledger.onRecord(() => {
      throw new Error('listener bug');
    });
    const subscription = ledger.onRecord((r) => seen.push(r.layer));
    ledger.record(rec({ layer: 'l1a' }));
    subscription.dispose();
    ledger.record(rec({ layer: 'l3' }));
    assert.deepEqual(seen, ['l1a']);
    assert.equal(ledger.summary().totals.requests, 2);
    await ledger.close();
  });

  it('clear() forgets everything, on disk too', async () => {
    const dir = freshDir();
    let ledger = await openLedger(dir, { maxRecords: 3 });
    for (let i = 0; i < 7; i++) ledger.record(rec());
    await ledger.flush();
    await ledger.clear();
    assert.equal(ledger.summary().totals.requests, 0);
    ledger.record(rec({ layer: 'l1b' }));
    await ledger.close();
    ledger = await openLedger(dir, { maxRecords: 3 });
    assert.equal(ledger.summary().totals.requests, 1);
    assert.equal(ledger.summary().byLayer.l1b!.requests, 1);
    await ledger.close();
  });

  it('read-only: sees what a writer flushed without changing any file', async () => {
    const dir = freshDir();
    const writer = await openLedger(dir);
    writer.record(rec({ layer: 'l1a' }));
    writer.record(rec());
    await writer.flush();
    await appendFile(join(dir, 'ledger.jsonl'), '{"time":1,"to'); // a writer mid-append
    const before = await readFile(join(dir, 'ledger.jsonl'));
    const reader = await openLedger(dir, { readOnly: true });
    assert.equal(reader.summary().totals.requests, 2);
    reader.record(rec());
    await assert.rejects(reader.clear(), /read-only/);
    await reader.close();
    assert.deepEqual(await readFile(join(dir, 'ledger.jsonl')), before, 'the reader must not cut the half-written line');
    await writer.close();
    const missing = await openLedger(join(dir, 'does-not-exist'), { readOnly: true });
    assert.equal(missing.summary().totals.requests, 0);
    await missing.close();
    assert.ok(!(await readdir(dir)).includes('does-not-exist'));
  });

  it('batches the appends of a window into one write, and close() writes what is still waiting', async () => {
    const dir = freshDir();
    const ledger = await openLedger(dir, { flushDelayMs: 60_000 });
    for (let i = 0; i < 3; i++) ledger.record(rec({ latencyMs: i }));
    // Several turns of the event loop later, the window is still open: nothing on disk yet, all counted.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await readFile(join(dir, 'ledger.jsonl'), 'utf8')).length, 0);
    assert.equal(ledger.summary().totals.requests, 3);
    await ledger.close(); // must not wait the 60 s either: close() cancels the timer and writes now
    assert.deepEqual((await lines(join(dir, 'ledger.jsonl'))).map((line) => (JSON.parse(line) as LedgerRecord).latencyMs), [0, 1, 2]);
    await assert.rejects(openLedger(dir, { flushDelayMs: -1 }), RangeError);
  });

  it('sanitises bad numbers rather than poisoning the totals', async () => {
    const ledger = await openLedger(freshDir());
    ledger.record(rec({ inputTokens: Number.NaN, savedUsd: Number.POSITIVE_INFINITY, outputTokens: -4 }));
    ledger.record({ nonsense: true } as unknown as LedgerRecord);
    const { totals } = ledger.summary();
    assert.equal(totals.requests, 1);
    assert.equal(totals.inputTokens, 0);
    assert.equal(totals.outputTokens, 0);
    assert.equal(totals.savedUsd, 0);
    await ledger.close();
  });
});

describe('savingsFor', () => {
  const usage = { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 200, cacheWriteTokens: 0 };

  it('a cache hit saves the stored answer tokens and their cost under the price table', () => {
    const saved = savingsFor('l1a', 'gpt-4o-2024-08-06', usage);
    assert.equal(saved.savedTokens, 1500);
    assert.equal(saved.savedUsd, costUsd(BUILT_IN_PRICES['gpt-4o']!, usage));
    assert.ok(saved.savedUsd > 0);
    assert.equal(saved.estimated, false);
    assert.deepEqual(savingsFor('l1b', 'gpt-4o', usage), { ...saved });
  });

  it('a local answer saves the same, marked as an estimate', () => {
    const saved = savingsFor('l2', 'gpt-4o', usage);
    assert.equal(saved.savedTokens, 1500);
    assert.equal(saved.savedUsd, costUsd(BUILT_IN_PRICES['gpt-4o']!, usage));
    assert.equal(saved.estimated, true);
  });

  it('an unknown model saves $0, marked as an estimate; overrides give it a price', () => {
    assert.deepEqual(savingsFor('l1a', 'my-model', usage), { savedTokens: 1500, savedUsd: 0, estimated: true });
    const priced = savingsFor('l1a', 'my-model', usage, { 'my-model': { input: 1, output: 2 } });
    assert.equal(priced.savedUsd, (1200 * 1 + 300 * 2) / 1e6);
    assert.equal(priced.estimated, false);
  });

  it('forwarded requests and errors save nothing here', () => {
    assert.deepEqual(savingsFor('l3', 'gpt-4o', usage), { savedTokens: 0, savedUsd: 0, estimated: false });
    assert.deepEqual(savingsFor('error', 'gpt-4o', usage), { savedTokens: 0, savedUsd: 0, estimated: false });
  });
});
