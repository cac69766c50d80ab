/**
 * Opens a slow layer after the proxy is listening instead of before: a semantic cache of 100k
 * entries or a neural embedder takes from half a second to several seconds to load, and start-up
 * should not wait for it (issue 8: ready in 300 ms).
 */
import type { LayerFactory, LayerFactoryDeps } from '../engine-layers';
import type { Outcome } from '../outcome';
import type { Layer, LayerContext, Next } from '../pipeline';

/** The cache handles the engine reads from a layer (see engine.ts), forwarded once it has opened. */
interface CacheHandles {
  clear?(): Promise<void>;
  entries?(): number;
  bytes?(): number;
}

/** A layer that opens in the background once `start()` is called. */
export interface DeferredLayer extends Layer, Required<CacheHandles> {
  /** Begins opening (the engine calls it once every layer is built, so the work follows the listen). */
  start(): void;
  /** Resolves once the layer has opened, or failed to (it then passes every request on). */
  readonly loaded: Promise<void>;
  /** Waits for an open in progress, then closes the layer. */
  close(): Promise<void>;
}

/** Whether `layer` was made by `deferredLayerFactory` and still needs its `start()`. */
export function isDeferredLayer(layer: Layer): layer is DeferredLayer {
  return typeof (layer as Partial<DeferredLayer>).start === 'function' && (layer as Partial<DeferredLayer>).loaded instanceof Promise;
}

/**
 * Wraps `factory` so that the engine gets a stand-in at once and the real layer opens after
 * `start()`. A request that reaches the stand-in before the layer has opened waits for it rather
 * than passing as a miss: the wait is at most the load time and happens only at start-up, while
 * a miss would cost an upstream call and make a cache hit after a restart depend on timing. If
 * opening fails the error is logged and the layer passes every request on, as when switched off.
 *
 * @example export const LAYER_FACTORIES = [exactLayerFactory, deferredLayerFactory('semantic', semanticLayerFactory), ...];
 */
export function deferredLayerFactory(name: string, factory: LayerFactory): LayerFactory {
  return (deps: LayerFactoryDeps): DeferredLayer => {
    let opened: (Layer & CacheHandles) | undefined;
    let failure: string | undefined;
    /** true: open the layer; false: closed before it was started, so never open it. */
    let begin!: (open: boolean) => void;
    let started = false;
    const go = new Promise<boolean>((resolve) => (begin = resolve));
    const opening: Promise<(Layer & CacheHandles) | undefined> = go
      .then((open) => (open ? factory(deps) : undefined))
      .then(
        (layer) => (opened = layer),
        (error: unknown) => {
          failure = error instanceof Error ? error.message : String(error);
          deps.logger.error(`${name} layer could not be opened, so requests pass it by: ${failure}`);
          return undefined;
        },
      );

    async function handle(ctx: LayerContext, next: Next): Promise<Outcome> {
      const layer = opened ?? (await opening);
      return layer ? layer.handle(ctx, next) : next();
    }

    return {
      name,
      handle,
      start() {
        started = true;
        begin(true);
      },
      loaded: opening.then(() => undefined),
      describe: () => (opened ? (opened.describe?.() ?? '') : failure ? `failed to open: ${failure}` : 'opening…'),
      async clear() {
        await (await opening)?.clear?.();
      },
      entries: () => opened?.entries?.() ?? 0,
      bytes: () => opened?.bytes?.() ?? 0,
      async close() {
        if (!started) begin(false);
        await (await opening)?.close?.();
      },
    };
  };
}
