/**
 * The port every L2 backend implements (embedded node-llama-cpp, a local OpenAI-compatible server),
 * and the plain chat types the local layer hands it.
 */

/** One turn of a text-only conversation. System text travels separately in `LocalPrompt.system`. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  text: string;
}

/** A request reduced to what a local model can answer: optional system text and text turns ending with the user. */
export interface LocalPrompt {
  system?: string;
  turns: ChatTurn[];
}

/** Sampling settings taken from the client's request, plus the token cap the layer chose. */
export interface GenerateOptions {
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Stop sequences from the request; the matched one is not part of the answer. */
  stop: string[];
  /** Client disconnects and fall-throughs abort the generation. */
  signal: AbortSignal;
}

/** Why a generation ended. */
export type LocalStopReason = 'end' | 'stop_sequence' | 'max_tokens' | 'aborted';

/** The finished answer with real token counts from the local model's own tokenizer. */
export interface GenerationResult {
  text: string;
  inputTokens: number;
  outputTokens: number;
  stopReason: LocalStopReason;
  /** The stop sequence that ended the answer, when `stopReason` is "stop_sequence". */
  stopSequence?: string;
}

/** A generation in flight: text chunks as the model produces them, then the result. */
export interface LocalGeneration {
  chunks: AsyncIterable<string>;
  /** Rejects only on an engine failure; an abort resolves with stopReason "aborted". */
  result: Promise<GenerationResult>;
}

/** A loaded local model. */
export interface LocalEngine {
  /** Shown to the client in `x-isartor-local-model` and in `/isartor/stats`. */
  readonly modelName: string;
  /**
   * The probability of each label being the model's answer to `prompt`, read from the model's
   * next-token distribution (not from sampled text). Throws when the backend cannot give them.
   */
  labelProbabilities(prompt: LocalPrompt, labels: readonly [string, string], signal: AbortSignal): Promise<[number, number]>;
  generate(prompt: LocalPrompt, options: GenerateOptions): LocalGeneration;
  /** Frees the model's memory; later calls fail. */
  dispose(): Promise<void>;
}

/** The timer functions the layer uses for budgets and idle unloading; tests pass controllable ones. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending idle-unload or budget timer must not keep a CLI process or a test run alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
