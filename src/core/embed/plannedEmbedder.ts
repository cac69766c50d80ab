/**
 * Which embedder the semantic layer would use with these settings, judged from the files on disk
 * without loading a model, for `isartor model status` and the extension's messages.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SemanticCacheConfig } from '../config';
import { embeddingModelDir } from './download';

/** Files a transformers.js sentence-embedding model needs (fp32 weights, as the embedder loads them). */
const MODEL_FILES = ['config.json', 'tokenizer.json', join('onnx', 'model.onnx')];

/** The embedder chosen, and when it is not the one configured, why. */
export interface PlannedEmbedder {
  kind: 'lexical' | 'transformers';
  /** transformers: the folder the model loads from. */
  modelDir?: string;
  /** Set when `semantic.embedder` asks for transformers but the lexical embedder will serve. */
  fallbackReason?: string;
}

/** True when `folder` holds every file the transformers embedder loads. */
export function holdsEmbeddingModel(folder: string): boolean {
  return MODEL_FILES.every((file) => existsSync(join(folder, file)));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Mirrors `createEmbedder`'s choice: a folder named by `semantic.model`, else a hub id downloaded
 * into the data dir, else the lexical fallback with the reason and the fix.
 *
 * @example plannedEmbedder(config.semantic, config.dataDir).kind // 'lexical'
 */
export function plannedEmbedder(semantic: Pick<SemanticCacheConfig, 'embedder' | 'model'>, dataDir: string): PlannedEmbedder {
  if (semantic.embedder === 'lexical') return { kind: 'lexical' };
  if (!semantic.model) return { kind: 'lexical', fallbackReason: 'semantic.embedder is "transformers" but semantic.model is not set' };
  const folder = isDirectory(semantic.model) ? resolve(semantic.model) : embeddingModelDir(dataDir, semantic.model);
  if (holdsEmbeddingModel(folder)) return { kind: 'transformers', modelDir: folder };
  const fix = isDirectory(semantic.model) ? 'it needs config.json, tokenizer.json and onnx/model.onnx' : `run \`isartor model download --embedder --model ${semantic.model}\``;
  return { kind: 'lexical', fallbackReason: `model "${semantic.model}" is not in ${folder} (${fix})` };
}
