/**
 * A short hash of the parts of a turn that every gate profile requires to be equal (`ExactParts`:
 * code, numbers, identifiers, symbols, layout). It is written into each entry's store key, so the worker
 * knows it for every entry from the keys alone (journal, store) and the main thread can tell, from
 * the text alone, that no entry could pass the gates: a lookup then needs no round trip to the
 * worker (issue 15).
 */
import { sha256 } from '../request';
import { EXACT_GATES, exactParts, type GateReason } from './gates';

/** Hex digits of a gate key. Two different parts sharing one only cost a lookup in the worker. */
const GATE_KEY_LENGTH = 8;

/**
 * The gate key of a turn: equal for two turns whose `ExactParts` are equal, which every hit
 * between different texts needs (and the same text has the same key).
 *
 * @example gateKeyOf('sort 10 items') !== gateKeyOf('sort 12 items') // true
 */
export function gateKeyOf(text: string): string {
  const { code, numbers, identifiers, symbols, layout } = exactParts(text);
  return sha256(`${code}\u0002${numbers}\u0002${identifiers}\u0002${symbols}\u0002${layout}`).slice(0, GATE_KEY_LENGTH);
}

/** Whether gate keys say anything under `gates` (a profile's gates; undefined = all gates). */
export function gatesCoverExactParts(gates: ReadonlySet<GateReason> | undefined): boolean {
  return gates === undefined || EXACT_GATES.every((gate) => gates.has(gate));
}

/** Marks the store keys that carry a gate key (and its version: a new `ExactParts` gets a new tag). */
export const GATE_KEY_TAG = 'g3';

/** Length of the part of an entry key after the partition that holds a gate key and a text hash. */
export const TAGGED_HASH_LENGTH = GATE_KEY_TAG.length + GATE_KEY_LENGTH + 24;

/** The gate key in the hash part of an entry key, or undefined for a key written before gate keys. */
export function gateKeyOfHash(hashPart: string): string | undefined {
  if (hashPart.length !== TAGGED_HASH_LENGTH || !hashPart.startsWith(GATE_KEY_TAG)) return undefined;
  return hashPart.slice(GATE_KEY_TAG.length, GATE_KEY_TAG.length + GATE_KEY_LENGTH);
}
