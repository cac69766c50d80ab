/**
 * The built-in lexical embedder: content words folded through reviewed synonyms and a Porter
 * stemmer, plus word bigrams, hashed into a fixed-size vector. No download, microseconds per text.
 */
import { stemmer } from 'stemmer';
import { normalizeInPlace, type Embedder } from './embedder';
import { LEXICAL_PROFILE } from './profiles';
import { wordWeight } from './rarity';
import { STOP_WORDS } from './stopwords';
import { foldSynonym } from './synonyms';
import { TECH_SPELLINGS, TECH_TERMS } from './tech-terms';

/** Tuning knobs, exposed so the benchmark can compare variants on the same data. */
export interface LexicalOptions {
  dimensions: number;
  /** Weight of a word bigram relative to a word; bigrams make word order count a little. */
  bigramWeight: number;
  /** Fold the reviewed synonyms ("purchase" → "buy") before stemming. */
  synonyms: boolean;
  /** Weigh words by rarity (rare words decide more than common ones). */
  rarity: boolean;
}

export const DEFAULT_LEXICAL_OPTIONS: LexicalOptions = { dimensions: 128, bigramWeight: 0.5, synonyms: true, rarity: true };

/** Calibrated on the first half of qqp-dev.jsonl (docs/measurements/semantic-threshold.md). */
export const LEXICAL_DEFAULT_THRESHOLD = LEXICAL_PROFILE.threshold;

// Non-ASCII written as \u escapes (\u2019 is ’): the bundles must stay ASCII (scripts/ascii-bundle.mjs).
const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bcan['\u2019]t\b/g, 'can not'],
  [/\bwon['\u2019]t\b/g, 'will not'],
  [/\bshan['\u2019]t\b/g, 'shall not'],
  [/n['\u2019]t\b/g, ' not'],
  // Spelled out, so "who'll win" and "who'd win" stay different questions to the wording gate
  // ("'d" may be "had" too: either way not "will").
  [/['\u2019]ll\b/g, ' will'],
  [/['\u2019]d\b/g, ' would'],
  [/['\u2019]ve\b/g, ' have'],
  [/['\u2019]re\b/g, ' are'],
  [/['\u2019]m\b/g, ' am'],
];

/** "'s": "is", "has" or the possessive; which one, the words around it tell. */
const APOSTROPHE_S = /['\u2019]s\b/g;

/**
 * Lower-cases, rewrites contractions and punctuated tech names, and splits into word tokens.
 * "'s" is dropped for the embedder (it names no topic); with `keepApostropheS` it becomes the token
 * "s", for the wording gate: "the user's role" is not "the user role".
 */
export function lexicalTokens(text: string, keepApostropheS = false): string[] {
  let normalized = text.normalize('NFKC');
  for (const [pattern, replacement] of TECH_SPELLINGS) normalized = normalized.replace(pattern, replacement);
  normalized = normalized.toLowerCase();
  for (const [pattern, replacement] of CONTRACTIONS) normalized = normalized.replace(pattern, replacement);
  normalized = normalized.replace(APOSTROPHE_S, keepApostropheS ? ' s' : '');
  return normalized.match(/[\p{L}\p{N}]+(?:[.\-][\p{L}\p{N}]+)*/gu) ?? [];
}

/**
 * The content terms of a text in order: stop words dropped, synonyms folded, words stemmed.
 * Numbers and tech names are kept verbatim.
 */
export function contentTerms(text: string, useSynonyms = true): string[] {
  return weightedTerms(text, useSynonyms, false).map((term) => term.term);
}

export interface WeightedTerm {
  term: string;
  weight: number;
}

/** Content terms with their rarity weight (1 for everything when `rarity` is false). */
export function weightedTerms(text: string, useSynonyms: boolean, rarity: boolean): WeightedTerm[] {
  const terms: WeightedTerm[] = [];
  const tokens = lexicalTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (STOP_WORDS.has(token)) continue;
    if (/\d/.test(token) || TECH_TERMS.has(token)) {
      terms.push({ term: token, weight: 1 });
      continue;
    }
    const word = useSynonyms ? foldSynonym(token, tokens[i + 1]) : token;
    terms.push({ term: stemmer(word), weight: rarity ? wordWeight(word) : 1 });
  }
  return terms;
}

/** 32-bit FNV-1a: cheap, stable across runs and platforms (the index persists these vectors). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Adds one feature to the vector; the sign bit halves the bias hash collisions would add. */
function addFeature(vector: Float32Array, feature: string, weight: number): void {
  const hash = fnv1a(feature);
  vector[hash % vector.length] += hash & 0x80000000 ? -weight : weight;
}

/** Sparse feature weights of a text, before hashing (used by tests and the benchmark). */
export function lexicalFeatures(text: string, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): Map<string, number> {
  const terms = weightedTerms(text, options.synonyms, options.rarity);
  const features = new Map<string, number>();
  const add = (feature: string, weight: number): void => {
    features.set(feature, (features.get(feature) ?? 0) + weight);
  };
  terms.forEach(({ term, weight }, i) => {
    add(term, weight);
    const previous = terms[i - 1];
    if (previous && options.bigramWeight > 0) add(`${previous.term} ${term}`, options.bigramWeight * Math.min(weight, previous.weight));
  });
  return features;
}

/** Embeds synchronously; the Embedder wrapper below only adds the promise. */
export function lexicalVector(text: string, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): Float32Array {
  const vector = new Float32Array(options.dimensions);
  for (const [feature, weight] of lexicalFeatures(text, options)) addFeature(vector, feature, weight);
  return normalizeInPlace(vector);
}

/**
 * Creates the built-in embedder.
 *
 * @example const vector = await createLexicalEmbedder().embed('Purchase?');
 */
export function createLexicalEmbedder(options: Partial<LexicalOptions> = {}): Embedder & { embedSync(text: string): Float32Array } {
  const resolved = { ...DEFAULT_LEXICAL_OPTIONS, ...options };
  const embedSync = (text: string): Float32Array => lexicalVector(text, resolved);
  return {
    id: `lexical-v1-d${resolved.dimensions}${resolved.synonyms ? '' : '-nosyn'}${resolved.rarity ? '' : '-norarity'}-b${resolved.bigramWeight}`,
    dimensions: resolved.dimensions,
    defaultThreshold: LEXICAL_DEFAULT_THRESHOLD,
    gates: LEXICAL_PROFILE.gates,
    embed: async (text) => embedSync(text),
    embedSync,
  };
}
