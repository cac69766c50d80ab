/**
 * Fills in token usage for an answer whose stream carried none (an OpenAI stream without
 * `stream_options.include_usage`), so the ledger and later cache hits still count its tokens.
 */
import type { AnswerUsage, StoredAnswer, TokenUsage } from '../outcome';
import type { ApiStyle, JsonObject, JsonValue } from '../request';
import { approximateTokensOf, estimateInputTokens } from '../tokens';
import type { AnswerReading } from './large-answer';

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every piece of generated text in an answer body: content, refusals, tool arguments, thinking. */
export function answerTexts(api: ApiStyle, body: JsonObject): string[] {
  const texts: string[] = [];
  const push = (value: JsonValue | undefined): void => {
    if (typeof value === 'string') texts.push(value);
  };
  if (api === 'anthropic.messages') {
    for (const block of Array.isArray(body.content) ? body.content : []) {
      if (!isObject(block)) continue;
      push(block.text);
      push(block.thinking);
      if (block.input !== undefined) texts.push(JSON.stringify(block.input));
    }
    return texts;
  }
  if (api === 'openai.responses') {
    for (const item of Array.isArray(body.output) ? body.output : []) {
      if (!isObject(item)) continue;
      push(item.arguments);
      for (const part of Array.isArray(item.content) ? item.content : []) if (isObject(part)) push(part.text ?? part.refusal);
      for (const part of Array.isArray(item.summary) ? item.summary : []) if (isObject(part)) push(part.text);
    }
    return texts;
  }
  for (const choice of Array.isArray(body.choices) ? body.choices : []) {
    if (!isObject(choice)) continue;
    push(choice.text);
    const message = isObject(choice.message) ? choice.message : {};
    push(message.content);
    push(message.refusal);
    for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
      if (isObject(call) && isObject(call.function)) {
        push(call.function.name);
        push(call.function.arguments);
      }
    }
  }
  return texts;
}

/** True when the provider reported no usage at all. */
export function hasNoUsage(usage: TokenUsage): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0;
}

/**
 * The answer with estimated usage when the provider reported none; otherwise the answer unchanged.
 *
 * @example withEstimatedUsage(answer, req.body) // { ...answer, usage: { inputTokens: 12, … }, usageEstimated: true }
 */
export function withEstimatedUsage(answer: StoredAnswer, requestBody: JsonObject): StoredAnswer {
  if (!hasNoUsage(answer.usage)) return answer;
  // An estimate for the savings figures, never a bill: approximate, so the proxy's thread never
  // stops for the tokenizer's first load (measured 0.4 s in the extension host's event-loop test).
  const outputTokens = approximateTokensOf(answerTexts(answer.api, answer.body));
  return {
    ...answer,
    usage: { inputTokens: estimateInputTokens(answer.api, requestBody, approximateTokensOf), outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 },
    usageEstimated: true,
  };
}

/**
 * What the ledger records of an answer too large to store (large-answer.ts): the provider's usage,
 * or an estimate like `withEstimatedUsage`'s when it reported none. A body that was no complete
 * answer (a Responses `response.incomplete`) is recorded with the usage it reported, which the
 * provider bills, and no estimate; undefined when it reported none.
 */
export function usageOfReading(api: ApiStyle, reading: AnswerReading | undefined, requestBody: JsonObject): AnswerUsage | undefined {
  if (!reading) return undefined;
  if (!reading.complete) return reading.usage && !hasNoUsage(reading.usage) ? { usage: reading.usage } : undefined;
  if (reading.usage && !hasNoUsage(reading.usage)) return { usage: reading.usage };
  return {
    usage: { inputTokens: estimateInputTokens(api, requestBody, approximateTokensOf), outputTokens: reading.outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 },
    usageEstimated: true,
  };
}
