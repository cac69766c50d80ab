/**
 * A value remembered for an object, held by the object itself: a property keyed by a private
 * symbol, not enumerable, so JSON, `Object.keys`, spreads, `Object.assign` and structured clones
 * never see or copy it. It lives exactly as long as its object.
 *
 * Why not a WeakMap: the proxy remembers digests, key texts and answer JSON per request object,
 * and V8 kept WeakMap values alive through young-generation collections, so every miss promoted
 * them to the old generation as garbage for the next full collection. `isartor serve` at c=32
 * promoted 4.1–4.2 KB per miss with those WeakMaps and 2.4 KB with no memo at all
 * (docs/measurements/miss-path.md, issue 15).
 *
 * Sound only for objects nothing edits in place once a value is remembered (parsed request bodies,
 * answers): a copy is a new object and starts with nothing remembered.
 */
export class ObjectMemo<K extends object, V> {
  private readonly slot: symbol;

  constructor(description: string) {
    this.slot = Symbol(description);
  }

  /** The value remembered for `key` itself (never one inherited from a prototype). */
  get(key: K): V | undefined {
    return Object.prototype.hasOwnProperty.call(key, this.slot) ? (key as Record<symbol, V>)[this.slot] : undefined;
  }

  /** Remembers `value` for `key`; a frozen or sealed object remembers nothing (callers compute again). */
  set(key: K, value: V): void {
    if (Object.prototype.hasOwnProperty.call(key, this.slot)) (key as Record<symbol, V>)[this.slot] = value;
    else if (Object.isExtensible(key)) Object.defineProperty(key, this.slot, { value, writable: true, configurable: true, enumerable: false });
  }
}
