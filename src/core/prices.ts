/**
 * The per-model price table (USD per million tokens) behind every "money saved" figure, with the
 * user's overrides from EngineConfig.prices on top.
 */
import type { LongContextTier, ModelPrice } from './config';
import type { TokenUsage } from './outcome';

/**
 * When the built-in prices were taken from the providers' public pricing pages (OpenAI, Anthropic,
 * DeepSeek). Prices change; users correct them with `prices` overrides in the settings.
 */
export const PRICES_AS_OF = '2025-12-01';

/**
 * Built-in prices, standard (non-batch) tier. `cachedInput` is the prompt-cache read rate (OpenAI
 * cached input, Anthropic cache hits, DeepSeek cache hits); `cacheWrite` is Anthropic's 5-minute
 * cache write rate (1.25x input; 1-hour writes are billed at 2x input, see costUsd). A dated
 * snapshot (e.g. claude-sonnet-4-20250514, gpt-4o-2024-08-06) resolves to its family, so only
 * snapshots whose price differs (gpt-4o-2024-05-13) need their own entry; another size or variant
 * of a family ("-mini", "-codex-mini", "-audio-preview") never does and needs an entry of its own.
 */
/**
 * Anthropic's long-context pricing for Sonnet 4 and 4.5 (the models with the 1M-token context
 * window): once a request's input passes 200K tokens, the whole request is billed at $6 input and
 * $22.50 output per MTok instead of $3 and $15, and cache reads and writes scale from the higher
 * input rate. The threshold counts input_tokens + cache_creation_input_tokens +
 * cache_read_input_tokens. Source: https://docs.anthropic.com/en/docs/about-claude/pricing
 * ("Long context pricing"), read 2026-12-07.
 */
const SONNET_4_LONG_CONTEXT: LongContextTier = { aboveInputTokens: 200_000, inputFactor: 2, outputFactor: 1.5 };

