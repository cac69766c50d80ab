/**
 * L2.5, the optimiser: rewrites what the upstream layer will send (lossless shrinking of instruction
 * payloads, Anthropic cache hints) and never answers a request itself.
 */
import type { EngineConfig } from '../config';
import type { Logger } from '../logger';
import { createRequestOptimiser, INLINE_EDIT_CHARS, instructionEditChars, type CountRemovedTokens, type OffThreadOptimise } from '../optimiser/optimise';
import type { TokenCounter } from '../optimiser/tokenCounter';
import type { Layer, LayerContext, Next } from '../pipeline';
import { approximateTokens } from '../tokens';

export interface OptimiserLayerDeps {
  config: EngineConfig;
  logger: Logger;
  /**
   * Counts tokens to decide whether a prefix reaches a model's cache minimum. Defaults to about four
   * UTF-8 bytes a token: a hint just under the minimum is ignored by the provider at no cost, while
   * loading the real tokenizer on this thread (~0.4 s) stalls every request (and, in VS Code, every
   * extension) at the first Anthropic request.
   */
  countTokens?: TokenCounter;
  /** Optimises large bodies on a worker thread; used only with the default counter, which it shares. */
  offThreadOptimise?: OffThreadOptimise;
  /**
   * With the default counter: counts what the edits removed with the real tokenizer, on a worker,
   * for the ledger record (written after the answer). The header, sent before, shows the estimate.
   */
  countRemovedTokens?: CountRemovedTokens;
}

/** The response header that tells the client what the optimiser did. */
export const OPTIMISED_HEADER = 'x-isartor-optimised';

/**
 * The optimiser layer. It sets `ctx.forwardBody` when it changed anything, records the tokens it
 * removed and the hints it added in `ctx.notes`, and always calls `next()`. A failure inside it is
 * logged and the request goes out verbatim: an optimisation must never cost the user an answer.
 *
 * @example const layer = createOptimiserLayer({ config, logger });
 */
export function createOptimiserLayer(deps: OptimiserLayerDeps): Layer {
  const settings = deps.config.optimiser;
  const optimiser = createRequestOptimiser(settings, deps.countTokens ?? approximateTokens, { memoiseCounts: deps.countTokens !== undefined });
  // The worker counts as the default counter does; a layer given its own counter stays on it.
  const offThread = deps.countTokens === undefined ? deps.offThreadOptimise : undefined;
  return {
    name: 'optimiser',
    async handle(ctx: LayerContext, next: Next) {
      const { req } = ctx;
      if (req.api !== 'anthropic.messages' && req.api !== 'openai.chat') return next();
      try {
        const input = { api: req.api, model: req.model, rawBody: req.rawBody };
        // Instruction files worth more than a few milliseconds of parsing go off this thread too.
        const heavy = offThread !== undefined && instructionEditChars(settings, req.api, req.body) > INLINE_EDIT_CHARS;
        const result = (await offThread?.(settings, input, { heavy })) ?? optimiser.optimise({ ...input, body: req.body });
        if (result.forwardBody) ctx.forwardBody = result.forwardBody;
        ctx.notes.optimisedTokens = result.tokensSaved;
        ctx.notes.cacheHints = result.cacheHints;
        // Counted at about four bytes a token here (the tokenizer's load would stall this thread):
        // the header marks that figure "~" as an estimate; the ledger gets the real count.
        const estimated = deps.countTokens === undefined && result.tokensSaved > 0;
        if (estimated && result.edited && deps.countRemovedTokens) ctx.notes.optimisedTokensCounting = deps.countRemovedTokens(result.edited).catch(() => undefined);
        ctx.responseHeaders[OPTIMISED_HEADER] = `tokens_saved=${estimated ? '~' : ''}${result.tokensSaved},cache_hints=${result.cacheHints}`;
      } catch (error) {
        deps.logger.warn(`optimiser skipped a request: ${error instanceof Error ? error.message : String(error)}`);
      }
      return next();
    },
    describe() {
      const on = (['cacheHints', 'whitespace', 'htmlComments', 'dedupeBlocks'] as const).filter((key) => settings[key]);
      return on.length > 0 ? `on: ${on.join(', ')}` : 'every transformation switched off';
    },
  };
}

/** Engine wiring: the layer factory listed in `LAYER_FACTORIES` between local and upstream. */
export const optimiserLayerFactory = (deps: { config: EngineConfig; logger: Logger; offThreadOptimise?: OffThreadOptimise; countRemovedTokens?: CountRemovedTokens | undefined }): Layer =>
  createOptimiserLayer({
    config: deps.config,
    logger: deps.logger,
    ...(deps.offThreadOptimise ? { offThreadOptimise: deps.offThreadOptimise } : {}),
    ...(deps.countRemovedTokens ? { countRemovedTokens: deps.countRemovedTokens } : {}),
  });
