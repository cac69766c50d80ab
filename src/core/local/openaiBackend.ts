/**
 * The second L2 engine: a local OpenAI-compatible server the user already runs (Ollama, LM Studio,
 * llama.cpp server), reached by URL. Triage reads `top_logprobs`; answers stream over SSE.
 */
import { createParser } from 'eventsource-parser';
import type { GenerateOptions, GenerationResult, LocalEngine, LocalGeneration, LocalPrompt, LocalStopReason } from './engine';
import { TextChannel } from './textChannel';
import { countTokens } from '../tokens';

export interface OpenAiBackendOptions {
  /** Base URL including the version path, e.g. "http://127.0.0.1:11434/v1". */
  baseUrl: string;
  /** The server's model id; also reported as the local model's name. */
  model: string;
  /** Sent as a bearer token when set (LM Studio and llama.cpp server accept any). */
  apiKey?: string;
}

/** How many alternatives triage asks for; label tokens outside them count as probability 0. */
const TOP_LOGPROBS = 20;

/**
 * Stream bytes read per token asked for. A server's event for one token is a few hundred bytes
 * (llama.cpp's, with timings, under 1 KiB), so this is far above any answer that honours
 * `max_tokens`. A server that ignores it (or sends one event of megabytes) is cut off here: every
 * byte it sends is decoded and parsed on the proxy's thread, and 20 MB of it held that thread for
 * 90 ms, 500,000 small events for seconds.
 */
const STREAM_BYTES_PER_TOKEN = 4 * 1024;

/** Stream bytes read at most, whatever `max_tokens` is (a `local.maxAnswerTokens` set very high). */
const MAX_STREAM_BYTES = 8 * 1024 * 1024;

/** The bytes of stream an answer of `maxTokens` may take before it counts as cut off at its cap. */
export function streamByteBudget(maxTokens: number): number {
  return Math.min(MAX_STREAM_BYTES, Math.max(1, maxTokens) * STREAM_BYTES_PER_TOKEN);
}

interface TopLogprob {
  token: string;
  logprob: number;
}

type WireMessage = { role: 'system' | 'user' | 'assistant'; content: string };

function wireMessages(prompt: LocalPrompt): WireMessage[] {
  const messages: WireMessage[] = prompt.system ? [{ role: 'system', content: prompt.system }] : [];
  for (const turn of prompt.turns) messages.push({ role: turn.role, content: turn.text });
  return messages;
}

/**
 * Probability of each label from one position's top alternatives: a token counts for a label when,
 * trimmed and upper-cased, it is a non-empty start of that label and of no other ("S" → SIMPLE,
 * "Simple" → SIMPLE, " COM" → COMPLEX). Tokenizers split labels differently; this works for all.
 */
export function labelProbabilitiesFromTopLogprobs(top: readonly TopLogprob[], labels: readonly [string, string]): [number, number] {
  const sums: [number, number] = [0, 0];
  for (const { token, logprob } of top) {
    const piece = token.trim().toUpperCase();
    if (piece === '') continue;
    const matches = labels.map((label) => label.toUpperCase().startsWith(piece));
    if (matches[0] && !matches[1]) sums[0] += Math.exp(logprob);
    else if (matches[1] && !matches[0]) sums[1] += Math.exp(logprob);
  }
  return [Math.min(1, sums[0]), Math.min(1, sums[1])];
}

class OpenAiCompatibleEngine implements LocalEngine {
  readonly modelName: string;

  constructor(private readonly options: OpenAiBackendOptions) {
    this.modelName = options.model;
  }

  private post(body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    return fetch(url, { method: 'POST', headers, body: JSON.stringify({ model: this.options.model, ...body }), signal });
  }

  private async failure(response: Response): Promise<Error> {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    return new Error(`local server answered ${response.status}: ${text}`);
  }

  async labelProbabilities(prompt: LocalPrompt, labels: readonly [string, string], signal: AbortSignal): Promise<[number, number]> {
    const response = await this.post(
      { messages: wireMessages(prompt), max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: TOP_LOGPROBS, stream: false },
      signal,
    );
    if (!response.ok) throw await this.failure(response);
    const body = (await response.json()) as { choices?: Array<{ logprobs?: { content?: Array<{ top_logprobs?: TopLogprob[] }> } | null }> };
    const top = body.choices?.[0]?.logprobs?.content?.[0]?.top_logprobs;
    if (!Array.isArray(top) || top.length === 0) throw new Error('the local server returned no token probabilities (logprobs unsupported?)');
    return labelProbabilitiesFromTopLogprobs(top, labels);
  }

  generate(prompt: LocalPrompt, options: GenerateOptions): LocalGeneration {
    const chunks = new TextChannel();
    const result = this.stream(prompt, options, chunks);
    result.then(() => chunks.close(), (error: unknown) => chunks.fail(error));
    return { chunks, result };
  }

  private async stream(prompt: LocalPrompt, options: GenerateOptions, chunks: TextChannel): Promise<GenerationResult> {
    const messages = wireMessages(prompt);
    const body: Record<string, unknown> = {
      messages,
      max_tokens: options.maxTokens,
      temperature: options.temperature ?? 0,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (options.topP !== undefined) body.top_p = options.topP;
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.stop.length > 0) body.stop = options.stop;

    let text = '';
    let finishReason: string | undefined;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    const parser = createParser({
      onEvent: (event) => {
        if (event.data === '[DONE]') return;
        const data = JSON.parse(event.data) as {
          choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
        };
        const choice = data.choices?.[0];
        const delta = choice?.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          text += delta;
          chunks.push(delta);
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (data.usage) usage = data.usage;
      },
    });
    const budget = streamByteBudget(options.maxTokens);
    let received = 0;
    let overran = false;
    try {
      const response = await this.post(body, options.signal);
      if (!response.ok || !response.body) throw await this.failure(response);
      const decoder = new TextDecoder();
      for await (const bytes of response.body) {
        received += bytes.byteLength;
        if (received > budget) {
          // Leaving the loop cancels the body: the server stops being read.
          overran = true;
          break;
        }
        parser.feed(decoder.decode(bytes, { stream: true }));
      }
      if (!overran) parser.feed(decoder.decode());
    } catch (error) {
      if (options.signal.aborted) return { text, inputTokens: 0, outputTokens: 0, stopReason: 'aborted' };
      throw error;
    }
    if (!overran && finishReason === undefined) throw new Error('the local server ended the stream without a finish reason');
    // Past its budget the answer is as long as the cap allows, as if the server had honoured it.
    const stopReason: LocalStopReason = overran || finishReason === 'length' ? 'max_tokens' : 'end';
    // Servers that ignore include_usage: count with a cloud tokenizer, an estimate of the local count.
    return {
      text,
      inputTokens: usage?.prompt_tokens ?? countTokens(messages.map((m) => m.content).join('\n')),
      outputTokens: usage?.completion_tokens ?? countTokens(text),
      stopReason,
    };
  }

  async dispose(): Promise<void> {
    // The server owns the model's memory; there is nothing to free here.
  }
}

/**
 * An engine backed by a local OpenAI-compatible server. Nothing is contacted until the first call.
 *
 * @example createOpenAiEngine({ baseUrl: 'http://127.0.0.1:11434/v1', model: 'qwen2.5:0.5b' })
 */
export function createOpenAiEngine(options: OpenAiBackendOptions): LocalEngine {
  return new OpenAiCompatibleEngine(options);
}
