/**
 * The entries an L1b index holds, least recently added or used first: on a team's Redis the store
 * holds every replica's entries and bounds nothing, so each replica keeps its own index within
 * `semantic.maxEntries` by evicting from the front of this order (see SemanticCache's `maxIndexed`).
 */
import type { EntryCounter } from './index';

/**
 * Key order by last add or use, told of adds and removes as an `EntryCounter` (by the index and
 * the pending entries, which may both hold a key for a while: a key leaves once neither does).
 *
 * @example
 * const recent = new RecentEntries();
 * const index = new VectorIndex({ dimensions, counter: recent });
 * while (recent.size > maxEntries) index.remove(recent.shift()!);
 */
export class RecentEntries implements EntryCounter {
  /** Key → how many of the index and the pending entries hold it; in order of last add or use. */
  private readonly order = new Map<string, number>();
  /**
   * Where `shift` goes on from: every key before it was shifted out or moved behind it. A fresh
   * iterator at each shift would walk again over every key deleted since the map last rehashed
   * (~25 µs a shift at 100k keys, measured); this one passes each of them once.
   */
  private cursor: IterableIterator<string> | undefined;

  get size(): number {
    return this.order.size;
  }

  added(_partition: string, key: string): void {
    const held = this.order.get(key) ?? 0;
    this.order.delete(key);
    this.order.set(key, held + 1);
  }

  removed(_partition: string, key: string): void {
    const held = this.order.get(key);
    if (held === undefined) return;
    if (held > 1) this.order.set(key, held - 1);
    else this.order.delete(key);
  }

  cleared(): void {
    this.order.clear();
    this.cursor = undefined;
  }

  /** A use of `key` (a hit): it moves to the back, last to go. */
  touch(key: string): void {
    const held = this.order.get(key);
    if (held === undefined) return;
    this.order.delete(key);
    this.order.set(key, held);
  }

  /** Whether `key` is held. */
  has(key: string): boolean {
    return this.order.has(key);
  }

  /** Takes the least recently added or used key out of the order (the caller drops its entry). */
  shift(): string | undefined {
    let next = this.cursor?.next();
    if (!next || next.done) {
      this.cursor = this.order.keys();
      next = this.cursor.next();
    }
    if (next.done) return undefined;
    this.order.delete(next.value);
    return next.value;
  }
}

/** `counter` and `recent` both told of every add and remove; either may be absent. */
export function countersOf(counter: EntryCounter | undefined, recent: RecentEntries | undefined): EntryCounter | undefined {
  if (!counter || !recent) return counter ?? recent;
  return {
    added(partition, key) {
      counter.added(partition, key);
      recent.added(partition, key);
    },
    removed(partition, key) {
      counter.removed(partition, key);
      recent.removed(partition, key);
    },
    cleared() {
      counter.cleared();
      recent.cleared();
    },
  };
}
