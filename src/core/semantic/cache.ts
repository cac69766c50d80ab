/**
 * The L1b semantic cache without the HTTP concerns: entries in a key-value store, their vectors in
 * an in-memory index persisted beside the store (or, until a lookup could find them, no vector at
 * all: pending.ts), and the safety gates between a near neighbour and a hit. The layer and `isartor bench pairs` both drive this class.
 */
import { dot, isFiniteVector, type Embedder } from '../embed/embedder';
import type { Logger } from '../logger';
import type { StoredAnswer } from '../outcome';
import type { KeyValueStore } from '../store/store';
import { ENTRY_KEY_PREFIX, encodeEntry, entryGroup, entryKey, gateKeyOfEntryKey, partitionOfKey, readEntry, type SemanticEntry } from './entries';
import { gateKeyOf, gatesCoverExactParts } from './gateKeys';
import { checkGates, gateSignature, type GateReason, type GateSignature } from './gates';
import { GateCounts } from './gateTable';
import { VectorIndex, type Neighbour } from './index';
import { VectorJournal } from './journal';
import { SignatureCache } from './signatures';
import { PendingEntries, replayWithPending } from './pending';
import { countersOf, RecentEntries } from './recentEntries';
import { loadGraphs, removeGraphs, saveGraphs } from './snapshot';

export interface SemanticCacheOptions {
  store: KeyValueStore;
  embedder: Embedder;
  /** Cosine similarity a neighbour needs before the gates look at it. */
  threshold: number;
  logger: Logger;
  /** Folder for the index snapshot; without one the index is rebuilt from the store on open. */
  indexDir?: string;
  /** Neighbours above the threshold tried in turn when the gates reject the nearest. */
  candidates?: number;
  annMinEntries?: number;
  /** Delay before index changes are appended to the journal (appends are batched). */
  saveDelayMs?: number;
  /** While this returns true the journal's replay lets other work in (see `VectorJournal.openInto`). */
  replayYieldWhile?: () => boolean;
  /**
   * False: an insert without a vector embeds and indexes the entry at once, even when no lookup
   * could be compared with it yet (see pending.ts); for benchmarks of the index itself.
   */
  deferEmbedding?: boolean;
  /**
   * Most entries the index (with the pending entries) holds, for a store that does not bound it:
   * on a team's Redis every replica's entries reach each index. Beyond it the least recently added
   * or used leave the index (not the store), one per add, a step per turn after a larger excess.
   * Undefined: the index follows the store, which bounds itself (the embedded store's LRU).
   */
  maxIndexed?: number;
}

/** Index upkeep yields to other work (lookups) after this many steps, so no pass runs long. */
const STEPS_PER_TURN = 256;
/** Most entries the store may have evicted before the index is reconciled with it (10% below 10k entries). */
const RECONCILE_SLACK = 1024;
/** How long after a reconcile whose walk of the store was cut short the next may start. */
const RETRY_CUT_SHORT_WALK_MS = 30_000;
/**
 * Most pending entries (pending.ts) one lookup embeds before it searches: each is a store read and
 * an embedding (~50-100 µs lexical). A group gathers more than one only from misses that arrive
 * together before the first is stored (later ones are looked up, so embedded, and stored with
 * their vector). The rest wait for the group's next lookup; until then they are not found (a
 * miss, never a wrong hit).
 */
