// The connected / suspended tool lists in globalState: a tool is in one list at most, and the
// lists survive a new ConnectedTools on the same memento (a new activation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTED_TOOLS_KEY, ConnectedTools, SUSPENDED_TOOLS_KEY } from '../../../src/extension/lifecycle/connectedTools';
import type { RouteMemento } from '../../../src/extension/routes';

class MapMemento implements RouteMemento {
  readonly values = new Map<string, unknown>();
  writes = 0;
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.writes++;
    this.values.set(key, structuredClone(value));
  }
}

describe('ConnectedTools', () => {
  it('moves a tool from connected to suspended and back, each id in one list only', async () => {
    const state = new MapMemento();
    const tools = new ConnectedTools(state);
    await tools.mark('continue', true);
    await tools.mark('claude', true);
    await tools.suspend('claude');
    assert.deepEqual(tools.connected(), ['continue']);
    assert.deepEqual(tools.suspended(), ['claude']);

    const nextActivation = new ConnectedTools(state);
    assert.deepEqual(nextActivation.suspended(), ['claude']);
    await nextActivation.mark('claude', true);
    assert.deepEqual(state.get(CONNECTED_TOOLS_KEY), ['continue', 'claude']);
    assert.deepEqual(state.get(SUSPENDED_TOOLS_KEY), []);
  });

  it('forgets a suspended tool when it is marked disconnected', async () => {
    const tools = new ConnectedTools(new MapMemento());
    await tools.mark('claude', true);
    await tools.suspend('claude');
    await tools.mark('claude', false);
    assert.deepEqual(tools.connected(), []);
    assert.deepEqual(tools.suspended(), []);
  });

  it('ignores malformed stored values and skips writes that change nothing', async () => {
    const state = new MapMemento();
    state.values.set(CONNECTED_TOOLS_KEY, ['claude', 7, null]);
    state.values.set(SUSPENDED_TOOLS_KEY, 'continue');
    const tools = new ConnectedTools(state);
    assert.deepEqual(tools.connected(), ['claude']);
    assert.deepEqual(tools.suspended(), []);
    await tools.mark('claude', true);
    const writes = state.writes;
    await tools.mark('claude', true);
    assert.equal(state.writes, writes);
  });
});
