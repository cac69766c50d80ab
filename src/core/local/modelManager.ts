/**
 * Owns the local model's lifecycle: finds the configured source (a local server, a .gguf path, or
 * the downloaded recommended model), loads it on first use, and unloads it after an idle period to
 * give the memory back.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LocalModelConfig } from '../config';
import type { Logger } from '../logger';
import type { LocalEngine, Timers } from './engine';
import { untilAborted } from '../abortable';
import { downloadedModelPath } from './modelDownload';

export type EngineSource =
  | { kind: 'llama'; modelPath: string }
  | { kind: 'openai'; baseUrl: string; model: string }
  | { kind: 'none'; reason: string };

export type LoadableSource = Exclude<EngineSource, { kind: 'none' }>;

/** A short human label for a source, for logs and `/isartor/stats`. */
export function sourceLabel(source: LoadableSource): string {
  return source.kind === 'llama' ? basename(source.modelPath) : `${source.model} at ${source.baseUrl}`;
}

/** A .gguf file, or the first .gguf (by name) in a folder. */
function ggufIn(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isDirectory()) return path.toLowerCase().endsWith('.gguf') ? path : undefined;
  const file = readdirSync(path).filter((name) => name.toLowerCase().endsWith('.gguf')).sort()[0];
  return file === undefined ? undefined : join(path, file);
}

/**
 * Which engine the settings point at. A local server URL wins over a model file; with neither set,
 * the recommended model is used if it was downloaded into the data dir.
 */
export function resolveEngineSource(config: LocalModelConfig, dataDir: string): EngineSource {
  if (config.backendUrl) {
    if (!config.backendModel) return { kind: 'none', reason: 'local.backendUrl is set but local.backendModel is not' };
    return { kind: 'openai', baseUrl: config.backendUrl, model: config.backendModel };
  }
  if (config.modelPath) {
    const modelPath = ggufIn(config.modelPath);
    return modelPath ? { kind: 'llama', modelPath } : { kind: 'none', reason: `no .gguf model at ${config.modelPath}` };
  }
  const downloaded = downloadedModelPath(dataDir);
  if (existsSync(downloaded)) return { kind: 'llama', modelPath: downloaded };
  return { kind: 'none', reason: 'no model configured' };
}

export type ModelStatus =
  | { state: 'none'; reason: string }
  | { state: 'unloaded' | 'loading'; source: string }
  | { state: 'loaded'; source: string; modelName: string }
  | { state: 'failed'; source: string; error: string };

/** A loaded engine lent to one request; `release()` when done so idle unloading can start. */
export interface EngineLease {
  engine: LocalEngine;
  release(): void;
}

/** No usable model is configured; the reason says what is missing. */
export class NoLocalModelError extends Error {}

export interface ModelManagerOptions {
  resolveSource: () => EngineSource;
  loadEngine: (source: LoadableSource) => Promise<LocalEngine>;
  /** 0 keeps the model loaded until `close()`. */
  idleUnloadMs: number;
  timers: Timers;
  logger: Logger;
}

export class ModelManager {
  private loaded: { key: string; engine: LocalEngine } | undefined;
  private loading: { key: string; promise: Promise<LocalEngine> } | undefined;
  private failed: { key: string; error: string } | undefined;
  private leases = 0;
  private idleTimer: unknown;
  private closed = false;

  constructor(private readonly options: ModelManagerOptions) {}

  status(): ModelStatus {
    const source = this.options.resolveSource();
    if (source.kind === 'none') return { state: 'none', reason: source.reason };
    const key = sourceLabel(source);
    if (this.loaded?.key === key) return { state: 'loaded', source: key, modelName: this.loaded.engine.modelName };
    if (this.loading?.key === key) return { state: 'loading', source: key };
    if (this.failed?.key === key) return { state: 'failed', source: key, error: this.failed.error };
    return { state: 'unloaded', source: key };
  }

  /**
   * The engine, loading it first if needed. Concurrent callers share one load. If `signal` aborts
   * before the engine is ready the caller gets the abort, and the load still completes for the next
   * request. A source that failed to load is not retried until the settings point elsewhere.
   */
  async acquire(signal?: AbortSignal): Promise<EngineLease> {
    if (this.closed) throw new Error('the local model manager is closed');
    const source = this.options.resolveSource();
    if (source.kind === 'none') throw new NoLocalModelError(source.reason);
    const key = sourceLabel(source);
    if (this.failed?.key === key) throw new Error(`local model ${key} failed to load: ${this.failed.error}`);
    const engine = await untilAborted(this.engineFor(key, source), signal);
    if (signal?.aborted) throw signal.reason;
    this.leases++;
    // The load's own completion may have started an idle period before this lease was counted.
    this.cancelIdleTimer();
    let released = false;
    return {
      engine,
      release: () => {
        if (released) return;
        released = true;
        this.leases--;
        this.scheduleIdleUnload();
      },
    };
  }

  private engineFor(key: string, source: LoadableSource): Promise<LocalEngine> {
    if (this.loaded?.key === key) return Promise.resolve(this.loaded.engine);
    if (this.loading?.key === key) return this.loading.promise;
    const previous = this.loaded;
    this.loaded = undefined;
    const promise = (async () => {
      // The settings changed under a loaded model: free it before loading the new one.
      if (previous) await previous.engine.dispose();
      this.options.logger.info(`local model: loading ${key}`);
      return this.options.loadEngine(source);
    })();
    this.loading = { key, promise };
    promise.then(
      (engine) => {
        if (this.loading?.promise === promise) this.loading = undefined;
        this.loaded = { key, engine };
        this.options.logger.info(`local model: ${engine.modelName} ready`);
        if (this.closed) void this.unload();
        else this.scheduleIdleUnload();
      },
      (error: unknown) => {
        if (this.loading?.promise === promise) this.loading = undefined;
        this.failed = { key, error: error instanceof Error ? error.message : String(error) };
        this.options.logger.warn(`local model: could not load ${key}: ${this.failed.error}`);
      },
    );
    return promise;
  }

  private cancelIdleTimer(): void {
    if (this.idleTimer === undefined) return;
    this.options.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private scheduleIdleUnload(): void {
    this.cancelIdleTimer();
    if (this.leases > 0 || !this.loaded || this.options.idleUnloadMs <= 0) return;
    this.idleTimer = this.options.timers.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.leases === 0) void this.unload();
    }, this.options.idleUnloadMs);
  }

  /** Frees the loaded model now (it loads again on the next eligible request). */
  async unload(): Promise<void> {
    this.cancelIdleTimer();
    const loaded = this.loaded;
    if (!loaded) return;
    this.loaded = undefined;
    this.options.logger.info(`local model: unloading ${loaded.engine.modelName}`);
    try {
      await loaded.engine.dispose();
    } catch (error) {
      this.options.logger.warn(`local model: unloading failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Unloads and refuses further use; waits for a load in flight so no model outlives the manager. */
  async close(): Promise<void> {
    this.closed = true;
    await this.loading?.promise.catch(() => undefined);
    await this.unload();
  }
}
