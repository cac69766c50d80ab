/**
 * L1b entries stored without their vector, because no lookup could have been compared with them
 * yet: under gates that compare every exact part (code, numbers, identifiers, symbols), only a
 * turn with the same gate key in the same partition can hit an entry, and most misses are the
 * first of their gate key. Embedding and indexing each of them anyway was ~45 µs of the worker's
 * CPU per miss (issue 15). A pending entry is embedded when the first lookup of its group comes.
 *
 * Pending entries are counted in the gate counts like indexed ones, so that the main thread asks
 * the worker whenever one could be a hit.
 */
import { entryGroup, entryGroupOfKey, partitionOfKey } from './entries';
import type { EntryCounter } from './index';
import type { ByteKeyedSink, KeyBytes } from './journal';

/**
 * The keys by group (the start of their key: partition and gate key). A group of one, the usual
 * case, is its key alone, not a Set with its own hash table.
 */
type Members = string | Set<string>;

export class PendingEntries {
  private readonly byGroup = new Map<string, Members>();
  private count = 0;
  /**
   * While false, adds and removes leave the gate counts alone: a journal's replay, before the
   * counts are shared, then counts every key with `countIn` (half the cost of a replayed key).
   */
  counting = true;

  constructor(private readonly counter: EntryCounter | undefined) {}

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    const group = entryGroupOfKey(key);
    const members = group === undefined ? undefined : this.byGroup.get(group);
    return members === key || (typeof members === 'object' && members.has(key));
  }

  /** Adds `key` (an entry key with a gate key); false when it has none or is here already. */
  add(key: string): boolean {
    const group = entryGroupOfKey(key);
    if (group === undefined) return false;
    const members = this.byGroup.get(group);
    if (members === undefined) this.byGroup.set(group, key);
    else if (typeof members === 'string') {
      if (members === key) return false;
      this.byGroup.set(group, new Set([members, key]));
    } else {
      if (members.has(key)) return false;
      members.add(key);
    }
    this.count++;
    if (this.counting) this.countIn(key);
    return true;
  }

  /** Counts `key`, a key here, in the gate counts (after adds made while not `counting`). */
  countIn(key: string): void {
    this.counter?.added(partitionOfKey(key)!, key);
  }

  /**
   * Keeps `key`, a string equal to a key here, instead of its own copy, as `VectorIndex.shareKey`
   * does: keys replayed from the journal duplicate the store's strings (100k keys of ~90 characters).
   * Returns whether the key is here.
   */
  share(key: string): boolean {
    const group = entryGroupOfKey(key);
    const members = group === undefined ? undefined : this.byGroup.get(group);
    if (members === undefined || (typeof members === 'string' ? members !== key : !members.delete(key))) return false;
    if (typeof members === 'object') members.add(key);
    // Deleted first: a set keeps the key string it has, and the group's is a slice of the old copy.
    this.byGroup.delete(group!);
    this.byGroup.set(group!, typeof members === 'string' ? key : members);
    return true;
  }

  /** Removes `key`; false when it was not here. */
  remove(key: string): boolean {
    const group = entryGroupOfKey(key);
    const members = group === undefined ? undefined : this.byGroup.get(group);
    if (members === key) this.byGroup.delete(group!);
    else if (typeof members !== 'object' || !members.delete(key)) return false;
    else if (members.size === 0) this.byGroup.delete(group!);
    this.count--;
    if (this.counting) this.counter?.removed(partitionOfKey(key)!, key);
    return true;
  }

  /** Whether any key of `partition` with `gateKey` is here. */
  holds(partition: string, gateKey: string): boolean {
    return this.byGroup.has(entryGroup(partition, gateKey));
  }

  /** Up to `limit` keys of `partition` with `gateKey`, oldest first, left in place. */
  peek(partition: string, gateKey: string, limit: number): string[] {
    const members = this.byGroup.get(entryGroup(partition, gateKey));
    if (members === undefined || limit < 1) return [];
    if (typeof members === 'string') return [members];
    const found: string[] = [];
    for (const key of members) {
      if (found.length === limit) break;
      found.push(key);
    }
    return found;
  }

  /** Removes and returns up to `limit` keys of `partition` with `gateKey`, oldest first. */
  take(partition: string, gateKey: string, limit: number): string[] {
    const taken = this.peek(partition, gateKey, limit);
    for (const key of taken) this.remove(key);
    return taken;
  }

  *keys(): IterableIterator<string> {
    for (const members of this.byGroup.values()) {
      if (typeof members === 'string') yield members;
      else yield* members;
    }
  }

  /** Forgets every key (the gate counts are cleared with the index). */
  clear(): void {
    this.byGroup.clear();
    this.count = 0;
  }
}

const keyText = (key: KeyBytes): string => key.bytes.toString('utf8', key.start, key.end);

/**
 * `sink` (the index's replay) with the journal's pending records going to `pending`. A remove
 * drops a pending key too; a pending key the journal later added is dropped when the cache
 * reconciles (decoding every add's key here would slow the replay in front of the first answer).
 */
export function replayWithPending(sink: ByteKeyedSink, pending: PendingEntries): ByteKeyedSink {
  return {
    byteKeys: true,
    add: (key, partition, label, vector) => sink.add(key, partition, label, vector),
    addSparse: (key, partition, label, positions, values, count) => sink.addSparse(key, partition, label, positions, values, count),
    remove: (key) => {
      sink.remove(key);
      if (pending.size > 0) pending.remove(keyText(key));
    },
    pending: (key) => void pending.add(keyText(key)),
  };
}
