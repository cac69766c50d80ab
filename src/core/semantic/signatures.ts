/** A bounded memo of stored entries' gate signatures, so a lookup computes only the query's. */
import { gateSignature, type GateSignature } from './gates';

const DEFAULT_CAPACITY = 4096;

/**
 * Least-recently-used memo of `gateSignature`, keyed by an entry's store key. The key holds a hash
 * of the exact text (`entryKey`), so a key always names the same text and a cached signature can
 * never be stale; keying by it lets a lookup check the gates of a neighbour it has not read. The
 * bound keeps memory flat when the store holds far more entries than lookups ever reach.
 *
 * @example const signatures = new SignatureCache(); checkGates(query, signatures.of(key, entry.text));
 */
export class SignatureCache {
  private readonly byKey = new Map<string, GateSignature>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The signature remembered for `key`, if any (counts as a use). */
  get(key: string): GateSignature | undefined {
    const cached = this.byKey.get(key);
    if (cached) {
      // Re-insert so Map order doubles as recency order.
      this.byKey.delete(key);
      this.byKey.set(key, cached);
    }
    return cached;
  }

  /** Remembers `signature`, the gate signature of the text stored (or about to be stored) under `key`. */
  remember(key: string, signature: GateSignature): void {
    this.byKey.delete(key);
    this.byKey.set(key, signature);
    if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** The signature of `text`, stored under `key`: computed once while it stays among the `capacity` most recent. */
  of(key: string, text: string): GateSignature {
    const cached = this.get(key);
    if (cached) return cached;
    const signature = gateSignature(text);
    this.remember(key, signature);
    return signature;
  }

  clear(): void {
    this.byKey.clear();
  }
}
