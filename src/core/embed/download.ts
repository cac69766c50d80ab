/**
 * Fetches a sentence-embedding model from the Hugging Face hub into the data dir, once, on the
 * user's request, reporting progress (the extension shows a notification, the CLI a bar).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as Transformers from '@huggingface/transformers';
import { optOutOfOnnxRuntimeTelemetry } from './onnxTelemetry';

/** The sentence-embedding model `isartor model download --embedder` and the extension fetch by default. */
export const DEFAULT_EMBEDDING_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** One progress report during a download. */
export interface DownloadProgress {
  /** File being fetched, e.g. "onnx/model.onnx". */
  file: string;
  loadedBytes: number;
  /** 0 when the server did not say. */
  totalBytes: number;
  /** 0–100 for this file. */
  percent: number;
}

/** Raised when a model cannot be fetched (no network, unknown id); the lexical embedder keeps serving. */
export class ModelDownloadError extends Error {
  constructor(
    readonly model: string,
    cause: unknown,
  ) {
    super(`could not download the embedding model "${model}": ${cause instanceof Error ? cause.message : String(cause)} (offline? point semantic.model at a local model folder instead)`);
  }
}

/**
 * The transformers.js module, loaded once. Everything (embedder, downloads, tests that adjust
 * `env`) must go through this one instance: its CommonJS and ESM builds keep separate settings.
 */
export function loadTransformers(): Promise<typeof Transformers> {
  optOutOfOnnxRuntimeTelemetry();
  transformersModule ??= import('@huggingface/transformers').catch((error: unknown) => {
    throw missingEmbedderPackage(error) ?? error;
  });
  return transformersModule;
}
let transformersModule: Promise<typeof Transformers> | undefined;

/** The packages the neural embedder loads; npm may leave them out of an install (optional dependencies). */
const EMBEDDER_PACKAGES = ['@huggingface/transformers', 'onnxruntime-node'];

/**
 * An error saying which optional package is missing and what to do, for Node's "Cannot find
 * package '…' imported from <bundle>" (which names neither the cause nor a remedy); undefined for
 * any other error.
 */
export function missingEmbedderPackage(error: unknown): Error | undefined {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const message = error instanceof Error ? error.message : String(error);
  const name = EMBEDDER_PACKAGES.find((candidate) => message.includes(`'${candidate}'`));
  if (!name) return undefined;
  return new Error(
    `the neural embedder's optional package ${name} is not installed (npm leaves it out when its install fails, e.g. offline); ` +
      'reinstall isartor with network access to use it',
  );
}

/** Folder under the data dir where downloaded models are cached. */
export function modelCacheDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** Where a downloaded hub model's files live: `<data dir>/models/<org>/<name>`, a folder semantic.model can name. */
export function embeddingModelDir(dataDir: string, model: string): string {
  return join(modelCacheDir(dataDir), ...model.split('/'));
}

/** Optional controls of a download. */
export interface DownloadOptions {
  /** Aborting stops the transfer; files of this model fetched so far are removed. */
  signal?: AbortSignal;
  /** A Hugging Face mirror (the `HF_ENDPOINT` convention) instead of https://huggingface.co/. */
  hubUrl?: string;
}

/** transformers.js's progress event, reduced to what we read. */
interface HubProgressEvent {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;
}

/** Turns transformers.js progress events into DownloadProgress reports. */
export function progressAdapter(onProgress: ((progress: DownloadProgress) => void) | undefined): (event: HubProgressEvent) => void {
  return (event) => {
    if (!onProgress || event.status !== 'progress' || !event.file) return;
    onProgress({ file: event.file, loadedBytes: event.loaded ?? 0, totalBytes: event.total ?? 0, percent: event.progress ?? 0 });
  };
}

/**
 * Sums per-file reports into one running byte count, for a single bar or notification.
 *
 * @example const total = totalProgress(); onProgress = (p) => bar.update(total(p).receivedBytes);
 */
export function totalProgress(): (progress: DownloadProgress) => { receivedBytes: number; totalBytes: number } {
  const files = new Map<string, DownloadProgress>();
  return (progress) => {
    files.set(progress.file, progress);
    let receivedBytes = 0;
    let totalBytes = 0;
    for (const file of files.values()) {
      receivedBytes += file.loadedBytes;
      totalBytes += file.totalBytes;
    }
    return { receivedBytes, totalBytes };
  };
}

/**
 * Downloads `model` (a hub id such as "Xenova/all-MiniLM-L6-v2") into `modelCacheDir(dataDir)`.
 * Afterwards the model loads offline. Throws ModelDownloadError when it cannot be fetched, and the
 * signal's reason when `options.signal` aborted it.
 *
 * @example await downloadModel('Xenova/all-MiniLM-L6-v2', dataDir, (p) => bar.update(p.percent));
 */
export async function downloadModel(model: string, dataDir: string, onProgress?: (progress: DownloadProgress) => void, options: DownloadOptions = {}): Promise<void> {
  const { signal, hubUrl } = options;
  signal?.throwIfAborted();
  const transformers = await loadTransformers();
  const { env } = transformers;
  const previous = { allowRemoteModels: env.allowRemoteModels, remoteHost: env.remoteHost, fetch: env.fetch };
  const folder = embeddingModelDir(dataDir, model);
  const folderExisted = existsSync(folder);
  env.allowRemoteModels = true;
  if (hubUrl) env.remoteHost = hubUrl.endsWith('/') ? hubUrl : `${hubUrl}/`;
  // transformers.js takes no AbortSignal; its fetch hook is the one place a transfer can be stopped.
  if (signal) env.fetch = (input, init?: RequestInit) => previous.fetch(input, { ...init, signal });
  try {
    const extractor = await transformers.pipeline('feature-extraction', model, {
      cache_dir: modelCacheDir(dataDir),
      dtype: 'fp32',
      device: 'cpu',
      progress_callback: progressAdapter(onProgress),
    });
    await extractor.dispose();
    signal?.throwIfAborted();
  } catch (error) {
    if (signal?.aborted) {
      // Cancelled: a half-present model would look downloaded to nobody and waste disk, so drop it.
      if (!folderExisted) await rm(folder, { recursive: true, force: true });
      throw signal.reason;
    }
    throw new ModelDownloadError(model, error);
  } finally {
    Object.assign(env, previous);
  }
}
