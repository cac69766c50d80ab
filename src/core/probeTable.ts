/**
 * Deletion from an open-addressing table with linear probing, shared by the typed key tables
 * (store/keyIndex.ts, semantic/annKeyTable.ts): the entries after a freed place move back into it
 * unless their own place lies after it, so lookups need no tombstones and runs stay short.
 */

/** An empty place: the tables store id + 1. */
export const EMPTY_PLACE = 0;

/**
 * Empties `table[hole]` and repairs the probe run after it. `homeOf(entry)` is the place an
 * entry's key picks (its hash masked); `mask` is the table's length - 1.
 */
export function closeProbeGap(table: Int32Array, mask: number, hole: number, homeOf: (entry: number) => number): void {
  for (let at = (hole + 1) & mask; table[at] !== EMPTY_PLACE; at = (at + 1) & mask) {
    const home = homeOf(table[at]!);
    const homeAfterHole = hole <= at ? hole < home && home <= at : hole < home || home <= at;
    if (!homeAfterHole) {
      table[hole] = table[at]!;
      hole = at;
    }
  }
  table[hole] = EMPTY_PLACE;
}
