/**
 * Sentence embeddings from a local transformers.js model (`@huggingface/transformers` on
 * onnxruntime-node): mean-pooled, normalised. Loads a model folder, or a hub id that
 * `downloadModel` has already fetched into the data dir; it never downloads by itself.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { guardFinite, type Embedder } from './embedder';
import { loadTransformers, modelCacheDir } from './download';
import { TRANSFORMERS_PROFILE } from './profiles';

/**
 * Default cosine threshold for sentence-transformer models. It could not be calibrated on this
 * project's machines (no weights can be fetched there); 0.95 is deliberately strict. Calibrate with
 * `isartor bench pairs --embedder transformers --model DIR` and set semantic.threshold.
 */
export const TRANSFORMERS_DEFAULT_THRESHOLD = TRANSFORMERS_PROFILE.threshold;

export interface TransformersEmbedderOptions {
  /** A local model folder, or a hub id previously downloaded into the data dir. */
  model: string;
  dataDir: string;
  threshold?: number;
}

/** Raised when the model is neither a folder nor downloaded; the message says what to do. */
export class ModelNotAvailableError extends Error {}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Loads the model with remote access disabled and probes its output size.
 *
 * @example const embedder = await createTransformersEmbedder({ model: '/models/minilm', dataDir });
 */
export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<Embedder> {
  const transformers = await loadTransformers();
  transformers.env.allowRemoteModels = false;
  const local = await isDirectory(options.model);
  const modelRef = local ? resolve(options.model) : options.model;
  let extractor: Awaited<ReturnType<typeof transformers.pipeline<'feature-extraction'>>>;
  try {
    extractor = await transformers.pipeline('feature-extraction', modelRef, {
      local_files_only: true,
      cache_dir: modelCacheDir(options.dataDir),
      dtype: 'fp32',
      device: 'cpu',
    });
  } catch (error) {
    const hint = local
      ? `the folder ${modelRef} does not hold a usable model (config.json, tokenizer.json, onnx/model.onnx)`
      : `model "${options.model}" is not downloaded yet (download it from the extension or point semantic.model at a folder)`;
    throw new ModelNotAvailableError(`${hint}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const embedRaw = async (text: string): Promise<Float32Array> => {
    const output = await extractor(text, { pooling: 'mean', normalize: true });
    return Float32Array.from(output.data as Float32Array);
  };
  const probe = await embedRaw('isartor');
  return guardFinite({
    id: `transformers:${local ? `dir:${modelRef}` : options.model}`,
    dimensions: probe.length,
    defaultThreshold: options.threshold ?? TRANSFORMERS_DEFAULT_THRESHOLD,
    gates: TRANSFORMERS_PROFILE.gates,
    embed: embedRaw,
    close: async () => {
      await extractor.dispose();
    },
  });
}
