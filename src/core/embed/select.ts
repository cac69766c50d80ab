/**
 * Picks the embedder the configuration asks for, falling back to the built-in lexical one (with
 * the reason) when a neural model is not available, so the semantic cache keeps serving.
 */
import type { Logger } from '../logger';
import type { Embedder } from './embedder';
import { createLexicalEmbedder } from './lexical';
import { createTransformersEmbedder } from './transformers';

export type EmbedderChoice = 'lexical' | 'transformers';

export interface EmbedderRequest {
  choice: EmbedderChoice;
  /** transformers: model folder or downloaded hub id. */
  model?: string;
  dataDir: string;
  logger: Logger;
}

/** The embedder in use and, when it is not the one asked for, why. */
export interface SelectedEmbedder {
  embedder: Embedder;
  fellBack?: string;
}

/**
 * Creates the requested embedder or the lexical fallback.
 *
 * @example const { embedder } = await createEmbedder({ choice: 'lexical', dataDir, logger });
 */
export async function createEmbedder(request: EmbedderRequest): Promise<SelectedEmbedder> {
  if (request.choice === 'lexical') return { embedder: createLexicalEmbedder() };
  if (!request.model) return { embedder: createLexicalEmbedder(), fellBack: 'no transformers model configured (semantic.model)' };
  try {
    return { embedder: await createTransformersEmbedder({ model: request.model, dataDir: request.dataDir }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    request.logger.warn(`l1b: ${reason}; using the built-in lexical embedder`);
    return { embedder: createLexicalEmbedder(), fellBack: reason };
  }
}
