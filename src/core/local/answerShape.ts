/**
 * Builds the StoredAnswer of a local answer in the body shape the client's API uses (an OpenAI
 * `chat.completion` or an Anthropic `message`), with the local model's real token counts.
 */
import { randomBytes } from 'node:crypto';
import type { StoredAnswer } from '../outcome';
import type { ApiStyle, JsonObject } from '../request';
import type { LocalStopReason } from './engine';

export interface LocalAnswer {
  api: Extract<ApiStyle, 'openai.chat' | 'anthropic.messages'>;
  /**
   * The body's `model` field: the model the client asked for, as the proxy's streamed rendering
   * also reports it, so clients that check it see no difference. The local model's own name goes
   * in the `x-isartor-local-model` header.
   */
  model: string;
  text: string;
  stopReason: Exclude<LocalStopReason, 'aborted'>;
  stopSequence?: string;
  inputTokens: number;
  outputTokens: number;
  /** Epoch ms; defaults to now. */
  createdAt?: number;
}

/** Random id in the provider's style, marked as local so nobody mistakes it for a cloud id. */
export function localAnswerId(api: LocalAnswer['api']): string {
  const random = randomBytes(12).toString('hex');
  return api === 'openai.chat' ? `chatcmpl-isartor-l2-${random}` : `msg_isartor_l2_${random}`;
}

function openaiBody(answer: LocalAnswer, id: string, createdAt: number): JsonObject {
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(createdAt / 1000),
    model: answer.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: answer.text, refusal: null },
        logprobs: null,
        finish_reason: answer.stopReason === 'max_tokens' ? 'length' : 'stop',
      },
    ],
    usage: {
      prompt_tokens: answer.inputTokens,
      completion_tokens: answer.outputTokens,
      total_tokens: answer.inputTokens + answer.outputTokens,
    },
  };
}

function anthropicBody(answer: LocalAnswer, id: string): JsonObject {
  const stopReason = answer.stopReason === 'max_tokens' ? 'max_tokens' : answer.stopReason === 'stop_sequence' ? 'stop_sequence' : 'end_turn';
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content: [{ type: 'text', text: answer.text }],
    stop_reason: stopReason,
    stop_sequence: answer.stopReason === 'stop_sequence' ? (answer.stopSequence ?? null) : null,
    usage: {
      input_tokens: answer.inputTokens,
      output_tokens: answer.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/**
 * The answer as the non-streamed body of its API, ready for the proxy to send or re-render as SSE.
 *
 * @example buildLocalAnswer({ api: 'openai.chat', model: 'qwen', text: 'ls -la', stopReason: 'end', inputTokens: 20, outputTokens: 4 })
 */
export function buildLocalAnswer(answer: LocalAnswer, id = localAnswerId(answer.api)): StoredAnswer {
  const createdAt = answer.createdAt ?? Date.now();
  return {
    api: answer.api,
    body: answer.api === 'openai.chat' ? openaiBody(answer, id, createdAt) : anthropicBody(answer, id),
    usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0 },
    createdAt,
  };
}
