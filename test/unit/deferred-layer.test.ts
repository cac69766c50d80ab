// A layer that opens after start-up: requests wait for it instead of missing, failures pass requests on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LayerFactoryDeps } from '../../src/core/engine-layers';
import { deferredLayerFactory, isDeferredLayer, type DeferredLayer } from '../../src/core/layers/deferred';
import type { Logger } from '../../src/core/logger';
import type { Outcome } from '../../src/core/outcome';
import type { Layer, LayerContext } from '../../src/core/pipeline';

const answered = (layer: string): Outcome => ({ kind: 'stored', layer: layer as 'l1b', answer: { api: 'openai.chat', body: {}, usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 0 } });
const ctx = (): LayerContext => ({ req: {} as LayerContext['req'], notes: {}, responseHeaders: {} });

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string): void => void lines.push(message);
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

/** A cache layer whose opening the test finishes by hand, and which records what happens to it. */
function slowCache() {
  const events: string[] = [];
  let finish!: (layer: Layer) => void;
  let fail!: (error: Error) => void;
  const opened = new Promise<Layer>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const layer = {
    name: 'semantic',
    handle: async () => answered('l1b'),
    describe: () => '12 entries',
    entries: () => 12,
    bytes: () => 3400,
    clear: async () => void events.push('clear'),
    close: async () => void events.push('close'),
  };
  const factory = (): Promise<Layer> => {
    events.push('open');
    return opened;
  };
  return { events, layer, factory, finish: () => finish(layer), fail };
}

function build(factory: () => Promise<Layer>, logger: Logger = recordingLogger()): DeferredLayer {
  const layer = deferredLayerFactory('semantic', factory)({ logger } as LayerFactoryDeps);
  assert.ok(!(layer instanceof Promise) && isDeferredLayer(layer));
  return layer;
}

describe('deferred layer', () => {
  it('does not open until started, then serves through the opened layer', async () => {
    const cache = slowCache();
    const layer = build(cache.factory);
    await Promise.resolve();
    assert.deepEqual(cache.events, [], 'nothing opens before start()');
    assert.equal(layer.describe?.(), 'opening…');
    assert.equal(layer.entries(), 0);
    layer.start();
    cache.finish();
    await layer.loaded;
    assert.deepEqual(cache.events, ['open']);
    assert.equal(layer.describe?.(), '12 entries');
    assert.equal(layer.entries(), 12);
    assert.equal(layer.bytes(), 3400);
    const outcome = await layer.handle(ctx(), async () => answered('l3'));
    assert.equal(outcome.layer, 'l1b');
  });

  it('makes a request that arrives while opening wait for the layer rather than miss', async () => {
    const cache = slowCache();
    const layer = build(cache.factory);
    layer.start();
    let passedOn = false;
    const pending = layer.handle(ctx(), async () => {
      passedOn = true;
      return answered('l3');
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(passedOn, false, 'the request must not go on while the layer opens');
    cache.finish();
    assert.equal((await pending).layer, 'l1b');
    assert.equal(passedOn, false);
  });

  it('passes every request on and says why when the layer fails to open', async () => {
    const cache = slowCache();
    const logger = recordingLogger();
    const layer = build(cache.factory, logger);
    layer.start();
    const pending = layer.handle(ctx(), async () => answered('l3'));
    cache.fail(new Error('the store at /x is already open in process 42'));
    assert.equal((await pending).layer, 'l3');
    await layer.loaded; // resolves: a failed open is not an engine failure
    assert.match(layer.describe?.() ?? '', /failed to open: the store at \/x is already open/);
    assert.ok(logger.lines.some((line) => /semantic layer could not be opened/.test(line)));
    assert.equal(layer.entries(), 0);
    await layer.clear();
    await layer.close();
  });

  it('clears and closes the opened layer, waiting for an open in progress', async () => {
    const cache = slowCache();
    const layer = build(cache.factory);
    layer.start();
    const cleared = layer.clear();
    const closed = layer.close();
    cache.finish();
    await Promise.all([cleared, closed]);
    assert.deepEqual(cache.events, ['open', 'clear', 'close']);
  });

  it('never opens a layer that is closed before it was started', async () => {
    const cache = slowCache();
    const layer = build(cache.factory);
    await layer.close();
    await layer.loaded;
    assert.deepEqual(cache.events, []);
    assert.equal((await layer.handle(ctx(), async () => answered('l3'))).layer, 'l3');
  });
});
