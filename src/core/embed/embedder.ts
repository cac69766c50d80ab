/**
 * The Embedder port: turns the last user turn into a unit-length vector. The lexical embedder is
 * built in; the transformers.js embedder runs a local sentence-embedding model.
 */
import type { GateReason } from '../semantic/gates';

/** One way of turning text into vectors whose dot product is their cosine similarity. */
export interface Embedder {
  /** Stable id stored with every entry ("lexical-v1", "transformers:Xenova/all-MiniLM-L6-v2"). */
  readonly id: string;
  readonly dimensions: number;
  /** The threshold of the embedder's profile (see profiles.ts). */
  readonly defaultThreshold: number;
  /** The safety gates of the embedder's profile (see profiles.ts); every gate when absent. */
  readonly gates?: ReadonlySet<GateReason>;
  /** A unit-length vector (all zeros only for text with no content words). */
  embed(text: string): Promise<Float32Array>;
  close?(): Promise<void>;
}

/** Scales `vector` in place to unit length; a zero vector stays zero. */
export function normalizeInPlace(vector: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
  }
  return vector;
}

/** Dot product: the cosine similarity of two unit vectors. */
export function dot(a: Float32Array, b: Float32Array, bOffset = 0): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[bOffset + i]!;
  return sum;
}

/**
 * True when every component is a finite number. A NaN or infinite vector compares as "not less
 * than" anything, so it would skip thresholds and poison nearest-neighbour order: it is never
 * looked up, stored or indexed.
 */
export function isFiniteVector(vector: Float32Array): boolean {
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) return false;
  return true;
}

/** Thrown when an embedder produces a non-finite vector; the layer treats it as a miss. */
export class NonFiniteVectorError extends Error {
  constructor(embedderId: string) {
    super(`embedder ${embedderId} produced a non-finite vector`);
  }
}

/**
 * Wraps an embedder so that a non-finite output is an error rather than a vector.
 *
 * @example const safe = guardFinite(embedder); await safe.embed(text); // throws NonFiniteVectorError on NaN
 */
export function guardFinite<T extends Embedder>(embedder: T): T {
  const embed = async (text: string): Promise<Float32Array> => {
    const vector = await embedder.embed(text);
    if (!isFiniteVector(vector)) throw new NonFiniteVectorError(embedder.id);
    return vector;
  };
  return { ...embedder, embed };
}
