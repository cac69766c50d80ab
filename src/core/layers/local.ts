/**
 * L2: answers simple, tool-free prompts with a small local model, and steps aside (calls `next()`)
 * whenever it is ineligible, unsure, over its time budget, or produced an answer not worth serving.
 */
import { performance } from 'node:perf_hooks';
import type { EngineConfig } from '../config';
import type { Logger } from '../logger';
import type { GeneratedOutcome, Outcome } from '../outcome';
import type { Layer, LayerContext, Next } from '../pipeline';
import { judgeAnswer, STREAM_HEAD_CHARS } from '../local/answerCheck';
import { buildLocalAnswer, localAnswerId } from '../local/answerShape';
import { untilAborted } from '../abortable';
import { checkEligibility } from '../local/eligibility';
import type { Eligibility } from '../local/eligibility';
import { realTimers } from '../local/engine';
import type { LocalEngine, Timers } from '../local/engine';
import { loadLlamaEngine } from '../local/llamaBackend';
import { ModelManager, resolveEngineSource } from '../local/modelManager';
import type { EngineSource, EngineLease, LoadableSource } from '../local/modelManager';
import { createOpenAiEngine } from '../local/openaiBackend';
import { describeDecision, triage } from '../local/triage';

export interface LocalLayerDeps {
  config: EngineConfig;
  logger: Logger;
  dataDir: string;
}

/** Seams for tests and embedders; production uses the defaults. */
export interface LocalLayerOptions {
  loadEngine?: (source: LoadableSource) => Promise<LocalEngine>;
  resolveSource?: () => EngineSource;
  timers?: Timers;
  /** Clock (ms) for how long a resolved source is reused; tests pass a manual one. */
  now?: () => number;
}

export interface LocalLayer extends Layer {
  /** The model's lifecycle, for the extension's "unload now" and for tests. */
  readonly models: ModelManager;
}

/** Chat needs room for the template, the prompt and the answer; smaller contexts break it. */
const MIN_CONTEXT_SIZE = 1024;

/**
 * How long a resolved model source is reused. Resolving looks at the file system (is the model
 * file there?), and doing that on every request cost 1.5% of the miss path's CPU (issue 15) while
 * the answer changes only when a user downloads or points at a model: a few seconds' delay before
 * the layer notices is invisible.
 */
const SOURCE_REFRESH_MS = 5000;

/** `resolve`, called again only once its last answer is older than `maxAgeMs`. */
function reuseFor(resolve: () => EngineSource, maxAgeMs: number, now: () => number): () => EngineSource {
  let cached: { source: EngineSource; at: number } | undefined;
  return () => {
    const time = now();
    if (!cached || time - cached.at >= maxAgeMs) cached = { source: resolve(), at: time };
    return cached.source;
  };
}

/** Thrown into the budget signal when triage took too long. */
class BudgetExceeded extends Error {}

/** A local answer missed its first-token or idle deadline: the backend is stuck, or far too slow. */
class DeadlineMissed extends Error {}

type EligibleRequest = Extract<Eligibility, { eligible: true }>;

function defaultLoader(deps: LocalLayerDeps): (source: LoadableSource) => Promise<LocalEngine> {
  const local = deps.config.local;
  return async (source) =>
    source.kind === 'openai'
      ? createOpenAiEngine({ baseUrl: source.baseUrl, model: source.model })
      : loadLlamaEngine({
          modelPath: source.modelPath,
          threads: local.threads,
          contextSize: Math.max(MIN_CONTEXT_SIZE, local.contextSize),
          gpu: local.gpu,
          logger: deps.logger,
        });
}

/**
 * Creates the L2 layer. Nothing is loaded until the first eligible request; with no model
 * configured the layer costs one eligibility check and says why it is idle in `describe()`.
 *
 * @example const local = createLocalLayer({ config, logger, dataDir: config.dataDir });
 */