const PENDING_PER_LOOKUP = 16;
/** An entry's vector when it is stored before it is embedded (pending.ts). */
const NO_VECTOR = new Float32Array(0);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The `k` most similar of `neighbours`, each key once, best first (a stable sort keeps the index's order on ties). */
function nearestOf(neighbours: Neighbour[], k: number): Neighbour[] {
  const best: Neighbour[] = [];
  const seen = new Set<string>();
  for (const neighbour of neighbours.sort((a, b) => b.similarity - a.similarity)) {
    if (seen.has(neighbour.key)) continue;
    seen.add(neighbour.key);
    best.push(neighbour);
    if (best.length === k) break;
  }
  return best;
}

export type LookupResult =
  | { hit: true; key: string; entry: SemanticEntry; similarity: number }
  | { hit: false; rejected?: GateReason; similarity?: number };

/** How the index was restored on open, for logs and tests. */
export type IndexOrigin = 'snapshot' | 'rebuilt';

export class SemanticCache {
  readonly index: VectorIndex;
  origin: IndexOrigin = 'rebuilt';
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  /** The index on disk; undefined without an `indexDir`. */
  private journal: VectorJournal | undefined;
  private reconciling: Promise<void> | undefined;
  /** When a reconcile's walk was last cut short (a stalled store): the next waits a while. */
  private walkCutShortAt = -Infinity;
  /** Stored entries' gate signatures: the same neighbours come up again and again. */
  private readonly signatures = new SignatureCache();
  /** Settles once the open is complete (see `openForLookups`); rejects if its background part failed. */
  indexed: Promise<void> = Promise.resolve();
  /** True until `indexed` settles. */
  private opening = true;
  /** Keys the store reported removed that are still to leave the index, in the order reported. */
  private readonly removedFromStore = new Set<string>();
  private droppingRemoved = false;

  /**
   * The index's entries counted by (partition, gate key), in memory another thread can read; only
   * for an embedder whose gates compare every part a gate key covers.
   */
  private readonly gateCounts: GateCounts | undefined;
  /** True once the open is complete and did not fail: every entry the index holds is in the key maps. */
  private openedWhole = false;
  /** Entries in the store not yet embedded, with gate counts only (pending.ts). */
  private readonly pending: PendingEntries;
  /** Pending entries of a group being embedded for a lookup, by group (`entryGroup`). */
  private readonly indexing = new Map<string, Promise<void>>();
  /** With `maxIndexed`: the entries held, least recently added or used first. */
  private readonly recent: RecentEntries | undefined;
  /** An eviction of a larger excess under way, a step per turn (see `keepWithinBound`). */
  private evicting: Promise<void> | undefined;

  private constructor(private readonly options: SemanticCacheOptions) {
    this.gateCounts = gatesCoverExactParts(options.embedder.gates) ? new GateCounts() : undefined;
    this.recent = options.maxIndexed === undefined ? undefined : new RecentEntries();
    const counter = countersOf(this.gateCounts, this.recent);
    this.pending = new PendingEntries(counter);
    // Under gates that compare every exact part, only an entry with the query's gate key can be its
    // hit: the index then searches that group alone, and graphs only the large groups.
    this.index = new VectorIndex({
      dimensions: options.embedder.dimensions,
      annMinEntries: options.annMinEntries,
      counter,
      ...(this.gateCounts ? { groupOf: gateKeyOfEntryKey } : {}),
    });
  }

  /**
   * The store evicted, expired or deleted `key`: it leaves the index a few at a time after the
   * open. A full cache evicts on nearly every insert, and noticing that only by walking all the
   * store's keys (`reconcile`) every ~1,000 evictions was the miss tail at 100k entries (issue 15).
   */
  private storeRemoved(key: string): void {
    if (!key.startsWith(ENTRY_KEY_PREFIX)) return;
    this.removedFromStore.add(key);
    if (this.droppingRemoved) return;
    this.droppingRemoved = true;
    void this.dropRemoved()
      .catch((error: unknown) => this.options.logger.warn(`l1b: could not drop evicted entries from the index: ${String(error)}`))
      .finally(() => {
        this.droppingRemoved = false;
      });
  }

  private async dropRemoved(): Promise<void> {
    // While opening, a removal would make the saved graphs not fit; reconcile runs after them.
    await this.whenIndexed();
    while (this.removedFromStore.size > 0) {
      await nextTurn();
      let steps = 0;
      let removed = false;
      for (const key of this.removedFromStore) {
        this.removedFromStore.delete(key);
        if (this.removeEntry(key)) removed = true;
        if (++steps === STEPS_PER_TURN) break;
      }
      if (removed) this.scheduleSave();
    }
  }

  /**
   * Opens the cache: loads the index snapshot if it is intact, then reconciles it with the store
   * (entries the store evicted are dropped, entries the snapshot missed are read and added).
   *
   * @example const cache = await SemanticCache.open({ store, embedder, threshold: 0.9, logger, indexDir });
   */
  static async open(options: SemanticCacheOptions): Promise<SemanticCache> {
    const cache = await SemanticCache.openJournal(options);
    await cache.indexed;
    return cache;
  }

  /**
   * Opens the cache as far as lookups need: the journal's vectors in the index. The rest of `open`
   * (saved graphs, reconcile) goes on behind it and `indexed` says when it is done; meanwhile a
   * lookup scans its partition exactly (a few ms at 100k sparse rows, and never worse than the
   * graph), and inserts and clears wait for it. At 100k entries this answers ~1.5 s sooner
   * (issue 15). Without a usable journal the index is built from the store first, as by `open`.
   */
  static async openForLookups(options: SemanticCacheOptions): Promise<SemanticCache> {
    const cache = await SemanticCache.openJournal(options);
    if (cache.origin === 'rebuilt') await cache.indexed;
    else cache.indexed.catch((error: unknown) => options.logger.warn(`l1b: could not finish opening the semantic index (the cache goes on with the journal's entries): ${String(error)}`));
    return cache;
  }

  /** Replays the journal into the index and starts the rest of the open (`indexed`). */
  private static async openJournal(options: SemanticCacheOptions): Promise<SemanticCache> {
    const cache = new SemanticCache(options);
    const { indexDir, embedder } = options;
    if (indexDir) {
      // Records are staged in the index as they are read (a later add of a key replaces it, a
      // remove drops it): searchable at once, in the key maps once `finishOpen` has moved them.
      const { index } = cache;
      index.startBulk();
      // Counted once the replay is over (finishOpen): the counts are shared only after the open.
      cache.pending.counting = false;
      const { journal, replayed } = await VectorJournal.openInto(indexDir, embedder.id, index.dimensions, replayWithPending(index.stage(), cache.pending), options.replayYieldWhile);
      cache.journal = journal;
      if (replayed) cache.origin = 'snapshot';
      else index.finishBulk();
    }
    cache.indexed = cache
      .finishOpen()
      .then(() => {
        cache.openedWhole = true;
      })
      .finally(() => {
        cache.opening = false;
      });
    // From here on `indexed` is the real one, which removals wait for; reconcile (inside
    // `finishOpen`, later) covers what the store removed before.
    options.store.onRemoved?.((key) => cache.storeRemoved(key));
    return cache;
  }

  /** The part of opening that lookups need not wait for. */
  private async finishOpen(): Promise<void> {
    const { indexDir, embedder, logger } = this.options;
    // The replayed entries into the index's key maps, a slice per turn: lookups go on meanwhile.
    while (this.index.settleStaged(STEPS_PER_TURN * 16)) await nextTurn();
    await this.countReplayedPending();
    if (indexDir && this.origin === 'snapshot') this.index.finishBulk(await loadGraphs(indexDir, embedder.id, this.index.dimensions));
    const { added, removed } = await this.reconcile();
    // A journal from a run with a larger bound: the excess leaves before the cache serves.
    await this.evictBeyondBound();
    // Before the cache serves: one synchronous pass over the keys (~100k Map sets).
    if (this.origin === 'snapshot') this.index.adoptSharedKeys();
    if (this.origin === 'rebuilt') {
      if (this.size > 0) logger.info(`l1b: rebuilt the semantic index from the store (${added} entries)`);
      await this.journal?.rewrite(this.index.entries(), this.pending.keys());
    } else if (added > 0 || removed > 0) this.scheduleSave();
  }

  /**
   * Counts the journal's pending entries in the gate counts, a slice per turn. Nothing else changes
   * the pending entries meanwhile: inserts and removals wait for the open, lookups only read them.
   */
  private async countReplayedPending(): Promise<void> {
    if (this.pending.counting) return;
    let counted = 0;
    for (const key of this.pending.keys()) {
      this.pending.countIn(key);
      if (++counted % (STEPS_PER_TURN * 16) === 0) await nextTurn();
    }
    this.pending.counting = true;
  }

  /** The gate counts' memory, once they count every entry a lookup may find (after a complete open). */
  get gateCountsBuffer(): SharedArrayBuffer | undefined {
    return this.openedWhole ? this.gateCounts?.buffer : undefined;
  }

  /** Waits for the end of `openForLookups`'s background work, if it is still going on. */
  private async whenIndexed(): Promise<void> {
    if (this.opening) await this.indexed.catch(() => undefined);
  }

  get embedderId(): string {
    return this.options.embedder.id;
  }

  /** Entries the cache holds: in the index, and stored but not yet embedded (pending.ts). */
  get size(): number {
    return this.index.size + this.pending.size;
  }

  /** Entries stored but not yet embedded (pending.ts). */
  get pendingSize(): number {
    return this.pending.size;
  }

  /** Whether inserts without a vector wait for their group's first lookup to be embedded. */
  private get defersEmbedding(): boolean {
    return this.gateCounts !== undefined && this.options.deferEmbedding !== false;
  }

  /**
   * Makes the index agree with the store's live keys. Walks the keys in steps of
   * 4 × STEPS_PER_TURN (~2-5 ms each at 100k entries: 16 × was 12-30 ms, and a lookup arriving
   * then waited for it) and removes in steps of STEPS_PER_TURN, with a turn between them: at 100k
   * entries one pass removing ~10k evicted entries was 18% of the miss path's CPU in one block (issue 15).
   */
  async reconcile(): Promise<{ added: number; removed: number }> {
    const live = new Set<string>();
    const missing: Array<{ key: string; partition: string; vector: Float32Array }> = [];
    let pended = 0;
    try {
      pended = await this.walkStore(live, missing);
    } catch (error) {
      // A walk cut short (a Redis stall) saw only some keys: removing every other one would empty
      // the index for good. Keep the index, add what was found, and let a later pass remove.
      this.walkCutShortAt = Date.now();
      if (missing.length > 0) this.bulkAdd(missing);
      this.options.logger.warn(`l1b: index not reconciled, nothing removed: ${error instanceof Error ? error.message : String(error)}`);
      if (missing.length > 0) this.dirty = true;
      return { added: missing.length, removed: 0 };
    }
    if (missing.length > 0) this.bulkAdd(missing);
    const added = missing.length + pended;
    const stale: string[] = [];
    for (const key of this.pending.keys()) if (!live.has(key)) stale.push(key);
    for (const key of this.index.keys()) if (!live.has(key)) stale.push(key);
    for (let i = 0; i < stale.length; i++) {
      if (i > 0 && i % STEPS_PER_TURN === 0) await nextTurn();
      this.removeEntry(stale[i]!);
    }
    if (added > 0 || stale.length > 0) this.dirty = true;
    return { added, removed: stale.length };
  }

  /**
   * reconcile's walk: fills `live` with the store's entry keys and `missing` with those the index
   * lacks; returns how many it made pending. Throws when the store's walk is cut short.
   */
  private async walkStore(live: Set<string>, missing: Array<{ key: string; partition: string; vector: Float32Array }>): Promise<number> {
    let pended = 0;
    let steps = 0;
    for await (const key of this.options.store.keys()) {
      if (++steps % (STEPS_PER_TURN * 4) === 0) await nextTurn();
      if (!key.startsWith(ENTRY_KEY_PREFIX)) continue;
      live.add(key);
      if (this.index.shareKey(key)) {
        // Pending in the journal, then embedded by a lookup (the journal's add came later).
        if (this.pending.size > 0) this.pending.remove(key);
        continue;
      }
      if (this.pending.share(key)) continue;
      // The index is full: the store keeps the entry, and its next announce or use brings it in.
      if (!this.hasRoomFor(missing.length + 1)) continue;
      const entry = await readEntry(this.options.store, key);
      if (!entry || partitionOfKey(key) !== entry.partition) continue;
      // Stored without a vector, and not in the journal (lost, or another process's): it waits
      // for its group's first lookup, like any pending entry.
      if (entry.vector.length === 0 && this.defersEmbedding && this.pending.add(key)) {
        this.journal?.recordPending(key);
        pended++;
        continue;
      }
      const vector = await this.vectorOf(entry);
      if (vector) missing.push({ key, partition: entry.partition, vector });
    }
    return pended;
  }

  /**
   * Adds entries already in the store to the index in one batch (graphs built once, not per
   * insert), recording them in the journal; for filling a cache in bulk (`bench scale`).
   */
  bulkAdd(entries: Iterable<{ partition: string; key: string; vector: Float32Array }>): void {
    this.index.bulkLoad((index) => {
      for (const entry of entries) {
        const label = index.add(entry.partition, entry.key, entry.vector);
        if (label !== undefined) this.journal?.recordAdd({ ...entry, label });
      }
    });
    this.scheduleSave();
    this.keepWithinBound();
  }

  /** A stored entry's vector: its own, or its text embedded when it has none or another embedder's. */
  private async vectorOf(entry: SemanticEntry): Promise<Float32Array | undefined> {
    const { embedder } = this.options;
    const vector = entry.embedder === embedder.id && entry.vector.length > 0 ? entry.vector : await embedder.embed(entry.text);
    return vector.length === this.index.dimensions && isFiniteVector(vector) ? vector : undefined;
  }

  /**
   * Embeds and indexes the pending entries a lookup in `partition` with `gateKey` could find, up to
   * PENDING_PER_LOOKUP of them. Not while the index is opening (it takes no single adds then).
   */
  private async indexPending(partition: string, gateKey: string): Promise<void> {
    if (this.pending.size === 0 && this.indexing.size === 0) return;
    const group = entryGroup(partition, gateKey);
    // A lookup of the same group under way has taken its keys: wait for them to be in the index.
    for (let running = this.indexing.get(group); running; running = this.indexing.get(group)) await running;
    if (this.opening || !this.pending.holds(partition, gateKey)) return;
    const work = this.indexPendingNow(partition, gateKey).finally(() => this.indexing.delete(group));
    this.indexing.set(group, work);
    await work;
  }

  private async indexPendingNow(partition: string, gateKey: string): Promise<void> {
    let added = false;
    for (const key of this.pending.take(partition, gateKey, PENDING_PER_LOOKUP)) {
      const entry = await readEntry(this.options.store, key);
      if (!entry || entry.partition !== partition) continue;
      const vector = await this.vectorOf(entry);
      if (!vector || this.index.has(key)) continue;
      const label = this.index.add(partition, key, vector);
      if (label !== undefined) this.journal?.recordAdd({ key, partition, vector, label });
      added = true;
    }
    if (added) this.scheduleSave();
  }

  /**
   * Takes in an entry another process stored under `key` (a replica on the same Redis): indexed
   * with its vector, or pending when it was stored without one.
   */
  async adoptStored(key: string): Promise<void> {
    if (!key.startsWith(ENTRY_KEY_PREFIX)) return;
    if (this.index.has(key) || this.pending.has(key)) {
      // Stored again by a replica (its miss): as recent as a new entry.
      this.recent?.touch(key);
      return;
    }
    const entry = await readEntry(this.options.store, key);
    if (!entry || partitionOfKey(key) !== entry.partition) return;
    if (entry.vector.length === 0 && this.defersEmbedding && this.pending.add(key)) {
      this.keepWithinBound();
      return;
    }
    const vector = await this.vectorOf(entry);
    if (vector && !this.index.has(key)) this.index.add(entry.partition, key, vector);
    this.keepWithinBound();
  }

  /**
   * While the index opens (it takes no single adds then): the pending entries of the group as
   * neighbours, each read and embedded, scored as the index's exact scan scores.
   */
  private async pendingNeighbours(partition: string, gateKey: string, query: Float32Array): Promise<Neighbour[]> {
    const found: Neighbour[] = [];
    for (const key of this.pending.peek(partition, gateKey, PENDING_PER_LOOKUP)) {
      const entry = await readEntry(this.options.store, key);
      const vector = entry && entry.partition === partition ? await this.vectorOf(entry) : undefined;
      if (vector) found.push({ key, similarity: dot(query, vector) });
    }
    return found;
  }

  /** Drops `key` from the index or from the pending entries, and records that in the journal. */
  private removeEntry(key: string): boolean {
    if (this.pending.remove(key)) {
      this.journal?.recordRemove(key);
      return true;
    }
    if (!this.index.has(key)) return false;
    this.index.remove(key);
    this.journal?.recordRemove(key);
    return true;
  }

  /** Whether the index may take `count` more entries under `maxIndexed`. */
  private hasRoomFor(count: number): boolean {
    return this.options.maxIndexed === undefined || this.size + count <= this.options.maxIndexed;
  }

  /**
   * After an add: the least recently added or used entry beyond `maxIndexed` leaves the index at
   * once, so the bound holds at every moment; a larger excess (a bulk add) leaves a step per turn.
   * Only the index: the store is shared by replicas that may still hold the entry, and expires it
   * itself; a lookup reads the store anyway, so an entry there but not here is a miss, never wrong.
   */
  private keepWithinBound(): void {
    if (!this.recent || this.opening || this.evicting) return;
    if (this.evictSome(STEPS_PER_TURN)) return;
    this.evicting = this.evictBeyondBound()
      .catch((error: unknown) => this.options.logger.warn(`l1b: could not evict entries beyond the index's bound: ${String(error)}`))
      .finally(() => {
        this.evicting = undefined;
      });
  }

  /** Evicts down to `maxIndexed`, STEPS_PER_TURN entries a turn. */
  private async evictBeyondBound(): Promise<void> {
    while (!this.evictSome(STEPS_PER_TURN)) await nextTurn();
  }

  /** Evicts up to `steps` entries beyond `maxIndexed`, least recently added or used first; true once within it. */
  private evictSome(steps: number): boolean {
    const recent = this.recent;
    const max = this.options.maxIndexed;
    if (!recent || max === undefined) return true;
    let evicted = 0;
    while (recent.size > max && evicted < steps) {
      const key = recent.shift()!;
      // Out of both: a key replayed as pending and then indexed may be in the two for a while.
      const wasPending = this.pending.remove(key);
      const wasIndexed = this.index.has(key);
      if (wasIndexed) this.index.remove(key);
      if (wasPending || wasIndexed) this.journal?.recordRemove(key);
      evicted++;
    }
    if (evicted > 0) this.scheduleSave();
    return recent.size <= max;
  }

  /**
   * Finds the nearest entry of `partition` above the threshold that passes every safety gate.
   * A neighbour the gates reject is a miss that reports the first gate's reason.
   */
  async lookup(partition: string, text: string, vector?: Float32Array, gateKey?: string): Promise<LookupResult> {
    const query = vector ?? (await this.options.embedder.embed(text));
    if (!isFiniteVector(query)) return { hit: false };
    const group = this.gateCounts ? (gateKey ??= gateKeyOf(text)) : undefined;
    if (group !== undefined) await this.indexPending(partition, group);
    const k = this.options.candidates ?? 3;
    let neighbours = this.index.nearest(partition, query, k, group);
    if (group !== undefined && this.opening && this.pending.holds(partition, group)) {
      neighbours = nearestOf([...neighbours, ...(await this.pendingNeighbours(partition, group, query))], k);
    }
    const { store } = this.options;
    const gates = { gates: this.options.embedder.gates };
    let rejected: GateReason | undefined;
    let querySignature: GateSignature | undefined;
    let queryKey: string | undefined;
    const signatureOfQuery = (): GateSignature => (querySignature ??= gateSignature(text));
    for (const neighbour of neighbours) {
      // Negated so that a NaN similarity (or threshold) fails the test.
      if (!(neighbour.similarity >= this.options.threshold)) break;
      // The key holds a hash of the exact text: another key is another text, whose gates decide.
      const sameText = neighbour.key === (queryKey ??= entryKey(partition, text, gateKey));
      const known = sameText ? undefined : this.signatures.get(neighbour.key);
      // A neighbour the gates refuse needs only its signature: count the use as the read would
      // have (LRU), and read the entry only for an answer to hand out.
      if (known && store.touch?.(neighbour.key) === true) {
        const reason = checkGates(signatureOfQuery(), known, gates);
        if (reason !== undefined) {
          rejected ??= reason;
          continue;
        }
      }
      const entry = await readEntry(store, neighbour.key);
      if (!entry || entry.partition !== partition) {
        // While opening, reconcile drops it: a removal now would make the saved graph not fit.
        if (!this.opening) {
          this.removeEntry(neighbour.key);
          this.scheduleSave();
        }
        continue;
      }
      const querySig = signatureOfQuery();
      const reason = entry.text === text ? undefined : checkGates(querySig, this.signatures.of(neighbour.key, entry.text), gates);
      if (reason === undefined) {
        this.recent?.touch(neighbour.key);
        return { hit: true, key: neighbour.key, entry, similarity: neighbour.similarity };
      }
      rejected ??= reason;
    }
    // Remembered under the key this text's entry will have: a miss's insert usually follows, and
    // the entry is then a neighbour whose gates need no read and no second signature. Not on a
    // hit: nothing is stored under that key, and each held signature (~3 KB) outlives a scavenge.
    if (querySignature) this.signatures.remember((queryKey ??= entryKey(partition, text, gateKey)), querySignature);
    return { hit: false, rejected, similarity: neighbours[0]?.similarity };
  }

  /**
   * Stores an answer (or its JSON, see `storedAnswerJson`) for `text` in `partition`; a later
   * lookup with a close enough turn finds it.
   */
  async insert(partition: string, text: string, answer: StoredAnswer | string, vector?: Float32Array, gateKey?: string): Promise<void> {
    await this.whenIndexed();
    const key = entryKey(partition, text, gateKey);
    if (vector === undefined && this.defersEmbedding) await this.insertPending(partition, text, answer, key);
    else await this.insertIndexed(partition, text, answer, key, vector ?? (await this.options.embedder.embed(text)));
    this.reconcileWhenBehind();
  }

  /** Stores the entry with its vector and adds it to the index. */
  private async insertIndexed(partition: string, text: string, answer: StoredAnswer | string, key: string, vector: Float32Array): Promise<void> {
    if (!isFiniteVector(vector)) return;
    await this.options.store.set(key, encodeEntry({ partition, text, embedder: this.options.embedder.id, vector, answer }));
    // Stored again after an eviction that has not left the index yet: it stays.
    this.removedFromStore.delete(key);
    this.pending.remove(key);
    const label = this.index.add(partition, key, vector);
    if (label !== undefined) this.journal?.recordAdd({ key, partition, vector, label });
    this.scheduleSave();
    this.keepWithinBound();
  }

  /**
   * Stores the entry without a vector; its group's next lookup embeds it (pending.ts). No lookup
   * embedded this text, so the main thread saw no entry with its gate key: usually none will come.
   */
  private async insertPending(partition: string, text: string, answer: StoredAnswer | string, key: string): Promise<void> {
    await this.options.store.set(key, encodeEntry({ partition, text, embedder: this.options.embedder.id, vector: NO_VECTOR, answer }));
    this.removedFromStore.delete(key);
    // The same text indexed before keeps its vector, which is this text's.
    if (this.index.has(key) || !this.pending.add(key)) return;
    this.journal?.recordPending(key);
    this.scheduleSave();
    this.keepWithinBound();
  }

  /**
   * A store that does not report its evictions (Redis): drops them from memory now and then. One
   * that does needs this only as a backstop.
   */
  private reconcileWhenBehind(): void {
    const storeSize = this.options.store.size();
    const indexed = this.size - this.removedFromStore.size;
    // After a walk cut short, not at every insert while the store is stalled (each one logged).
    if (Date.now() - this.walkCutShortAt < RETRY_CUT_SHORT_WALK_MS) return;
    if (!this.reconciling && indexed > storeSize + Math.min(RECONCILE_SLACK, Math.max(100, Math.floor(storeSize / 10)))) {
      this.reconciling = this.reconcile()
        .catch((error: unknown) => this.options.logger.warn(`l1b: could not reconcile the index: ${String(error)}`))
        .then(() => {
          this.reconciling = undefined;
        });
    }
  }

  /** Empties the index (the caller clears the store) and its journal. */
  async clear(): Promise<void> {
    await this.whenIndexed();
    await this.reconciling;
    await this.evicting;
    this.removedFromStore.clear();
    this.index.clear();
    this.pending.clear();
    this.dirty = false;
    await this.journal?.rewrite([]);
    if (this.options.indexDir) await removeGraphs(this.options.indexDir);
  }

  /** Appends the index changes made since the last flush to the journal (rewriting it when mostly dead). */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const journal = this.journal;
    if (!journal) return;
    this.saving = this.saving
      .then(() => (journal.wantsRewrite(this.size) ? journal.rewrite(this.index.entries(), this.pending.keys()) : journal.flush()))
      .catch((error: unknown) => this.options.logger.warn(`l1b: could not save the semantic index: ${String(error)}`));
    return this.saving;
  }

  /** Finishes upkeep, appends the last changes, and saves the large partitions' graphs for the next start. */
  async close(): Promise<void> {
    await this.whenIndexed();
    await this.reconciling;
    await this.evicting;
    for (const key of this.removedFromStore) this.removeEntry(key);
    this.removedFromStore.clear();
    await this.flush();
    const { indexDir } = this.options;
    if (indexDir && this.journal && (this.dirty || this.index.graphsBuilt > 0)) {
      await saveGraphs(indexDir, this.options.embedder.id, this.index).catch((error: unknown) => this.options.logger.warn(`l1b: could not save the semantic graphs: ${String(error)}`));
    }
    await this.journal?.close();
  }

  private scheduleSave(): void {
    this.dirty = true;
    if (!this.journal || this.saveTimer) return;
    this.saveTimer = setTimeout(() => void this.flush(), this.options.saveDelayMs ?? 2000);
    this.saveTimer.unref();
  }
}
