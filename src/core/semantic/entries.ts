/**
 * One L1b cache entry as it lives in the key-value store: the last user turn, its vector, the
 * partition it belongs to and the stored answer. Keys carry the partition so a rebuild can group
 * entries without reading them.
 */
import { storedAnswerJson, type StoredAnswer } from '../outcome';
import { sha256 } from '../request';
import type { KeyValueStore } from '../store/store';
import { GATE_KEY_TAG, gateKeyOf, gateKeyOfHash } from './gateKeys';

export const ENTRY_KEY_PREFIX = 'l1b:';

export interface SemanticEntry {
  partition: string;
  /** The last user turn the answer was given for. */
  text: string;
  /** Id of the embedder that produced `vector`; another embedder re-embeds `text`. */
  embedder: string;
  vector: Float32Array;
  answer: StoredAnswer;
}

/**
 * Store key of an entry: partition, the turn's gate key (see gateKeys.ts) and a hash of the exact
 * last turn. Keys written before gate keys hold 32 hex digits of the text's hash after the partition.
 */
export function entryKey(partition: string, text: string, gateKey = gateKeyOf(text)): string {
  return `${entryGroup(partition, gateKey)}${sha256(text).slice(0, TEXT_HASH_LENGTH)}`;
}

/** Hex digits of the text's hash at the end of an entry key. */
const TEXT_HASH_LENGTH = 24;

/** What the keys of `partition`'s entries with `gateKey` start with: only they can hit each other. */
export function entryGroup(partition: string, gateKey: string): string {
  return `${ENTRY_KEY_PREFIX}${partition}:${GATE_KEY_TAG}${gateKey}`;
}

/** The group (see `entryGroup`) of an entry key, or undefined for a key without a gate key. */
export function entryGroupOfKey(key: string): string | undefined {
  return gateKeyOfEntryKey(key) === undefined ? undefined : key.slice(0, key.length - TEXT_HASH_LENGTH);
}

/** The gate key an entry key carries, or undefined for a key without one (or not an entry's). */
export function gateKeyOfEntryKey(key: string): string | undefined {
  if (!key.startsWith(ENTRY_KEY_PREFIX)) return undefined;
  const end = key.indexOf(':', ENTRY_KEY_PREFIX.length);
  return end > 0 ? gateKeyOfHash(key.slice(end + 1)) : undefined;
}

/** The partition encoded in an entry key, or undefined for keys that are not L1b entries. */
export function partitionOfKey(key: string): string | undefined {
  if (!key.startsWith(ENTRY_KEY_PREFIX)) return undefined;
  const end = key.indexOf(':', ENTRY_KEY_PREFIX.length);
  return end > 0 ? key.slice(ENTRY_KEY_PREFIX.length, end) : undefined;
}

/**
 * An entry's stored bytes: JSON with the vector in base64. `answer` may come as its JSON already
 * (see `storedAnswerJson`), as the worker receives it; it is spliced in, not parsed again.
 */
export function encodeEntry(entry: Omit<SemanticEntry, 'answer'> & { answer: StoredAnswer | string }): Buffer {
  const vector = Buffer.from(entry.vector.buffer, entry.vector.byteOffset, entry.vector.byteLength).toString('base64');
  const answer = typeof entry.answer === 'string' ? entry.answer : storedAnswerJson(entry.answer);
  // What JSON.stringify of { v, partition, text, embedder, vector } writes, without scanning the
  // ~700 base64 characters of the vector for characters to escape (base64 has none): that scan
  // was most of this function's time in the worker (issue 15).
  const head = `{"v":1,"partition":${JSON.stringify(entry.partition)},"text":${JSON.stringify(entry.text)},"embedder":${JSON.stringify(entry.embedder)},"vector":"${vector}"`;
  return Buffer.from(`${head},"answer":${answer}}`);
}

/** Parses a stored entry; undefined for anything malformed (a damaged entry is a miss, never a crash). */
export function decodeEntry(bytes: Buffer): SemanticEntry | undefined {
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as Partial<Omit<SemanticEntry, 'vector'>> & { v?: number; vector?: string };
    if (raw.v !== 1 || typeof raw.partition !== 'string' || typeof raw.text !== 'string' || typeof raw.embedder !== 'string') return undefined;
    if (typeof raw.vector !== 'string' || !raw.answer || typeof raw.answer !== 'object') return undefined;
    const bytesOfVector = Buffer.from(raw.vector, 'base64');
    if (bytesOfVector.byteLength % 4 !== 0) return undefined;
    // Copy into a fresh, aligned buffer: Buffer.from may hand out an unaligned slice of a pool.
    const vector = new Float32Array(bytesOfVector.byteLength / 4);
    new Uint8Array(vector.buffer).set(bytesOfVector);
    return { partition: raw.partition, text: raw.text, embedder: raw.embedder, vector, answer: raw.answer as StoredAnswer };
  } catch {
    return undefined;
  }
}

/** Reads an entry; a missing, expired or damaged one is undefined. */
export async function readEntry(store: KeyValueStore, key: string): Promise<SemanticEntry | undefined> {
  const bytes = await store.get(key);
  return bytes ? decodeEntry(bytes) : undefined;
}