export const BUILT_IN_PRICES: Readonly<Record<string, ModelPrice>> = {
  // OpenAI
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  // The first gpt-4o snapshot kept its launch price and has no cached-input discount.
  'gpt-4o-2024-05-13': { input: 5, output: 15 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  o1: { input: 15, output: 60, cachedInput: 7.5 },
  'o1-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o1-pro': { input: 150, output: 600 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o3-pro': { input: 20, output: 80 },
  'o3-deep-research': { input: 10, output: 40, cachedInput: 2.5 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'o4-mini-deep-research': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-5-pro': { input: 15, output: 120 },
  'gpt-5.1': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5.1-codex-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5.2': { input: 1.75, output: 14, cachedInput: 0.175 },
  'gpt-5.2-pro': { input: 21, output: 168 },
  // Anthropic
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4-0': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, longContext: SONNET_4_LONG_CONTEXT },
  'claude-sonnet-4-0': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, longContext: SONNET_4_LONG_CONTEXT },
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, longContext: SONNET_4_LONG_CONTEXT },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  'claude-3-7-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-3-5-sonnet': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
  // DeepSeek (V3.2 prices; deepseek-reasoner is billed the same)
  'deepseek-chat': { input: 0.28, output: 0.42, cachedInput: 0.028 },
  'deepseek-reasoner': { input: 0.28, output: 0.42, cachedInput: 0.028 },
};

/**
 * What may follow a family name in a longer id of the same model, and nothing else: a snapshot
 * date ("-2024-08-06", "-20250929", Vertex AI's "@20250514", Vertex's "-v2@20241022"), optionally
 * with a Bedrock version ("-20240620-v1:0"), or "-latest". Anything else is another size or variant
 * ("o1-mini" is not "o1", "gpt-5-codex-mini" is not "gpt-5", "claude-opus-4-5" is not
 * "claude-opus-4") or another offer (OpenRouter's ":free"), which is better unknown (saving marked
 * estimated) than priced wrong.
 */
const SAME_MODEL_SUFFIX = /^(?:(?:-\d{4}-\d{2}-\d{2}|-\d{8}|(?:-v\d+)?@\d{8})(?:-v\d+(?::\d+)?)?|-latest)$/;

/**
 * The price of `model`: from the built-in table with `overrides` (EngineConfig.prices) on top; an
 * exact id first, then a family name followed only by a snapshot date (so
 * "claude-sonnet-4-20250514" costs what "claude-sonnet-4" costs, but "o1-mini" does not cost what
 * "o1" costs). Case-insensitive; a provider prefix ("openai/gpt-4o", "us.anthropic.claude-…") is
 * tried without it too, and a dotted Claude version (OpenRouter's "anthropic/claude-sonnet-4.5")
 * as Anthropic's hyphenated one ("claude-sonnet-4-5"). Unknown model: undefined.
 *
 * An override without `cachedInput` (or, for Claude, `cacheWrite`) gets the provider's discount:
 * the built-in entry's ratio to input when the model has one, else Anthropic's 0.1x (reads) and
 * 1.25x (writes) for any claude-* id and DeepSeek's 0.1x for deepseek-*; otherwise cache reads are
 * billed at the input rate (OpenAI's discount differs by model, 0.1x to 0.5x, so it is not guessed).
 *
 * @example priceFor('gpt-4o-mini-2024-07-18') // { input: 0.15, output: 0.6, cachedInput: 0.075 }
 */
export function priceFor(model: string, overrides: Readonly<Record<string, ModelPrice>> = {}): ModelPrice | undefined {
  const id = model.trim().toLowerCase();
  if (!id) return undefined;
  const table = tableWith(overrides);
  for (const candidate of candidateIds(id)) {
    const price = lookup(table, candidate);
    if (price) return price;
  }
  return undefined;
}

/** `id` as given, then without a provider prefix, then (Claude) with dotted versions hyphenated. */
function candidateIds(id: string): string[] {
  const unprefixed = id.replace(/^.*\//, '').replace(/^(?:(?:us|eu|apac|global)\.)?(?:anthropic|openai)\./, '');
  // Anthropic's ids never contain a dot; OpenRouter writes the same versions dotted ("claude-3.5-sonnet").
  const hyphenated = unprefixed.startsWith('claude-') ? unprefixed.replace(/(\d)\.(\d)/g, '$1-$2') : unprefixed;
  return [...new Set([id, unprefixed, hyphenated])].filter((candidate) => candidate !== '');
}

/**
 * USD for `usage` at `price`. `usage.inputTokens` counts every input token, cached and cache-write
 * ones included (see normaliseUsage), so those are billed at their own rates and the rest at the
 * input rate. Of the cache writes, `usage.cacheWrite1hTokens` (Anthropic's 1-hour cache) are billed at
 * 2x input, the rest at `cacheWrite` (the 5-minute rate). Missing cache rates fall back to the input
 * rate.
 *
 * @example costUsd({ input: 3, output: 15 }, { inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0 }) // 3
 */
export function costUsd(tablePrice: ModelPrice, usage: TokenUsage): number {
  const price = tierFor(tablePrice, usage);
  const cached = Math.max(0, usage.cachedInputTokens);
  const cacheWrite = Math.max(0, usage.cacheWriteTokens);
  const cacheWrite1h = Math.min(cacheWrite, Math.max(0, usage.cacheWrite1hTokens ?? 0));
  const uncached = Math.max(0, usage.inputTokens - cached - cacheWrite);
  const micro =
    uncached * price.input +
    cached * (price.cachedInput ?? price.input) +
    (cacheWrite - cacheWrite1h) * (price.cacheWrite ?? price.input) +
    cacheWrite1h * price.input * ANTHROPIC_1H_WRITE_FACTOR +
    Math.max(0, usage.outputTokens) * price.output;
  return micro / 1_000_000;
}

/**
 * The rates `usage` is billed at: a long-context model's higher tier when its input (which counts
 * cache reads and writes, see normaliseUsage) is past the threshold, for every token of the request.
 *
 * @example tierFor(priceFor('claude-sonnet-4-5')!, { inputTokens: 250_000, … }).input // 6
 */
export function tierFor(price: ModelPrice, usage: TokenUsage): ModelPrice {
  const tier = price.longContext;
  if (!tier || usage.inputTokens <= tier.aboveInputTokens) return price;
  // A missing cache rate falls back to the input rate in costUsd, which is scaled already.
  return {
    input: rate(price.input * tier.inputFactor),
    output: rate(price.output * tier.outputFactor),
    ...(price.cachedInput !== undefined ? { cachedInput: rate(price.cachedInput * tier.inputFactor) } : {}),
    ...(price.cacheWrite !== undefined ? { cacheWrite: rate(price.cacheWrite * tier.inputFactor) } : {}),
  };
}

/** Anthropic bills a 1-hour cache write at twice the input rate (a 5-minute one at 1.25x). */
const ANTHROPIC_1H_WRITE_FACTOR = 2;

const BUILT_IN_TABLE: ReadonlyMap<string, ModelPrice> = new Map(Object.entries(BUILT_IN_PRICES));
const mergedTables = new WeakMap<object, ReadonlyMap<string, ModelPrice>>();

/** Built-in prices with the overrides on top (lower-cased ids), built once per overrides object. */
function tableWith(overrides: Readonly<Record<string, ModelPrice>>): ReadonlyMap<string, ModelPrice> {
  if (Object.keys(overrides).length === 0) return BUILT_IN_TABLE;
  let table = mergedTables.get(overrides);
  if (!table) {
    const merged = new Map(BUILT_IN_TABLE);
    for (const [key, price] of Object.entries(overrides)) {
      const id = key.trim().toLowerCase();
      if (isPrice(price) && id) merged.set(id, withCacheRates(id, price));
    }
    table = merged;
    mergedTables.set(overrides, table);
  }
  return table;
}

/**
 * An override with its missing cache rates filled in from the provider's discount (see priceFor),
 * so cache reads are not billed at the full input rate because the user gave only input and output.
 */
function withCacheRates(id: string, price: ModelPrice): ModelPrice {
  const builtIn = candidateIds(id)
    .map((candidate) => lookup(BUILT_IN_TABLE, candidate))
    .find((found) => found !== undefined);
  // The provider's long-context tier holds whatever base rates the user set.
  if (price.longContext === undefined && builtIn?.longContext) price = { ...price, longContext: builtIn.longContext };
  if (price.cachedInput !== undefined && price.cacheWrite !== undefined) return price;
  const family = candidateIds(id).at(-1) ?? id;
  let readRatio: number | undefined;
  let writeRatio: number | undefined;
  if (builtIn) {
    readRatio = builtIn.cachedInput !== undefined && builtIn.input > 0 ? builtIn.cachedInput / builtIn.input : undefined;
    writeRatio = builtIn.cacheWrite !== undefined && builtIn.input > 0 ? builtIn.cacheWrite / builtIn.input : undefined;
  } else if (family.startsWith('claude-')) {
    readRatio = 0.1;
    writeRatio = 1.25;
  } else if (family.startsWith('deepseek-')) {
    readRatio = 0.1;
  }
  return {
    ...price,
    ...(price.cachedInput === undefined && readRatio !== undefined ? { cachedInput: rate(price.input * readRatio) } : {}),
    ...(price.cacheWrite === undefined && writeRatio !== undefined ? { cacheWrite: rate(price.input * writeRatio) } : {}),
  };
}

/** A derived rate without float noise (9 * 0.1 is 0.9, not 0.9000000000000001). */
function rate(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1e9) / 1e9;
}

function lookup(table: ReadonlyMap<string, ModelPrice>, id: string): ModelPrice | undefined {
  const exact = table.get(id);
  if (exact) return exact;
  let best: { length: number; price: ModelPrice } | undefined;
  for (const [family, price] of table) {
    if (id.length > family.length && id.startsWith(family) && SAME_MODEL_SUFFIX.test(id.slice(family.length))) {
      if (!best || family.length > best.length) best = { length: family.length, price };
    }
  }
  return best?.price;
}

/** Overrides come from user settings: ignore entries that are not usable prices rather than bill NaN. */
function isPrice(value: unknown): value is ModelPrice {
  const price = value as ModelPrice | null;
  const rate = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  return (
    !!price &&
    typeof price === 'object' &&
    rate(price.input) &&
    rate(price.output) &&
    (price.cachedInput === undefined || rate(price.cachedInput)) &&
    (price.cacheWrite === undefined || rate(price.cacheWrite)) &&
    (price.longContext === undefined || isLongContextTier(price.longContext))
  );
}

function isLongContextTier(value: unknown): value is LongContextTier {
  const tier = value as LongContextTier | null;
  const positive = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n > 0;
  return !!tier && typeof tier === 'object' && positive(tier.aboveInputTokens) && positive(tier.inputFactor) && positive(tier.outputFactor);
}
