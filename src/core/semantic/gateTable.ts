/**
 * Which (partition, gate key) pairs the L1b index holds, as saturating counters in shared memory.
 * The worker counts its index's entries in; the main thread reads the counters to tell, before
 * asking the worker, that no entry could be a lookup's hit: the lookup's round trip between the
 * threads was most of the time a miss added (issue 15). Counters are indexed by a hash, so two
 * pairs may share one: a false "maybe" costs one round trip, never a hit.
 */
import { gateKeyOfEntryKey } from './entries';

/** One byte per counter: 2 MiB, ~5% of them in use at 100k distinct pairs. */
const SLOTS = 1 << 21;
/** A counter that reached this stays there (it may then never say "none" again, which is safe). */
const SATURATED = 0xff;
/** Stands for the gate key of entries whose store key has none (written before gate keys). */
const ANY_GATE_KEY = '*';
/** Counts every entry of a partition, whatever its gate key: for a partition with none, no gate key is needed. */
const WHOLE_PARTITION = '\u0000';

/** FNV-1a over `partition` and `gateKey`, folded to a slot. */
function slotOf(partition: string, gateKey: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < partition.length; i++) hash = Math.imul(hash ^ partition.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ 0x3a, 0x01000193);
  for (let i = 0; i < gateKey.length; i++) hash = Math.imul(hash ^ gateKey.charCodeAt(i), 0x01000193);
  return (hash >>> 0) & (SLOTS - 1);
}

/** The worker's side: counts entries in and out as the index adds and removes them. */
export class GateCounts {
  readonly buffer = new SharedArrayBuffer(SLOTS);
  private readonly counts = new Uint8Array(this.buffer);

  added(partition: string, key: string): void {
    this.up(slotOf(partition, WHOLE_PARTITION));
    this.up(slotOf(partition, gateKeyOfEntryKey(key) ?? ANY_GATE_KEY));
  }

  removed(partition: string, key: string): void {
    this.down(slotOf(partition, gateKeyOfEntryKey(key) ?? ANY_GATE_KEY));
    this.down(slotOf(partition, WHOLE_PARTITION));
  }

  private up(slot: number): void {
    if (Atomics.load(this.counts, slot) < SATURATED) Atomics.add(this.counts, slot, 1);
  }

  private down(slot: number): void {
    const count = Atomics.load(this.counts, slot);
    if (count > 0 && count < SATURATED) Atomics.sub(this.counts, slot, 1);
  }

  cleared(): void {
    this.counts.fill(0);
  }
}

/** The main thread's side: reads the counters the worker keeps. */
export class GateView {
  private readonly counts: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.counts = new Uint8Array(buffer);
  }

  /** False when the index holds no entry of `partition` at all (a new conversation, usually). */
  partitionMayHold(partition: string): boolean {
    return Atomics.load(this.counts, slotOf(partition, WHOLE_PARTITION)) > 0;
  }

  /** False when the index holds no entry of `partition` with `gateKey` (nor one whose gate key is unknown). */
  mayHold(partition: string, gateKey: string): boolean {
    return Atomics.load(this.counts, slotOf(partition, gateKey)) > 0 || Atomics.load(this.counts, slotOf(partition, ANY_GATE_KEY)) > 0;
  }
}
