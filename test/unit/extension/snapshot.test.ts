import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatsReport } from '../../../src/core/engine';
import { buildPanelSnapshot } from '../../../src/extension/lifecycle/snapshot';
import { emptySummary } from '../../../webview/protocol';

const layers = { exact: true, semantic: false, local: true, optimiser: true };

describe('buildPanelSnapshot', () => {
  it('shows the settings and no cache while the proxy is off', () => {
    const snapshot = buildPanelSnapshot({ host: { state: 'off' }, enabled: false, settings: { layers } });
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
      ledger: { ...emptySummary(), totals: { requests: 3, deflected: 1, inputTokens: 0, outputTokens: 0, savedTokens: 10, savedUsd: 0.01 } },
      layers: { exact: { enabled: false, detail: '12 entries' }, local: { enabled: true, detail: 'idle: no model configured' }, upstream: { enabled: true, detail: '' } },
      caches: { exact: { entries: 12, bytes: 4096 }, semantic: { entries: 3, bytes: 1000 } },
    };
    const snapshot = buildPanelSnapshot({ host: { state: 'on', url: 'http://127.0.0.1:8787' }, enabled: true, stats, settings: { layers } });
    assert.equal(snapshot.proxyUrl, 'http://127.0.0.1:8787');
    assert.equal(snapshot.summary.totals.requests, 3);
    assert.deepEqual(snapshot.cache, { entries: 15, bytes: 5096 });
    const byName = Object.fromEntries(snapshot.layers.map((layer) => [layer.name, layer]));
    assert.deepEqual([byName.exact!.enabled, byName.exact!.detail], [false, '12 entries']);
    assert.equal(byName.local!.detail, 'idle: no model configured');
    assert.equal(byName.semantic!.detail, 'not part of this engine build');
    assert.equal(byName.semantic!.enabled, false);

    const failed = buildPanelSnapshot({ host: { state: 'error', error: 'listen EACCES' }, enabled: true, settings: { layers } });
    assert.equal(failed.error, 'listen EACCES');
  });
});
