// A layer switched or the caches cleared from the savings page in a browser happens inside the
// proxy, not through VS Code's commands: the host must pass the proxy's notice on, so extension.ts
// refreshes the panel and status bar, across restarts and never from a proxy it has stopped.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { closeWindows, makeShared, makeWindow, type Shared } from '../../fixtures/controllerHarness';

let shared: Shared;
afterEach(() => closeWindows(shared));

describe('engine state changes reach the views', () => {
  it('the host passes on each change of the running proxy, and of the next one after a restart', async () => {
    shared = await makeShared();
    const a = makeWindow('A', shared, []);
    await a.controller.activate();
    await a.controller.enable();
    let heard = 0;
    a.host.onEngineStateChange(() => heard++);
    const first = a.host.proxy!;
    first.fireStateChange();
    assert.equal(heard, 1);

    await a.controller.disable();
    first.fireStateChange(); // a stopped proxy is no longer listened to
    assert.equal(heard, 1);

    await a.controller.enable();
    const second = a.host.proxy!;
    assert.notEqual(second, first);
    second.fireStateChange();
    assert.equal(heard, 2);
  });
});
