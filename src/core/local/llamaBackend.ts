/**
 * The embedded L2 engine: a GGUF model run by node-llama-cpp inside the proxy's process. Inference
 * runs on llama.cpp's own threads, so the event loop keeps serving other requests meanwhile.
 */
import { basename } from 'node:path';
import type { ChatHistoryItem, Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import type * as NodeLlamaCppModule from 'node-llama-cpp';
import type { Logger } from '../logger';
import type { GenerateOptions, GenerationResult, LocalEngine, LocalGeneration, LocalPrompt, LocalStopReason } from './engine';
import { Mutex } from './mutex';
import { TextChannel } from './textChannel';

export interface LlamaEngineOptions {
  modelPath: string;
  /** CPU threads for inference; 0 lets node-llama-cpp choose. */
  threads: number;
  contextSize: number;
  gpu: boolean;
  logger: Logger;
}

type NodeLlamaCpp = typeof NodeLlamaCppModule;

let moduleLoad: Promise<NodeLlamaCpp> | undefined;
const llamaLoads = new Map<boolean, Promise<Llama>>();

/** node-llama-cpp is ESM-only and the bundle is CommonJS: load it with a real dynamic import, once. */
function loadModule(): Promise<NodeLlamaCpp> {
  moduleLoad ??= import('node-llama-cpp');
  return moduleLoad;
}

/** The llama.cpp binding, shared by every model: loading it takes about a second. */
function loadLlama(gpu: boolean, logger: Logger): Promise<Llama> {
  let load = llamaLoads.get(gpu);
  if (!load) {
    load = loadModule().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        gpu: gpu ? 'auto' : false,
        // Never compile or download binaries at run time: the prebuilt CPU binary ships in the package.
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          const line = `node-llama-cpp: ${message.trim()}`;
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logger.error(line);
          else logger.debug(line);
        },
      }),
    );
    load.catch(() => llamaLoads.delete(gpu));
    llamaLoads.set(gpu, load);
  }
  return load;
}

function chatHistory(prompt: LocalPrompt): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = prompt.system ? [{ type: 'system', text: prompt.system }] : [];
  for (const turn of prompt.turns) {
    history.push(turn.role === 'user' ? { type: 'user', text: turn.text } : { type: 'model', response: [turn.text] });
  }
  // An open model turn at the end: the wrapper renders the assistant prefix the answer continues.
  history.push({ type: 'model', response: [] });
  return history;
}

const commonPrefixLength = (a: readonly Token[], b: readonly Token[]): number => {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index++;
  return index;
};

class LlamaEngine implements LocalEngine {
  /** One sequence, so one evaluation at a time; queued callers may give up while waiting. */
  private readonly lock = new Mutex();

  constructor(
    readonly modelName: string,
    private readonly nodeLlamaCpp: NodeLlamaCpp,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
  ) {}

