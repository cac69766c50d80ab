/** A bounded memo of stored entries' gate signatures, so a lookup computes only the query's. */
import { gateSignature, type GateSignature } from './gates';

const DEFAULT_CAPACITY = 4096;

/**
 * Least-recently-used memo of `gateSignature` keyed by the exact text. The signature is a pure
 * function of the text, so a cached one can never be stale; the bound keeps memory flat when the
 * store holds far more entries than lookups ever reach.
 *
 * @example const signatures = new SignatureCache(); checkGates(query, signatures.of(entry.text));
 */
export class SignatureCache {
  private readonly byText = new Map<string, GateSignature>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get size(): number {
    return this.byText.size;
  }

  /** The signature of `text`, computed once while it stays among the `capacity` most recent. */
  of(text: string): GateSignature {
    const cached = this.byText.get(text);
    if (cached) {
      // Re-insert so Map order doubles as recency order.
      this.byText.delete(text);
      this.byText.set(text, cached);
      return cached;
    }
    const signature = gateSignature(text);
    this.byText.set(text, signature);
    if (this.byText.size > this.capacity) this.byText.delete(this.byText.keys().next().value!);
    return signature;
  }

  clear(): void {
    this.byText.clear();
  }
}
