/**
 * Composes the Deflection Stack koa-style: each layer either answers or calls `next()` and may act
 * on what the later layers returned (caches store upstream answers that way).
 */
import type { Outcome, OutcomeNotes } from './outcome';
import type { RequestSignal } from './clientSignal';
import type { ProxyRequest } from './request';

/** Everything a layer may read or set while handling one request. */
export interface LayerContext {
  readonly req: ProxyRequest;
  /** Facts for the ledger record (rejection reasons, optimiser savings). */
  notes: OutcomeNotes;
  /** The body the upstream layer sends. Undefined means `req.rawBody` verbatim; the optimiser sets it. */
  forwardBody?: Buffer;
  /** Extra response headers a layer wants the client to see (e.g. `x-isartor-optimised`). */
  responseHeaders: Record<string, string>;
  /**
   * What the upstream call runs on, when not `req.signal`: a call that identical requests share
   * (the exact layer's single flight) ends when all of them have gone, not when its starter has.
   */
  upstreamSignal?: RequestSignal;
}

export type Next = () => Promise<Outcome>;

/** One layer of the Deflection Stack. */
export interface Layer {
  /** Stable id used by switches, stats and logs: "exact", "semantic", "local", "optimiser", "upstream". */
  readonly name: string;
  handle(ctx: LayerContext, next: Next): Promise<Outcome>;
  /** A one-line state for `/isartor/stats` (e.g. "idle: no model configured"). */
  describe?(): string;
  /**
   * Resolves once what the layer loads in the background (a cache index) is ready; requests that
   * come earlier wait inside `handle`. The engine starts deferred layers after these (engine.ts).
   */
  loaded?: Promise<void>;
  close?(): Promise<void>;
}

/** Thrown when a layer calls `next()` twice: a bug that would send a request upstream twice. */
export class NextCalledTwiceError extends Error {
  constructor(layer: string) {
    super(`layer "${layer}" called next() more than once`);
  }
}

/**
 * Runs `ctx` through `layers` in order. A layer whose switch is off is passed over. The last layer
 * must answer; calling `next()` past it is a configuration error.
 *
 * @example
 * const outcome = await runLayers([exact, upstream], ctx, (name) => switches[name] !== false);
 */
export function runLayers(layers: readonly Layer[], ctx: LayerContext, isEnabled: (name: string) => boolean): Promise<Outcome> {
  const dispatch = (index: number): Promise<Outcome> => {
    let layerIndex = index;
    while (layerIndex < layers.length && !isEnabled(layers[layerIndex]!.name)) layerIndex++;
    const layer = layers[layerIndex];
    if (!layer) return Promise.reject(new Error('no layer answered the request (is the upstream layer missing?)'));
    let called = false;
    return layer.handle(ctx, () => {
      if (called) return Promise.reject(new NextCalledTwiceError(layer.name));
      called = true;
      return dispatch(layerIndex + 1);
    });
  };
  return dispatch(0);
}
