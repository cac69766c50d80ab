// "Isartor: Clear Cache" from the palette (or the panel's button) must reach every open view: the
// controller reports the change through the same notification the views already follow, after the
// caches are empty, so the figures an open savings panel reads then are the cleared ones.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { readSettings } from '../../../src/extension/config';
import { buildPanelSnapshot } from '../../../src/extension/lifecycle/snapshot';
import { closeWindows, makeShared, makeWindow, type Shared, type Window } from '../../fixtures/controllerHarness';

let shared: Shared;
afterEach(() => closeWindows(shared));

/** The cache figures the savings panel would show right now (its snapshot, as extension.ts builds it). */
function panelCacheFigures(window: Window): { entries: number; bytes: number } | null {
  const settings = readSettings({ get: () => undefined });
  return buildPanelSnapshot({ host: window.host.snapshot, enabled: window.controller.enabled, stats: window.controller.stats(), settings }).cache;
}

describe('clear cache', () => {
  it('tells the views to refresh once the caches are empty, so an open panel shows the cleared figures', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, []);
    await a.controller.activate();
    await a.controller.enable();
    a.host.proxy!.cached = { entries: 3, bytes: 1200 };
    const refreshes: unknown[] = [];
    a.onDidChange = () => refreshes.push(panelCacheFigures(a));
    assert.equal(await a.controller.clearCache(), true);
    assert.deepEqual(refreshes, [{ entries: 0, bytes: 0 }]);
  });

  it('a clear that fails part-way (shared cache gone) still refreshes the views and reports the failure', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, []);
    await a.controller.activate();
    await a.controller.enable();
    const proxy = a.host.proxy!;
    proxy.cached = { entries: 3, bytes: 1200 };
    proxy.clearCaches = async () => {
      proxy.cached = { entries: 1, bytes: 400 }; // the embedded caches emptied, the shared one did not answer
      throw new Error('clearing the caches failed (redis: connection refused)');
    };
    const refreshes: unknown[] = [];
    a.onDidChange = () => refreshes.push(panelCacheFigures(a));
    await assert.rejects(a.controller.clearCache(), /connection refused/);
    assert.deepEqual(refreshes, [{ entries: 1, bytes: 400 }]);
  });

  it('does nothing and tells nobody while Isartor is off', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, []);
    await a.controller.activate();
    let refreshes = 0;
    a.onDidChange = () => refreshes++;
    assert.equal(await a.controller.clearCache(), false);
    assert.equal(refreshes, 0);
  });
});
