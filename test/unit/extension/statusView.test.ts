import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LedgerSummary, LedgerTotals } from '../../../src/core/ledger-types';
import { formatStatus } from '../../../src/extension/statusView';
import { deflectionRate, formatCount, formatUsd, savedShare } from '../../../src/shared/format';

const ROOT = join(__dirname, '..', '..', '..');

function totals(requests: number, deflected: number, savedTokens: number, savedUsd: number, spentUsd = 0, failed = 0): LedgerTotals {
  return { requests, deflected, failed, inputTokens: 0, outputTokens: 0, savedTokens, savedUsd, spentUsd, estimated: 0, unpriced: 0, spentMissing: 0 };
}

function summary(byLayer: Record<string, LedgerTotals>): LedgerSummary {
  const sum = Object.values(byLayer).reduce(
    (acc, t) => totals(acc.requests + t.requests, acc.deflected + t.deflected, acc.savedTokens + t.savedTokens, acc.savedUsd + t.savedUsd, acc.spentUsd + t.spentUsd, acc.failed + t.failed),
    totals(0, 0, 0, 0),
  );
  return { totals: sum, byLayer, byTool: {}, byModel: {}, byDay: {}, semanticRejected: {}, recent: [] };
}

describe('status formatting', () => {
  it('formats money for every order of magnitude', () => {
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(-1), '-$1.00', 'an optimiser net below zero keeps its sign');
    assert.equal(formatUsd(Number.NaN), '$0.00');
    assert.equal(formatUsd(0.0042), '<$0.01');
    assert.equal(formatUsd(0.000008), '<$0.01');
    assert.equal(formatUsd(0.01), '$0.01');
    assert.equal(formatUsd(4.123), '$4.12');
    assert.equal(formatUsd(1234), '$1.2k');
    assert.equal(formatUsd(2_500_000), '$2.5M');
  });

  it('formats counts and the deflection rate', () => {
    assert.equal(formatCount(950), '950');
    assert.equal(formatCount(12_345), '12.3k');
    assert.equal(formatCount(4_500_000), '4.5M');
    assert.equal(deflectionRate({ requests: 0, deflected: 0 }), '0%');
    assert.equal(deflectionRate({ requests: 27, deflected: 10 }), '37%');
  });

  it('picks the unit after rounding, so no value reads "1000" of a unit', () => {
    assert.equal(formatUsd(999.996), '$1.0k');
    assert.equal(formatUsd(999.994), '$999.99');
    assert.equal(formatUsd(999_950), '$1.0M');
    assert.equal(formatUsd(999_949), '$999.9k');
    assert.equal(formatUsd(1e13), '$10.0T');
    assert.equal(formatCount(999.5), '1.0k');
    assert.equal(formatCount(999_950), '1.0M');
    assert.equal(formatCount(2.5e9), '2.5B');
  });

  it('shows 0% and 100% only when exact', () => {
    assert.equal(deflectionRate({ requests: 200, deflected: 199 }), '>99%');
    assert.equal(deflectionRate({ requests: 200, deflected: 200 }), '100%');
    assert.equal(deflectionRate({ requests: 1000, deflected: 4 }), '<1%');
    assert.equal(deflectionRate({ requests: 1000, deflected: 0 }), '0%');
    assert.equal(deflectionRate({ requests: 1000, deflected: 5 }), '1%');
    assert.equal(deflectionRate({ requests: 1000, deflected: 995 }), '>99%');
    assert.equal(savedShare(0.004, 10), '<1%');
    assert.equal(savedShare(10, 0.004), '>99%');
    assert.equal(savedShare(10, 0), '100%');
    assert.equal(savedShare(0, 10), '0%');
  });

  it('shows rate and money when on, with a per-layer tooltip', () => {
    const view = formatStatus({
      state: 'on',
      proxyUrl: 'http://127.0.0.1:8787',
      summary: summary({ l1a: totals(8, 8, 12_000, 3.5), l1b: totals(2, 2, 3000, 0.62), l3: totals(17, 0, 0, 0, 12.36) }),
    });
    assert.equal(view.text, '$(shield) $4.12 saved · 37% local');
    assert.match(view.tooltip, /spent \$12\.36 in the cloud · 25% of the bill saved/);
    assert.match(view.tooltip, /\[\$\(graph\) Show Savings\]\(command:isartor\.showSavings\)/);
    assert.equal(view.look, 'on');
    assert.match(view.tooltip, /\| L1a exact cache \| 8 \| 12\.0k \| \$3\.50 \| \$0\.00 \|/);
    assert.match(view.tooltip, /\| L1b semantic cache \| 2 \| 3\.0k \| \$0\.62 \|/);
    assert.match(view.tooltip, /\| L3 cloud \(saved by the optimiser's cache hints and prompt edits\) \| 17 \| 0 \| \$0\.00 \| \$12\.36 \|/);
    assert.doesNotMatch(view.tooltip, /L2 local model/);
    assert.match(view.tooltip, /Saved \*\*\$4\.12\*\* \(15\.0k tokens\)/);
    assert.match(view.tooltip, /127\.0\.0\.1:8787/);

    // The walkthrough and the README quote this text to users: they must show what the item shows.
    const shown = view.text.replace('$(shield) ', '');
    for (const doc of ['media/walkthrough/savings.md', 'README.md']) {
      assert.ok(readFileSync(join(ROOT, doc), 'utf8').includes(`\`${shown}\``), `${doc} quotes the status bar as it looks today: \`${shown}\``);
    }
  });

  it('shows zeros before the first request', () => {
    const view = formatStatus({ state: 'on' });
    assert.equal(view.text, '$(shield) $0.00 saved · 0% local');
    assert.match(view.tooltip, /No requests yet/);
  });

  it('gives off, starting and error distinct looks, all starting with the shield', () => {
    const views = (['off', 'starting', 'error'] as const).map((state) => formatStatus({ state, error: 'listen EACCES: permission denied 127.0.0.1:80' }));
    assert.deepEqual(views.map((view) => view.look), ['off', 'starting', 'error']);
    for (const view of views) assert.ok(view.text.startsWith('$(shield)'));
    assert.equal(new Set(views.map((view) => view.text)).size, 3);
    assert.match(views[2]!.tooltip, /listen EACCES: permission denied 127\\\.0\\\.0\\\.1:80/);
  });

  it('says which connected tool no longer goes through Isartor, with a link to connect it', () => {
    const view = formatStatus({ state: 'on', disconnected: ['Claude Code'] });
    assert.equal(view.text, '$(shield) $(warning) Claude Code not connected');
    assert.equal(view.look, 'warning');
    assert.match(view.tooltip, /Claude Code does not go through Isartor/);
    assert.match(view.tooltip, /\(command:isartor\.connectTools\)/);
  });

  it('says when the team\'s shared cache cannot be reached, and goes back to normal once it can', () => {
    const down = formatStatus({ state: 'on', sharedCacheProblem: 'shared cache unavailable: connect ECONNREFUSED 127.0.0.1:6379' });
    assert.match(down.text, /Shared cache unavailable/);
    assert.equal(down.look, 'warning');
    assert.match(down.tooltip, /ECONNREFUSED/);
    const up = formatStatus({ state: 'on' });
    assert.doesNotMatch(up.text, /Shared cache/);
    assert.equal(up.look, 'on');
  });
});
