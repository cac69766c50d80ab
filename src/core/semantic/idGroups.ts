/**
 * Entry ids of one large index partition by group (their gate key, see gateKeys.ts). A group is
 * either scanned (its ids kept here, for an exact scan) or graphed (its entries are in the
 * partition's graph, which finds them: only their number is kept). Most groups hold one entry (a
 * turn with its own numbers or identifiers), kept as its id alone, without a `Set`.
 */

/** The number of entries of a graphed group (boxed, to tell it from a scanned group's single id). */
interface GraphedCount {
  graphed: number;
}

type Members = number | Set<number> | GraphedCount;

export class IdGroups {
  private readonly members = new Map<string, Members>();

  /** Adds `id` to `group`; returns the group's new size. */
  add(group: string, id: number): number {
    const held = this.members.get(group);
    if (held === undefined) {
      this.members.set(group, id);
      return 1;
    }
    if (typeof held === 'number') {
      if (held === id) return 1;
      this.members.set(group, new Set([held, id]));
      return 2;
    }
    if (held instanceof Set) {
      held.add(id);
      return held.size;
    }
    return ++held.graphed;
  }

  /** Removes `id` from `group` (which must hold it, if graphed); returns how many are left in it. */
  remove(group: string, id: number): number {
    const held = this.members.get(group);
    if (held === undefined) return 0;
    let left: number;
    if (typeof held === 'number') left = held === id ? 0 : 1;
    else if (held instanceof Set) {
      held.delete(id);
      left = held.size;
      if (left === 1) this.members.set(group, held.values().next().value!);
    } else left = --held.graphed;
    if (left === 0) this.members.delete(group);
    return left;
  }

  size(group: string): number {
    const held = this.members.get(group);
    if (held === undefined) return 0;
    if (typeof held === 'number') return 1;
    return held instanceof Set ? held.size : held.graphed;
  }

  /** Whether the group's entries are in the graph. */
  isGraphed(group: string): boolean {
    const held = this.members.get(group);
    return held !== undefined && typeof held === 'object' && !(held instanceof Set);
  }

  /** Marks a scanned group graphed; returns its ids (in the order they joined it) to add to the graph. */
  graph(group: string): number[] {
    const ids = [...this.ids(group)];
    if (ids.length > 0) this.members.set(group, { graphed: ids.length });
    return ids;
  }

  /** A scanned group's ids in the order they joined it (none for a graphed group). */
  *ids(group: string): IterableIterator<number> {
    const held = this.members.get(group);
    if (typeof held === 'number') yield held;
    else if (held instanceof Set) yield* held;
  }

  /** Every group's name, size and whether it is graphed. */
  *groups(): IterableIterator<[group: string, size: number, graphed: boolean]> {
    for (const [group, held] of this.members) {
      if (typeof held === 'number') yield [group, 1, false];
      else if (held instanceof Set) yield [group, held.size, false];
      else yield [group, held.graphed, true];
    }
  }
}
