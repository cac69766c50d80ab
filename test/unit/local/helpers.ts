/**
 * Shared pieces for the L2 tests: requests as the proxy builds them, an upstream layer that records
 * what reached it, a scripted engine, and timers the test fires by hand.
 */
import { Readable } from 'node:stream';
import { defaultConfig } from '../../../src/core/config';
import type { EngineConfig, LocalModelConfig } from '../../../src/core/config';
import type { GenerateOptions, GenerationResult, LocalEngine, LocalPrompt, Timers } from '../../../src/core/local/engine';
import { TextChannel } from '../../../src/core/local/textChannel';
import type { Outcome, UpstreamOutcome } from '../../../src/core/outcome';
import type { Layer, LayerContext } from '../../../src/core/pipeline';
import type { ApiStyle, JsonObject, ProxyRequest } from '../../../src/core/request';

export function makeRequest(api: ApiStyle, body: JsonObject, options: { localOff?: boolean; signal?: AbortSignal } = {}): ProxyRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    api,
    route: { id: 'default', providers: [{ name: 'fake', kind: api === 'anthropic.messages' ? 'anthropic' : 'openai', baseUrl: 'http://127.0.0.1:9/v1' }] },
    body,
    rawBody,
    headers: {},
    model: typeof body.model === 'string' ? body.model : 'unknown',
    stream: body.stream === true,
    credentialHash: 'anonymous',
    clientTool: 'test',
    cache: { noCache: false, noStore: false, semanticOff: false, localOff: options.localOff ?? false },
    signal: options.signal ?? new AbortController().signal,
    receivedAt: 0,
  };
}

export function newContext(req: ProxyRequest): LayerContext {
  return { req, notes: {}, responseHeaders: {} };
}

/** An L3 stand-in: answers with the bytes it would forward, and remembers each context it saw. */
export function recordingUpstream(): Layer & { seen: LayerContext[] } {
  const seen: LayerContext[] = [];
  return {
    name: 'upstream',
    seen,
    async handle(ctx): Promise<Outcome> {
      seen.push(ctx);
      const outcome: UpstreamOutcome = {
        kind: 'upstream',
        layer: 'l3',
        provider: 'fake',
        status: 200,
        headers: {},
        body: Readable.from([ctx.forwardBody ?? ctx.req.rawBody]),
        completion: Promise.resolve(undefined),
        upstreamLatencyMs: 0,
      };
      return outcome;
    },
  };
}

export function localConfig(dataDir: string, local: Partial<LocalModelConfig> = {}): EngineConfig {
  const config = defaultConfig(dataDir);
  config.local = { ...config.local, threads: 1, contextSize: 1024, ...local };
  return config;
}

/** Timers that only fire when the test says so. */
export class ManualTimers implements Timers {
  private nextId = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { callback, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every pending timer set for exactly `ms`; returns how many fired. */
  fire(ms: number): number {
    const due = [...this.pending].filter(([, timer]) => timer.ms === ms);
    for (const [id, timer] of due) {
      this.pending.delete(id);
      timer.callback();
    }
    return due.length;
  }
  has(ms: number): boolean {
    return [...this.pending.values()].some((timer) => timer.ms === ms);
  }
}

export interface ScriptedEngineScript {
  /** [p(SIMPLE), p(COMPLEX)], or a promise the test controls. */
  labels?: [number, number] | Promise<[number, number]>;
  /** Chunks the "model" produces, and how it ends. */
  chunks?: string[];
  stopReason?: GenerationResult['stopReason'];
}

/** An engine whose triage and answers are scripted; records prompts and options it was given. */
export class ScriptedEngine implements LocalEngine {
  readonly modelName = 'scripted-model';
  readonly triagePrompts: LocalPrompt[] = [];
  readonly generations: Array<{ prompt: LocalPrompt; options: GenerateOptions }> = [];
  disposed = false;

  constructor(private readonly script: ScriptedEngineScript) {}

  async labelProbabilities(prompt: LocalPrompt): Promise<[number, number]> {
    this.triagePrompts.push(prompt);
    return this.script.labels ?? [0.99, 0.01];
  }

  generate(prompt: LocalPrompt, options: GenerateOptions): { chunks: TextChannel; result: Promise<GenerationResult> } {
    this.generations.push({ prompt, options });
    const chunks = new TextChannel();
    const parts = this.script.chunks ?? ['Use ', '`ls -la`', '.'];
    for (const part of parts) chunks.push(part);
    chunks.close();
    const text = parts.join('');
    return {
      chunks,
      result: Promise.resolve({ text, inputTokens: 11, outputTokens: parts.length, stopReason: this.script.stopReason ?? 'end' }),
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/** Reads a generated outcome's deltas to the end. */
export async function readDeltas(deltas: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of deltas) out.push(delta);
  return out;
}

/**
 * An engine whose answer the test writes piece by piece: `send` pushes text, `finish` ends it,
 * and an abort (a fall-through, a missed deadline) ends it as a real backend does.
 */
export class ControlledEngine implements LocalEngine {
  readonly modelName = 'controlled-model';
  /** The signal of each generation, to check that giving up aborted the backend. */
  readonly signals: AbortSignal[] = [];
  private channel: TextChannel | undefined;
  private text = '';
  private settle: ((result: GenerationResult) => void) | undefined;

  async labelProbabilities(): Promise<[number, number]> {
    return [0.99, 0.01];
  }

  generate(_prompt: LocalPrompt, options: GenerateOptions): { chunks: TextChannel; result: Promise<GenerationResult> } {
    const chunks = new TextChannel();
    this.channel = chunks;
    this.text = '';
    this.signals.push(options.signal);
    const result = new Promise<GenerationResult>((resolve) => (this.settle = resolve));
    options.signal.addEventListener('abort', () => this.finish('aborted'), { once: true });
    return { chunks, result };
  }

  send(text: string): void {
    this.text += text;
    this.channel?.push(text);
  }

  finish(stopReason: GenerationResult['stopReason'] = 'end'): void {
    this.settle?.({ text: this.text, inputTokens: 7, outputTokens: this.text.length, stopReason });
    this.settle = undefined;
    this.channel?.close();
  }

  async dispose(): Promise<void> {}
}

/**
 * Waits, a turn of the event loop at a time, until a timer of `ms` is pending. Throws when none is
 * set within a thousand turns (the layer sets its timers within a few).
 */
export async function whenTimerSet(timers: ManualTimers, ms: number): Promise<void> {
  for (let turn = 0; !timers.has(ms); turn++) {
    if (turn === 1000) throw new Error(`no ${ms} ms timer was ever set`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Fires the timer of `ms` as soon as it is set (see `whenTimerSet`). */
export async function fireWhenSet(timers: ManualTimers, ms: number): Promise<void> {
  await whenTimerSet(timers, ms);
  timers.fire(ms);
}
