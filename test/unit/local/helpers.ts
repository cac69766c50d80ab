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
