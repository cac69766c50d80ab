/**
 * Turns the `usage` objects of OpenAI and Anthropic responses into one TokenUsage shape.
 */
import type { TokenUsage } from '../outcome';
import type { ApiStyle, JsonValue } from '../request';

function num(value: JsonValue | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
}

/**
 * Normalises a provider `usage` object. `inputTokens` is every input token the provider processed,
 * cached ones included: OpenAI's `prompt_tokens` already counts them, while Anthropic's `input_tokens`
 * leaves out cache reads and writes, so those are added back. Anthropic's 1-hour cache writes
 * (`cache_creation.ephemeral_1h_input_tokens`) are also counted apart in `cacheWrite1hTokens`.
 *
 * @example normaliseUsage('openai.chat', { prompt_tokens: 10, completion_tokens: 3 }) // { inputTokens: 10, outputTokens: 3, ... }
 */
export function normaliseUsage(api: ApiStyle, usage: JsonValue | undefined): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  if (api === 'anthropic.messages') {
    const cachedInputTokens = num(usage.cache_read_input_tokens);
    const cacheWriteTokens = num(usage.cache_creation_input_tokens);
    // 1-hour cache writes cost 2x input, 5-minute ones 1.25x: keep the 1-hour part apart for pricing.
    const cacheWrite1hTokens = Math.min(cacheWriteTokens, num(field(usage.cache_creation, 'ephemeral_1h_input_tokens')));
    return {
      inputTokens: num(usage.input_tokens) + cachedInputTokens + cacheWriteTokens,
      outputTokens: num(usage.output_tokens),
      cachedInputTokens,
      cacheWriteTokens,
      ...(cacheWrite1hTokens > 0 ? { cacheWrite1hTokens } : {}),
    };
  }
  if (api === 'openai.responses') {
    return {
      inputTokens: num(usage.input_tokens),
      outputTokens: num(usage.output_tokens),
      cachedInputTokens: num(field(usage.input_tokens_details, 'cached_tokens')),
      cacheWriteTokens: 0,
    };
  }
  return {
    inputTokens: num(usage.prompt_tokens),
    outputTokens: num(usage.completion_tokens),
    cachedInputTokens: num(field(usage.prompt_tokens_details, 'cached_tokens')),
    cacheWriteTokens: 0,
  };
}