export function createLocalLayer(deps: LocalLayerDeps, options: LocalLayerOptions = {}): LocalLayer {
  const local = deps.config.local;
  const timers = options.timers ?? realTimers;
  const models = new ModelManager({
    resolveSource: reuseFor(options.resolveSource ?? (() => resolveEngineSource(local, deps.dataDir)), SOURCE_REFRESH_MS, options.now ?? (() => performance.now())),
    loadEngine: options.loadEngine ?? defaultLoader(deps),
    idleUnloadMs: local.idleUnloadSeconds * 1000,
    timers,
    logger: deps.logger,
  });
  const counts = { answered: 0, passedOn: 0 };
  /** Why the model last passed a request on: the stats line says it, so "passed on 11" can be acted on. */
  let lastPassOnReason: string | undefined;
  const countPassOn = (reason: string): void => {
    counts.passedOn++;
    lastPassOnReason = reason;
  };

  const passOn = (ctx: LayerContext, next: Next, reason: string): Promise<Outcome> => {
    ctx.notes.localSkipped = reason;
    return next();
  };

  /**
   * Loads the model if needed and triages, all within `triageBudgetMs` (a first request whose model
   * is still loading goes upstream; the load carries on for the next one). A string is the reason
   * to pass on.
   */
  async function triageWithinBudget(ctx: LayerContext, request: EligibleRequest): Promise<{ lease: EngineLease; confidence: number } | string> {
    const budget = new AbortController();
    const onClientGone = (): void => budget.abort(ctx.req.signal.reason);
    ctx.req.signal.addEventListener('abort', onClientGone, { once: true });
    const timer = timers.setTimeout(() => budget.abort(new BudgetExceeded()), local.triageBudgetMs);
    let lease: EngineLease | undefined;
    try {
      lease = await models.acquire(budget.signal);
      const decision = await untilAborted(triage(lease.engine, request.prompt, local.confidence, budget.signal), budget.signal);
      if (!decision.answerLocally) {
        lease.release();
        return describeDecision(decision, local.confidence);
      }
      return { lease, confidence: decision.pSimple };
    } catch (error) {
      lease?.release();
      if (budget.signal.reason instanceof BudgetExceeded) return `triage over its ${local.triageBudgetMs} ms budget`;
      if (ctx.req.signal.aborted) return 'client disconnected';
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn(`local model: ${message}`);
      return `local model error: ${message}`;
    } finally {
      timers.clearTimeout(timer);
      ctx.req.signal.removeEventListener('abort', onClientGone);
    }
  }

  /**
   * The iterator's next chunk, or a DeadlineMissed rejection after `ms` without one. The step still
   * pending when the deadline passes is left to settle unobserved (the generation is aborted then).
   */
  function nextWithin(chunks: AsyncIterator<string>, ms: number, missed: string): Promise<IteratorResult<string>> {
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => reject(new DeadlineMissed(missed)), ms);
      chunks.next().then(
        (step) => {
          timers.clearTimeout(timer);
          resolve(step);
        },
        (error: unknown) => {
          timers.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * Generates the answer. A non-streamed answer is generated in full and checked (empty, refusal,
   * local cap) before anything is sent. A streamed one whose client set its own token limit within
   * the local cap is committed once its first STREAM_HEAD_CHARS characters, or the whole answer if
   * shorter, pass the checks: streaming stays real, a refusal or an empty answer still goes
   * upstream, and a "length" ending can only be the limit the client asked for. Any other streamed
   * answer could still run into the local cap after its head (an answer the client did not ask to
   * be cut), so it is generated in full and checked like a non-streamed one, then sent as a stream.
   */
  async function answer(ctx: LayerContext, next: Next, request: EligibleRequest, lease: EngineLease, confidence: number): Promise<Outcome> {
    const { req } = ctx;
    const { settings } = request;
    const cappedByLocal = settings.maxTokens === undefined || settings.maxTokens > local.maxAnswerTokens;
    const generationAbort = new AbortController();
    const onClientGone = (): void => generationAbort.abort(req.signal.reason);
    req.signal.addEventListener('abort', onClientGone, { once: true });
    const finish = (): void => {
      req.signal.removeEventListener('abort', onClientGone);
      lease.release();
    };
    const engine = lease.engine;
    const generation = engine.generate(request.prompt, {
      maxTokens: Math.min(settings.maxTokens ?? Number.POSITIVE_INFINITY, local.maxAnswerTokens),
      ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
      ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
      ...(settings.topK !== undefined ? { topK: settings.topK } : {}),
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      stop: settings.stop,
      signal: generationAbort.signal,
    });
    generation.result.catch(() => undefined);
    const chunks = generation.chunks[Symbol.asyncIterator]();
    const firstTokenMissed = `no answer from the local model within ${local.firstTokenTimeoutMs} ms`;
    const idleMissed = `the local model stalled for ${local.idleTimeoutMs} ms`;
    const head: string[] = [];
    const rejection = await (async (): Promise<string | undefined> => {
      let headText = '';
      let finished = false;
      try {
        const commitEarly = req.stream && !cappedByLocal;
        const headTarget = commitEarly ? STREAM_HEAD_CHARS : Number.POSITIVE_INFINITY;
        while (headText.length < headTarget) {
          // Nothing has reached the client yet: a missed deadline sends the request to the cloud.
          const step = head.length === 0 ? await nextWithin(chunks, local.firstTokenTimeoutMs, firstTokenMissed) : await nextWithin(chunks, local.idleTimeoutMs, idleMissed);
          if (step.done) {
            finished = true;
            break;
          }
          head.push(step.value);
          headText += step.value;
        }
        const result = finished ? await generation.result : undefined;
        if (result?.stopReason === 'aborted') return 'client disconnected';
        const verdict = judgeAnswer(headText, finished, result?.stopReason === 'max_tokens' && cappedByLocal);
        return verdict.ok ? undefined : `local answer rejected: ${verdict.reason}`;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        deps.logger.warn(`local model: generation failed: ${message}`);
        return error instanceof DeadlineMissed ? message : `local model error: ${message}`;
      }
    })();
    if (rejection !== undefined) {
      generationAbort.abort(new Error(rejection));
      finish();
      countPassOn(rejection);
      return passOn(ctx, next, rejection);
    }

    counts.answered++;
    ctx.responseHeaders['x-isartor-local-model'] = engine.modelName;
    ctx.responseHeaders['x-isartor-local-confidence'] = confidence.toFixed(3);
    const api = req.api === 'anthropic.messages' ? 'anthropic.messages' : 'openai.chat';
    // One id and time for the streamed frames and the finished body alike.
    const id = localAnswerId(api);
    const createdAt = Date.now();
    async function* deltas(): AsyncGenerator<string> {
      yield* head;
      try {
        for (let step = await nextWithin(chunks, local.idleTimeoutMs, idleMissed); !step.done; step = await nextWithin(chunks, local.idleTimeoutMs, idleMissed)) {
          yield step.value;
        }
      } catch (error) {
        // Committed: the client has part of the answer, so the stream ends with an error frame
        // (the proxy writes it) instead of hanging, and the backend stops generating.
        if (error instanceof DeadlineMissed) {
          deps.logger.warn(`local model: ${error.message} mid-answer; ending the client's stream`);
          generationAbort.abort(error);
        }
        throw error;
      }
    }
    const done = generation.result
      .then((result) => {
        if (result.stopReason === 'aborted') {
          const reason: unknown = generationAbort.signal.reason;
          throw reason instanceof DeadlineMissed ? reason : new Error('local generation aborted: the client disconnected');
        }
        return buildLocalAnswer({
          api,
          model: req.model,
          createdAt,
          text: result.text,
          stopReason: result.stopReason,
          ...(result.stopSequence !== undefined ? { stopSequence: result.stopSequence } : {}),
          inputTokens: result.inputTokens,
          outputTokens: result.outputTokens,
        }, id);
      })
      .finally(finish);
    // The proxy awaits `done`; this only keeps a failure it has not reached yet from counting as unhandled.
    done.catch(() => undefined);
    const outcome: GeneratedOutcome = { kind: 'generated', layer: 'l2', localModel: engine.modelName, id, createdAt, deltas: deltas(), done };
    return outcome;
  }

  return {
    name: 'local',
    models,

    async handle(ctx: LayerContext, next: Next): Promise<Outcome> {
      if (!local.enabled) return passOn(ctx, next, 'disabled');
      if (ctx.req.cache.localOff) return passOn(ctx, next, 'x-isartor-local: off');
      const status = models.status();
      if (status.state === 'none') return passOn(ctx, next, status.reason);
      const request = checkEligibility(ctx.req.api, ctx.req.body, {
        maxPromptTokens: local.maxPromptTokens,
        maxHistoryTokens: local.maxHistoryTokens ?? 256,
      });
      if (!request.eligible) return passOn(ctx, next, `ineligible: ${request.reason}`);
      const triaged = await triageWithinBudget(ctx, request);
      if (typeof triaged === 'string') {
        countPassOn(triaged);
        return passOn(ctx, next, triaged);
      }
      return answer(ctx, next, request, triaged.lease, triaged.confidence);
    },

    describe(): string {
      if (!local.enabled) return 'off';
      const status = models.status();
      const tally = `answered ${counts.answered}, passed on ${counts.passedOn}${lastPassOnReason ? `, last because ${lastPassOnReason}` : ''}`;
      switch (status.state) {
        case 'none':
          return `idle: ${status.reason}`;
        case 'unloaded':
          return `idle: ${status.source} loads on the first eligible request (${tally})`;
        case 'loading':
          return `loading ${status.source}`;
        case 'loaded':
          return `ready: ${status.modelName} (${tally})`;
        case 'failed':
          return `idle: ${status.source} failed to load: ${status.error}`;
      }
    },

    close: () => models.close(),
  };
}

/** Engine wiring: the layer factory listed in `LAYER_FACTORIES` between semantic and optimiser. */
export const localLayerFactory = (deps: LocalLayerDeps): LocalLayer => createLocalLayer(deps);
