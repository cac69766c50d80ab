import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, UpstreamTarget } from '../../../src/core/request';
import { newRouteId, PersistentRouteRegistry, ROUTES_STATE_KEY } from '../../../src/extension/routes';
import type { RouteMemento, RouteSink } from '../../../src/extension/routes';

/** globalState as a Map, the way VS Code's Memento behaves (values round-trip through JSON). */
class MapMemento implements RouteMemento {
  readonly values = new Map<string, string>();
  get<T>(key: string): T | undefined {
    const raw = this.values.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    await Promise.resolve();
    this.values.set(key, JSON.stringify(value));
  }
}

/** A route table like the proxy's: rejects a second route with the same id. */
class RouteTable implements RouteSink {
  readonly routes = new Map<string, Route>();
  addRoute(route: { id?: string; providers: UpstreamTarget[]; tool?: string }): Route {
    const id = route.id ?? newRouteId();
    if (this.routes.has(id)) throw new Error(`route ${id} exists`);
    const added = { id, providers: route.providers, tool: route.tool };
    this.routes.set(id, added);
    return added;
  }
  removeRoute(id: string): void {
    this.routes.delete(id);
  }
}

const continueOpenAi = { baseUrl: 'https://api.openai.com/v1', kind: 'openai' as const, tool: 'continue' };

describe('PersistentRouteRegistry', () => {
  it('creates 128-bit ids and gives the same target the same id', async () => {
    const registry = new PersistentRouteRegistry(new MapMemento());
    const id = await registry.ensureRoute(continueOpenAi);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(await registry.ensureRoute({ ...continueOpenAi, baseUrl: 'https://api.openai.com/v1/' }), id);
    assert.notEqual(await registry.ensureRoute({ ...continueOpenAi, tool: 'roo' }), id);
    assert.notEqual(await registry.ensureRoute({ ...continueOpenAi, baseUrl: 'https://other.example/v1' }), id);
  });

  it('re-adds stored routes with their old ids to a new proxy after a restart', async () => {
    const memento = new MapMemento();
    const first = new PersistentRouteRegistry(memento);
    const firstProxy = new RouteTable();
    first.attach(firstProxy);
    const id = await first.ensureRoute(continueOpenAi);
    const claude = await first.ensureRoute({ baseUrl: 'https://api.anthropic.com', kind: 'anthropic', tool: 'claude' });
    assert.deepEqual([...firstProxy.routes.keys()].sort(), [id, claude].sort());

    const restarted = new PersistentRouteRegistry(memento);
    const secondProxy = new RouteTable();
    restarted.attach(secondProxy);
    assert.deepEqual(secondProxy.routes.get(id), { id, providers: [{ name: 'continue', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }], tool: 'continue' });
    assert.equal(secondProxy.routes.get(claude)?.providers[0]?.baseUrl, 'https://api.anthropic.com');
    assert.equal(await restarted.ensureRoute(continueOpenAi), id);
    assert.equal(secondProxy.routes.size, 2);
  });

  it('stores routes made while no proxy runs and installs them on attach', async () => {
    const registry = new PersistentRouteRegistry(new MapMemento());
    const id = await registry.ensureRoute(continueOpenAi);
    const proxy = new RouteTable();
    registry.attach(proxy);
    assert.ok(proxy.routes.has(id));
    registry.detach();
    await registry.ensureRoute({ ...continueOpenAi, tool: 'roo' });
    assert.equal(proxy.routes.size, 1);
  });

  it('installs a route another window stored after attach, when it is used here (and once)', async () => {
    const shared = new MapMemento();
    const here = new PersistentRouteRegistry(shared);
    const proxy = new RouteTable();
    here.attach(proxy);
    const id = await new PersistentRouteRegistry(shared).ensureRoute(continueOpenAi); // the other window
    assert.equal(proxy.routes.has(id), false);
    assert.equal(await here.ensureRoute(continueOpenAi), id);
    assert.ok(proxy.routes.has(id), 'this proxy serves the id it handed out');
    assert.equal(await here.ensureRoute(continueOpenAi), id);
    const later = await new PersistentRouteRegistry(shared).ensureRoute({ ...continueOpenAi, tool: 'claude' });
    here.attach(proxy); // attaching again picks up what was stored since
    assert.ok(proxy.routes.has(later));
  });

  it('releases only the given tool’s routes, from storage and from the proxy', async () => {
    const registry = new PersistentRouteRegistry(new MapMemento());
    const proxy = new RouteTable();
    registry.attach(proxy);
    const kept = await registry.ensureRoute({ ...continueOpenAi, tool: 'claude' });
    await registry.ensureRoute(continueOpenAi);
    await registry.ensureRoute({ ...continueOpenAi, baseUrl: 'https://api.deepseek.com/v1' });
    await registry.releaseRoutes('continue');
    assert.deepEqual(registry.list().map((route) => route.id), [kept]);
    assert.deepEqual([...proxy.routes.keys()], [kept]);
  });

  it('loses no route when integrations connect at the same time', async () => {
    const memento = new MapMemento();
    const registry = new PersistentRouteRegistry(memento);
    const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => registry.ensureRoute({ ...continueOpenAi, baseUrl: `https://h${n}.example/v1` })));
    assert.equal(new Set(ids).size, 20);
    assert.equal(new PersistentRouteRegistry(memento).list().length, 20);
  });

  it('skips malformed stored entries instead of failing', async () => {
    const memento = new MapMemento();
    await memento.update(ROUTES_STATE_KEY, [{ id: 'short', baseUrl: 'x', kind: 'openai', tool: 't' }, null, { id: 'a'.repeat(32), baseUrl: 'https://a.example', kind: 'anthropic', tool: 'claude' }]);
    const registry = new PersistentRouteRegistry(memento);
    assert.deepEqual(registry.list().map((route) => route.tool), ['claude']);
  });
});