  /** Prompt tokens exactly as the chat template renders them for this model. */
  private promptTokens(prompt: LocalPrompt): Token[] {
    const chat = new this.nodeLlamaCpp.LlamaChat({ contextSequence: this.sequence, autoDisposeSequence: false });
    try {
      return chat.chatWrapper.generateContextState({ chatHistory: chatHistory(prompt) }).contextText.tokenize(this.model.tokenizer);
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  async labelProbabilities(prompt: LocalPrompt, labels: readonly [string, string], signal: AbortSignal): Promise<[number, number]> {
    const release = await this.lock.acquire(signal);
    try {
      const [first, second] = labels.map((label) => this.model.tokenize(label, false, 'trimLeadingSpace'));
      if (!first?.length || !second?.length) throw new Error('a triage label has no tokens');
      // Labels can share leading tokens (a byte vocabulary splits both into characters): feed the
      // shared part as if the model had produced it, and compare at the first token that differs.
      const shared = commonPrefixLength(first, second);
      if (shared >= first.length || shared >= second.length) throw new Error('one triage label is a prefix of the other');
      const input = [...this.promptTokens(prompt), ...first.slice(0, shared)];
      // Reuse the evaluated prefix (the triage instruction is the same every time), but always
      // evaluate at least the last token, whose next-token distribution is what we read.
      await this.sequence.adaptStateToTokens(input.slice(0, -1), false);
      const pending = input.slice(this.sequence.nextTokenIndex);
      const items = pending.map((token, index) => (index === pending.length - 1 ? ([token, { generateNext: { probabilities: true } }] as const) : token));
      const results = await this.sequence.controlledEvaluate(items as Parameters<LlamaContextSequence['controlledEvaluate']>[0]);
      const probabilities = results[pending.length - 1]?.next.probabilities;
      if (!probabilities) throw new Error('node-llama-cpp returned no token probabilities');
      return [probabilities.get(first[shared]!) ?? 0, probabilities.get(second[shared]!) ?? 0];
    } finally {
      release();
    }
  }

  generate(prompt: LocalPrompt, options: GenerateOptions): LocalGeneration {
    const chunks = new TextChannel();
    const result = this.runGeneration(prompt, options, chunks);
    result.then(() => chunks.close(), (error: unknown) => chunks.fail(error));
    return { chunks, result };
  }

  private async runGeneration(prompt: LocalPrompt, options: GenerateOptions, chunks: TextChannel): Promise<GenerationResult> {
    let release: () => void;
    try {
      release = await this.lock.acquire(options.signal);
    } catch {
      return { text: '', inputTokens: 0, outputTokens: 0, stopReason: 'aborted' };
    }
    const chat = new this.nodeLlamaCpp.LlamaChat({ contextSequence: this.sequence, autoDisposeSequence: false });
    try {
      const history = chatHistory(prompt);
      const inputTokens = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(this.model.tokenizer).length;
      // The sequence's meter counts every sampled token, including bytes of a character the stream
      // never completed, which `onToken` does not report.
      const outputBefore = this.sequence.tokenMeter.usedOutputTokens;
      const response = await chat.generateResponse(history, {
        maxTokens: options.maxTokens,
        temperature: options.temperature ?? 0,
        ...(options.topP !== undefined ? { topP: options.topP } : {}),
        ...(options.topK !== undefined ? { topK: options.topK } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.stop.length > 0 ? { customStopTriggers: options.stop } : {}),
        signal: options.signal,
        stopOnAbortSignal: true,
        onTextChunk: (text) => chunks.push(text),
      });
      const metadata = response.metadata;
      const stopReason: LocalStopReason =
        metadata.stopReason === 'maxTokens' ? 'max_tokens'
        : metadata.stopReason === 'abort' ? 'aborted'
        : metadata.stopReason === 'customStopTrigger' ? 'stop_sequence'
        : 'end';
      const outputTokens = this.sequence.tokenMeter.usedOutputTokens - outputBefore;
      const generation: GenerationResult = { text: response.response, inputTokens, outputTokens, stopReason };
      if (metadata.stopReason === 'customStopTrigger') {
        generation.stopSequence = metadata.customStopTrigger.map((part) => (typeof part === 'string' ? part : this.model.detokenize([part]))).join('');
      }
      return generation;
    } finally {
      chat.dispose({ disposeSequence: false });
      release();
    }
  }

  async dispose(): Promise<void> {
    // Wait for an evaluation in flight: disposing the context under it would crash the native side.
    const release = await this.lock.acquire();
    try {
      await this.context.dispose();
      await this.model.dispose();
    } finally {
      release();
    }
  }
}

/**
 * Loads `modelPath` and opens one chat context on it.
 *
 * @example const engine = await loadLlamaEngine({ modelPath, threads: 1, contextSize: 2048, gpu: false, logger });
 */
export async function loadLlamaEngine(options: LlamaEngineOptions): Promise<LocalEngine> {
  const nodeLlamaCpp = await loadModule();
  const llama = await loadLlama(options.gpu, options.logger);
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: options.gpu ? 'auto' : 0 });
  try {
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: 1,
      ...(options.threads > 0 ? { threads: options.threads } : {}),
    });
    const modelName = model.fileInfo.metadata.general?.name?.trim() || basename(options.modelPath, '.gguf');
    return new LlamaEngine(modelName, nodeLlamaCpp, model, context, context.getSequence());
  } catch (error) {
    await model.dispose();
    throw error;
  }
}
