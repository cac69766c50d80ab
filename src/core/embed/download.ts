/**
 * Fetches a sentence-embedding model from the Hugging Face hub into the data dir, once, on the
 * user's request, reporting progress (the extension shows a notification, the CLI a bar).
 */
import { join } from 'node:path';
import type * as Transformers from '@huggingface/transformers';

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
  transformersModule ??= import('@huggingface/transformers');
  return transformersModule;
}
let transformersModule: Promise<typeof Transformers> | undefined;

/** Folder under the data dir where downloaded models are cached. */
export function modelCacheDir(dataDir: string): string {
  return join(dataDir, 'models');
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
 * Downloads `model` (a hub id such as "Xenova/all-MiniLM-L6-v2") into `modelCacheDir(dataDir)`.
 * Afterwards the model loads offline. Throws ModelDownloadError when it cannot be fetched.
 *
 * @example await downloadModel('Xenova/all-MiniLM-L6-v2', dataDir, (p) => bar.update(p.percent));
 */
export async function downloadModel(model: string, dataDir: string, onProgress?: (progress: DownloadProgress) => void): Promise<void> {
  const transformers = await loadTransformers();
  const previous = transformers.env.allowRemoteModels;
  transformers.env.allowRemoteModels = true;
  try {
    const extractor = await transformers.pipeline('feature-extraction', model, {
      cache_dir: modelCacheDir(dataDir),
      dtype: 'fp32',
      device: 'cpu',
      progress_callback: progressAdapter(onProgress),
    });
    await extractor.dispose();
  } catch (error) {
    throw new ModelDownloadError(model, error);
  } finally {
    transformers.env.allowRemoteModels = previous;
  }
}
