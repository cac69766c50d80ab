import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatsReport } from '../../../src/core/engine';
import { buildPanelSnapshot, plainDetail } from '../../../src/extension/lifecycle/snapshot';
import { emptySummary } from '../../../webview/protocol';

const layers = { exact: true, semantic: false, local: true, optimiser: true };

describe('buildPanelSnapshot', () => {
  it('shows the settings and no cache while the proxy is off', () => {
    const snapshot = buildPanelSnapshot({ host: { state: 'off' }, enabled: false, settings: { layers, prices: {} } });
    assert.equal(snapshot.state, 'off');
    assert.equal(snapshot.cache, null);
    assert.equal(snapshot.proxyUrl, undefined);
    assert.deepEqual(snapshot.summary, emptySummary());
    assert.deepEqual(
      snapshot.layers.map((layer) => [layer.name, layer.enabled]),
      [
        ['exact', true],
        ['semantic', false],
        ['local', true],
        ['optimiser', true],
      ],
    );
  });

  it('shows the engine’s live layer states, summed cache sizes and the error text', () => {
    const stats: StatsReport = {
      ledger: { ...emptySummary(), totals: { requests: 3, deflected: 1, inputTokens: 0, outputTokens: 0, savedTokens: 10, savedUsd: 0.01, failed: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 } },
      layers: { exact: { enabled: false, detail: '12 entries' }, local: { enabled: true, detail: 'idle: no model configured' }, upstream: { enabled: true, detail: '' } },
      caches: { exact: { entries: 12, bytes: 4096 }, semantic: { entries: 3, bytes: 1000 } },
    };
    const snapshot = buildPanelSnapshot({ host: { state: 'on', url: 'http://127.0.0.1:8787' }, enabled: true, stats, settings: { layers, prices: {} } });
    assert.equal(snapshot.proxyUrl, 'http://127.0.0.1:8787');
    assert.equal(snapshot.summary.totals.requests, 3);
    assert.deepEqual(snapshot.cache, { entries: 15, bytes: 5096 });
    const byName = Object.fromEntries(snapshot.layers.map((layer) => [layer.name, layer]));
    assert.deepEqual([byName.exact!.enabled, byName.exact!.detail], [false, '12 entries']);
    assert.equal(byName.local!.detail, 'idle: no model configured');
    assert.equal(byName.semantic!.detail, 'not part of this engine build');
    assert.equal(byName.semantic!.enabled, false);

    const failed = buildPanelSnapshot({ host: { state: 'error', error: 'listen EACCES' }, enabled: true, settings: { layers, prices: {} } });
    assert.equal(failed.error, 'listen EACCES');
  });

  it('shows the history on disk while the proxy is off, with what the cloud requests cost', () => {
    const stored = { ...emptySummary(), totals: { requests: 4, deflected: 1, inputTokens: 4_000_000, outputTokens: 0, savedTokens: 1_000_000, savedUsd: 2.5, failed: 0, spentUsd: 7.5, estimated: 0, unpriced: 0, spentMissing: 0 } };
    const snapshot = buildPanelSnapshot({ host: { state: 'off' }, enabled: false, storedSummary: stored, disconnected: ['Claude Code'], settings: { layers, prices: { 'gpt-4o': { input: 2.5, output: 10 } } } });
    assert.equal(snapshot.summary.totals.requests, 4);
    assert.equal(snapshot.spentUsd.toFixed(2), '7.50', 'the records\' summed spentUsd');
    assert.deepEqual(snapshot.disconnected, ['Claude Code']);
  });

  it('puts engine ids and option names into words', () => {
    assert.equal(plainDetail('lexical-v1-d128-b0.5, threshold 0.82, 12 entries'), 'built-in word matching, matches at 82% similarity, 12 entries');
    assert.equal(plainDetail('transformers:dir:/home/u/models/Xenova/all-MiniLM-L6-v2, threshold 0.9, 0 entries'), 'model all-MiniLM-L6-v2, matches at 90% similarity, 0 entries');
    assert.equal(plainDetail('on: cacheHints, whitespace, htmlComments, dedupeBlocks'), 'adds prompt-cache hints, trims extra whitespace, drops HTML comments, drops repeated blocks');
  });
});
