/**
 * Sentence embeddings from a local transformers.js model (`@huggingface/transformers` on
 * onnxruntime-node): mean-pooled, normalised. Loads a model folder, or a hub id that
 * `downloadModel` has already fetched into the data dir; it never downloads by itself.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { guardFinite, normalizeInPlace, type Embedder } from './embedder';
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

/**
 * A unit vector that only the very same text gets, for a text longer than the model reads: the
 * pipeline truncates at the model's window (512 tokens for all-MiniLM-L6-v2), so two long turns
 * that differ only after it embed to one vector, and a plain word there ("Answer briefly" /
 * "Answer thoroughly") is nothing the neural gates compare. Components from sha256 of the text:
 * two different texts' vectors are as far apart as random ones (cosine ~0 at 384 dimensions).
 */
export function unreadTextVector(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  for (let block = 0; block * 32 < dimensions; block++) {
    const bytes = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let i = 0; i < 32 && block * 32 + i < dimensions; i++) vector[block * 32 + i] = bytes[i]! - 127.5;
  }
  return normalizeInPlace(vector);
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
  // Tokens the model reads, special tokens included (the tokenizer's own limit; none: no truncation).
  const window = extractor.tokenizer.model_max_length;
  const embed = async (text: string): Promise<Float32Array> => {
    // Counted only when it may not fit: no tokenizer makes more than 4 tokens of one UTF-16 unit
    // (byte-level BPE: up to 3 bytes each), plus a few special tokens.
    if (text.length * 4 + 4 > window && extractor.tokenizer.encode(text).length > window) return unreadTextVector(text, probe.length);
    return embedRaw(text);
  };
  return guardFinite({
    id: `transformers:${local ? `dir:${modelRef}` : options.model}`,
    dimensions: probe.length,
    defaultThreshold: options.threshold ?? TRANSFORMERS_DEFAULT_THRESHOLD,
    gates: TRANSFORMERS_PROFILE.gates,
    embed,
    close: async () => {
      await extractor.dispose();
    },
  });
}
