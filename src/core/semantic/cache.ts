/**
 * The L1b semantic cache without the HTTP concerns: entries in a key-value store, their vectors in
 * an in-memory index persisted beside the store, and the safety gates between a near neighbour
 * and a hit. The layer and `isartor bench pairs` both drive this class.
 */
import type { Embedder } from '../embed/embedder';
import type { Logger } from '../logger';
import type { StoredAnswer } from '../outcome';
import type { KeyValueStore } from '../store/store';
import { ENTRY_KEY_PREFIX, encodeEntry, entryKey, partitionOfKey, readEntry, type SemanticEntry } from './entries';
import { checkGates, gateSignature, type GateReason } from './gates';
import { VectorIndex } from './index';
import { SignatureCache } from './signatures';
import { loadSnapshot, saveSnapshot } from './snapshot';

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
  /** Delay before a changed index is saved (saves are batched). */
  saveDelayMs?: number;
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
  private reconciling: Promise<void> | undefined;
  /** Stored entries' gate signatures: the same neighbours come up again and again. */
  private readonly signatures = new SignatureCache();

  private constructor(private readonly options: SemanticCacheOptions) {
    this.index = new VectorIndex({ dimensions: options.embedder.dimensions, annMinEntries: options.annMinEntries });
  }

  /**
   * Opens the cache: loads the index snapshot if it is intact, then reconciles it with the store
   * (entries the store evicted are dropped, entries the snapshot missed are read and added).
   *
   * @example const cache = await SemanticCache.open({ store, embedder, threshold: 0.9, logger, indexDir });
   */
  static async open(options: SemanticCacheOptions): Promise<SemanticCache> {
    const cache = new SemanticCache(options);
    if (options.indexDir && (await loadSnapshot(options.indexDir, options.embedder.id, cache.index))) cache.origin = 'snapshot';
    const { added, removed } = await cache.reconcile();
    if (cache.origin === 'rebuilt' && cache.index.size > 0) options.logger.info(`l1b: rebuilt the semantic index from the store (${added} entries)`);
    if (added > 0 || removed > 0) cache.scheduleSave();
    return cache;
  }

  get embedderId(): string {
    return this.options.embedder.id;
  }

  /** Makes the index agree with the store's live keys. */
  async reconcile(): Promise<{ added: number; removed: number }> {
    const live = new Set<string>();
    const missing: Array<{ key: string; partition: string; vector: Float32Array }> = [];
    for await (const key of this.options.store.keys()) {
      if (!key.startsWith(ENTRY_KEY_PREFIX)) continue;
      live.add(key);
      if (this.index.has(key)) continue;
      const entry = await readEntry(this.options.store, key);
      if (!entry || partitionOfKey(key) !== entry.partition) continue;
      const vector = entry.embedder === this.options.embedder.id ? entry.vector : await this.options.embedder.embed(entry.text);
      if (vector.length === this.index.dimensions) missing.push({ key, partition: entry.partition, vector });
    }
    this.index.bulkLoad((index) => {
      for (const entry of missing) index.add(entry.partition, entry.key, entry.vector);
    });
    const added = missing.length;
    const stale = [...this.index.entries()].filter((entry) => !live.has(entry.key)).map((entry) => entry.key);
    for (const key of stale) this.index.remove(key);
    return { added, removed: stale.length };
  }

  /**
   * Finds the nearest entry of `partition` above the threshold that passes every safety gate.
   * A neighbour the gates reject is a miss that reports the first gate's reason.
   */
  async lookup(partition: string, text: string, vector?: Float32Array): Promise<LookupResult> {
    const query = vector ?? (await this.options.embedder.embed(text));
    const neighbours = this.index.nearest(partition, query, this.options.candidates ?? 3);
    let rejected: GateReason | undefined;
    let querySignature: ReturnType<typeof gateSignature> | undefined;
    for (const neighbour of neighbours) {
      if (neighbour.similarity < this.options.threshold) break;
      const entry = await readEntry(this.options.store, neighbour.key);
      if (!entry || entry.partition !== partition) {
        this.index.remove(neighbour.key);
        this.scheduleSave();
        continue;
      }
      querySignature ??= gateSignature(text);
      const reason = entry.text === text ? undefined : checkGates(querySignature, this.signatures.of(entry.text), { strictWording: this.options.embedder.strictWording });
      if (reason === undefined) return { hit: true, key: neighbour.key, entry, similarity: neighbour.similarity };
      rejected ??= reason;
    }
    return { hit: false, rejected, similarity: neighbours[0]?.similarity };
  }

  /** Stores an answer for `text` in `partition`; a later lookup with a close enough turn finds it. */
  async insert(partition: string, text: string, answer: StoredAnswer, vector?: Float32Array): Promise<void> {
    const embedded = vector ?? (await this.options.embedder.embed(text));
    const key = entryKey(partition, text);
    await this.options.store.set(key, encodeEntry({ partition, text, embedder: this.options.embedder.id, vector: embedded, answer }));
    this.index.add(partition, key, embedded);
    this.scheduleSave();
    // The store evicts (LRU, TTL) without telling us; drop its evictions from memory now and then.
    if (!this.reconciling && this.index.size > this.options.store.size() * 1.1 + 100) {
      this.reconciling = this.reconcile()
        .catch((error: unknown) => this.options.logger.warn(`l1b: could not reconcile the index: ${String(error)}`))
        .then(() => {
          this.reconciling = undefined;
        });
    }
  }

  /** Empties the index (the caller clears the store) and saves the empty snapshot. */
  async clear(): Promise<void> {
    await this.reconciling;
    this.index.clear();
    this.dirty = true;
    await this.flush();
  }

  /** Writes the index snapshot now if it changed. */
  async flush(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const indexDir = this.options.indexDir;
    if (!indexDir || !this.dirty) return this.saving;
    this.dirty = false;
    this.saving = this.saving
      .then(() => saveSnapshot(indexDir, this.options.embedder.id, this.index))
      .catch((error: unknown) => this.options.logger.warn(`l1b: could not save the semantic index: ${String(error)}`));
    return this.saving;
  }

  async close(): Promise<void> {
    await this.reconciling;
    await this.flush();
  }

  private scheduleSave(): void {
    this.dirty = true;
    if (!this.options.indexDir || this.saveTimer) return;
    this.saveTimer = setTimeout(() => void this.flush(), this.options.saveDelayMs ?? 2000);
    this.saveTimer.unref();
  }
}
