/**
 * Each embedder's profile: the cosine threshold a neighbour needs and the safety gates it must
 * then pass. Both are chosen per embedder (docs/measurements/semantic-threshold.md).
 */
import type { GateReason } from '../semantic/gates';
import { LEXICAL_GATES, NEURAL_GATES } from '../semantic/gateSets';

export interface EmbedderProfile {
  /** Cosine similarity a neighbour needs before the gates look at it. */
  threshold: number;
  gates: ReadonlySet<GateReason>;
}

/** Calibrated on the first half of qqp-dev.jsonl (the tuning half); the second half held out. */
export const LEXICAL_PROFILE: EmbedderProfile = { threshold: 0.95, gates: LEXICAL_GATES };

/**
 * Not calibrated on real weights: none can be downloaded on the project's machines. A strict
 * threshold and the gates for what sentence encoders blur; calibrate before loosening it.
 */
export const TRANSFORMERS_PROFILE: EmbedderProfile = { threshold: 0.95, gates: NEURAL_GATES };
