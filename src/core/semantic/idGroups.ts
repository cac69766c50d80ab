/**
 * Entry ids of one index partition by group (their gate key, see gateKeys.ts). Most groups hold one
 * entry (a turn with its own numbers or identifiers), so a group of one is kept as its id alone,
 * without a `Set`: at 100k such entries that is ~100k objects fewer.
 */
export class IdGroups {
  private readonly members = new Map<string, number | Set<number>>();

  /** Number of groups. */
  get count(): number {
    return this.members.size;
  }

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
    held.add(id);
    return held.size;
  }

  /** Removes `id` from `group`; returns how many are left in it. */
  remove(group: string, id: number): number {
    const held = this.members.get(group);
    if (held === undefined) return 0;
    if (typeof held === 'number') {
      if (held !== id) return 1;
      this.members.delete(group);
      return 0;
    }
    held.delete(id);
    if (held.size === 1) this.members.set(group, held.values().next().value!);
    else if (held.size === 0) this.members.delete(group);
    return held.size;
  }

  size(group: string): number {
    const held = this.members.get(group);
    return held === undefined ? 0 : typeof held === 'number' ? 1 : held.size;
  }

  /** The group's ids in the order they joined it. */
  *ids(group: string): IterableIterator<number> {
    const held = this.members.get(group);
    if (held === undefined) return;
    if (typeof held === 'number') yield held;
    else yield* held;
  }

  /** Every group's name and size. */
  *sizes(): IterableIterator<[string, number]> {
    for (const [group, held] of this.members) yield [group, typeof held === 'number' ? 1 : held.size];
  }
}
