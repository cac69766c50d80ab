/**
 * The default persistent store: one append-only, checksummed log file per store with an in-memory
 * LRU index of where each value lives. Values stay on disk, so memory grows with keys, not bytes.
 * An index snapshot beside the log lets it reopen without reading the whole log.
 */
import { rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../logger';
import { removeIndexSnapshot, saveIndexSnapshot } from './indexSnapshot';
import { openLogWithIndex, type IndexPreview, type OpenReport } from './loadIndex';
import { KeyIndex } from './keyIndex';
import { acquireLock, type HeldLock } from './lockFile';
import { lruEvictions } from './lruEvictions';
import { walkKeys } from './walkKeys';
import { LogAppender } from './logAppender';
import { LOG_SYNC_INTERVAL_MS, openLog, readValue, syncDirectory, writeCompactedLog } from './logFile';
import { encodeRecord, entryError, LOG_MAGIC, RecordOp } from './recordLog';
import type { KeyValueStore, StoreLimits } from './store';
import { makePrivateDir } from './privateFiles';
import { removeStaleTemporaries } from './staleTemporaries';
import { snapshotPathOf } from './snapshotPrefetch';

export type { OpenReport } from './loadIndex';

export interface EmbeddedStoreOptions {
  /** File stem inside `dir`, so several stores can share one folder. Default "store". */
  name?: string;
  /** Clock for TTL decisions, epoch ms. Tests inject one instead of sleeping. */
  now?: () => number;
  /**
   * Return once the lock is held and build the index in the background (a 100k-entry index takes
   * ~0.1 s from its snapshot): gets and keys() wait for it, writes queue behind it, size() and
   * byteSize() read 0 until then. `loaded` tells when it is done. Lets the proxy listen sooner.
   */
  loadInBackground?: boolean;
  /**
   * The caller's promise that no value it stores holds the bytes 0x01 or 0x02 (JSON text, as the
   * exact cache stores: JSON escapes every control character). A whole record needs one of them
   * (its op), so none can hide in a value, and an open may skip damage in the middle of the log
   * and resync on the next record (logScan.ts). Otherwise the log is cut at the first damage: a
   * record hidden in a value whose header the damage took would be read as the real thing.
   */
  valuesAreText?: boolean;
  /** Compaction never runs while the log is smaller than this. Default 1 MiB. */
  compactMinBytes?: number;
  /**
   * A new index snapshot is written once this many log bytes are not covered by one, so that a
   * start after a crash replays at most about this much. Default 32 MiB. (Clean closes and
   * compactions always write one.)
   */
  snapshotEveryBytes?: number;
  /** Longest a write waits for its data sync. Default LOG_SYNC_INTERVAL_MS; tests shorten it. */
  syncIntervalMs?: number;
  /** An append slower than this moves appends to the thread pool (logAppender.ts). Default SLOW_APPEND_MS; tests lower it. */
  slowAppendMs?: number;
  logger?: Logger;
}

/** The embedded store, plus a few handles the panel, benchmarks and tests use. */
export interface EmbeddedStore extends KeyValueStore {
  /** The log file. */
  readonly path: string;
  /** Rewrites the log with only live entries (runs by itself when the log passes ~2x the live data). */
  compact(): Promise<void>;
  /** How the index was rebuilt when the store opened (from the snapshot, or by scanning the log). */
  readonly opened: OpenReport;
  /** Resolves once the index is built (at once unless opened with `loadInBackground`); rejects if that failed. */
  readonly loaded: Promise<void>;
}

type PendingOp = {
  key: string;
  /** undefined for a delete. */
  value: Buffer | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
};

/**
 * Opens (or creates) the store `name` under `dir`. A torn tail left by a crash is dropped; every
 * entry whose `set` had resolved is there, unless the machine lost power within `syncIntervalMs`
 * of the write.
 *
 * @example
 * const store = await openEmbeddedStore(join(dataDir, 'exact'), { maxEntries: 100_000, ttlSeconds: 0 });
 * await store.set(key, Buffer.from(json));
 */
export async function openEmbeddedStore(dir: string, limits: StoreLimits, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const name = options.name ?? 'store';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new RangeError(`store name "${name}" may only use letters, digits, ".", "_" and "-"`);
  if (!Number.isInteger(limits.maxEntries) || limits.maxEntries < 1) throw new RangeError('store maxEntries must be a positive integer');
  if (!Number.isFinite(limits.ttlSeconds) || limits.ttlSeconds < 0) throw new RangeError('store ttlSeconds must be 0 (never) or more');
  await makePrivateDir(dir);
  const path = join(dir, `${name}.log`);
  const lock = await acquireLock(`${path}.lock`);
  // Holding the lock, anything half-written next to this log is a dead writer's: clear it.
  await removeStaleTemporaries(dir);
  await unlink(`${path}.compact`).catch(() => undefined);
  const store = new LogStore(dir, path, snapshotPathOf(dir, name), limits, options, lock);
  const loaded = store.load().catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  if (!options.loadInBackground) {
    await loaded;
    return store;
  }
  loaded.catch((error: unknown) => (options.logger ?? silentLogger).error(`store ${path} could not be opened; lookups miss and writes fail: ${String(error)}`));
  return store;
}

class LogStore implements EmbeddedStore {
  private file: FileHandle | undefined;
  /** Key → location, in LRU order: the first key is the least recently used. */
  private index = new KeyIndex();
  /** Bytes of the frames the index points at. */
  private liveBytes = 0;
  /** End of the log: where the next frame goes, and the file size. */
  private writeOffset = 0;
  /** Log length the snapshot on disk covers (LOG_MAGIC.length: none does). */
  private snapshotLogBytes = LOG_MAGIC.length;
  opened: OpenReport = { from: 'scan', replayedBytes: 0 };
  loaded: Promise<void> = Promise.resolve();
  /** Writes, compaction, clear and close run one at a time, in call order. */
  private chain: Promise<void> = Promise.resolve();
  /** The batch whose flush is queued but not started; new writes join it (group commit). */
  private openBatch: PendingOp[] | undefined;
  /** See EmbeddedStoreOptions.valuesAreText. */
  private readonly resyncAfterDamage: boolean;
  private closed = false;
  /** Bytes were appended since the last data sync of the log. */
  private unsynced = false;
  /** The pending data sync (see `syncIntervalMs`). */
  private syncTimer: NodeJS.Timeout | undefined;
  /** Set while the index is being built; see load(). */
  private loading: Promise<void> | undefined;
  /** While the map is built from a snapshot: where a key's record is, so gets need not wait for the map. */
  private preview: { lookup: IndexPreview['lookup']; file: FileHandle } | undefined;
  /** Keys the preview answered, in order: their LRU moves, replayed once the map is built. */
  private previewHits: string[] = [];
  /** Settles once there is a preview or the load is over: a get that comes earlier waits for this, not the whole load. */
  private previewSettled: Promise<void> = Promise.resolve();
  private loadFailure: unknown;
  /** See `KeyValueStore.onRemoved`. */
  private readonly removedListeners: Array<(key: string) => void> = [];
  private readonly now: () => number;
  private readonly compactMinBytes: number;
  private readonly snapshotEveryBytes: number;
  private readonly syncIntervalMs: number;
  private readonly logger: Logger;
  private readonly appender: LogAppender;

  constructor(
    private readonly dir: string,
    readonly path: string,
    private readonly snapshotPath: string,
    private readonly limits: StoreLimits,
    options: EmbeddedStoreOptions,
    private readonly lock: HeldLock,
  ) {
    this.now = options.now ?? Date.now;
    this.compactMinBytes = options.compactMinBytes ?? 1024 * 1024;
    this.snapshotEveryBytes = options.snapshotEveryBytes ?? 32 * 1024 * 1024;
    this.syncIntervalMs = options.syncIntervalMs ?? LOG_SYNC_INTERVAL_MS;
    this.logger = options.logger ?? silentLogger;
    this.resyncAfterDamage = options.valuesAreText === true;
    this.appender = new LogAppender(path, this.logger, options.slowAppendMs);
  }

  /**
   * Builds the index (from the snapshot and the log's tail, or the whole log). Operations issued
   * meanwhile wait for it: gets await it, writes queue behind it; if it fails, they fail with its error.
   */
  load(): Promise<void> {
    const loaded = this.loadNow();
    this.loading = this.loaded = loaded;
    this.chain = loaded.then(
      () => void (this.loading = undefined),
      (error: unknown) => void (this.loadFailure = error),
    );
    return loaded;
  }

  private async loadNow(): Promise<void> {
    // A preview may be followed by a better one (the snapshot's file scanned, then its bytes in
    // memory): `previewSettled` settles at each, and when the load ends.
    let settlePreview = (): void => undefined;
    const awaitNext = (): void => void (this.previewSettled = new Promise<void>((resolve) => (settlePreview = resolve)));
    awaitNext();
    const onPreview = (preview: IndexPreview, file: FileHandle): void => {
      // Entries beyond maxEntries are dropped below; a preview of that many would still answer for them.
      this.preview = preview.size <= this.limits.maxEntries ? { lookup: preview.lookup, file } : undefined;
      settlePreview();
      awaitNext();
    };
    const loaded = await openLogWithIndex(this.path, this.dir, this.snapshotPath, this.logger, onPreview, this.resyncAfterDamage).finally(() => {
      this.preview = undefined;
      settlePreview();
    });
    this.index = loaded.index;
    this.liveBytes = loaded.liveBytes;
    this.snapshotLogBytes = loaded.snapshotLogBytes;
    this.opened = loaded.report;
    this.file = loaded.file;
    this.writeOffset = loaded.goodEnd;
    this.dropExpired();
    // Snapshot order is LRU order at the last snapshot; a log scan only knows write order.
    while (this.index.size > this.limits.maxEntries) this.forget(this.index.oldest()!);
    for (const key of this.previewHits) this.index.touch(key);
    this.previewHits = [];
    if (this.shouldCompact()) void this.exclusive(() => this.compactNow()).catch(() => undefined);
    else if (this.shouldSnapshot()) void this.exclusive(() => this.snapshotNow()).catch(() => undefined);
  }

  async get(key: string): Promise<Buffer | undefined> {
    if (this.loading) {
      // Before the snapshot is read there is nothing to look in yet; after, the map is not needed.
      if (!this.preview) await this.previewSettled;
      let early = this.getFromPreview(key);
      // This preview has done its share of lookups: the next one (or the end of the load) will say.
      while (early === 'later') {
        await this.previewSettled;
        early = this.getFromPreview(key);
      }
      if (early !== 'wait') return early;
      await this.loading;
    }
    this.assertOpen();
    const slot = this.index.slotOf(key);
    if (slot === undefined || !this.file) return undefined;
    if (this.isExpired(this.index.createdAtAt(slot))) {
      this.forget(key);
      return undefined;
    }
    const value = readValue(this.file, key, this.index.offsetAt(slot), this.index.frameBytesAt(slot));
    if (!value) {
      // Never hand back bytes that do not check out: a miss costs money, a wrong value costs trust.
      this.logger.warn(`store ${this.path}: entry failed its checksum and was dropped`);
      this.forget(key);
      return undefined;
    }
    this.index.touch(key);
    return value;
  }

  /**
   * A get while the index is being built: answered from the preview when there is one, 'wait'
   * otherwise (or when the record does not check out: the get after the load drops it), 'later'
   * when this preview leaves the key to the next one.
   */
  private getFromPreview(key: string): Buffer | undefined | 'wait' | 'later' {
    const preview = this.preview;
    if (!preview) return 'wait';
    const entry = preview.lookup(key);
    if (entry === 'later') return 'later';
    if (!entry || this.isExpired(entry.createdAt)) return undefined;
    const value = readValue(preview.file, key, entry.offset, entry.frameBytes);
    if (!value) return 'wait';
    this.previewHits.push(key);
    return value;
  }

  /**
   * A use of `key` as a `get` hit counts it, without reading the value: L1b checks its gates on
   * most neighbours from memory, and a read of each was most of its disk reads per miss. Undefined
   * while the index loads or once closed: the caller then asks `get`.
   */
  touch(key: string): boolean | undefined {
    if (this.loading || !this.file) return undefined;
    const slot = this.index.slotOf(key);
    if (slot === undefined || this.isExpired(this.index.createdAtAt(slot))) return false;
    this.index.touch(key);
    return true;
  }

  set(key: string, value: Buffer): Promise<void> {
    const invalid = entryError(key, value);
    return invalid ? Promise.reject(invalid) : this.enqueue(key, value);
  }

  delete(key: string): Promise<void> {
    return this.enqueue(key, undefined);
  }

  keys(): AsyncIterable<string> {
    return walkKeys(() => this.index, () => this.loading, (slot) => !this.isExpired(this.index.createdAtAt(slot)));
  }

  clear(): Promise<void> {
    return this.exclusive(async () => {
      const file = this.requireFile();
      await removeIndexSnapshot(this.snapshotPath);
      this.snapshotLogBytes = LOG_MAGIC.length;
      await file.truncate(LOG_MAGIC.length);
      await file.datasync();
      this.index.clear();
      this.liveBytes = 0;
      this.writeOffset = LOG_MAGIC.length;
    });
  }

  size(): number {
    return this.index.size;
  }

  onRemoved(listener: (key: string) => void): void {
    this.removedListeners.push(listener);
  }

  byteSize(): number {
    return this.writeOffset;
  }

  compact(): Promise<void> {
    return this.exclusive(() => this.compactNow());
  }

  close(): Promise<void> {
    if (this.closed) return this.chain;
    clearTimeout(this.syncTimer);
    const done = this.exclusive(async () => {
      // The snapshot makes the next open fast and keeps this session's LRU order.
      if (this.file) await this.snapshotNow().catch(() => undefined);
      await this.syncLog().catch(() => undefined); // in case the snapshot failed before syncing
      await this.file?.close();
      this.file = undefined;
      this.index.clear();
      await this.lock.release();
    });
    this.closed = true;
    return done;
  }

  // ---- writing ---------------------------------------------------------------------------------

  private enqueue(key: string, value: Buffer | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`store ${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      let batch = this.openBatch;
      if (!batch) {
        const fresh: PendingOp[] = [];
        void this.schedule(async () => {
          // The rest of this event-loop turn joins the batch: every answer that finished in it
          // goes out in this one append (at c=32 a turn often finishes several).
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.openBatch === fresh) this.openBatch = undefined;
          return this.writeBatch(fresh);
        }).catch(() => undefined); // each op's own promise carries the error
        batch = this.openBatch = fresh;
      }
      batch.push({ key, value, resolve, reject });
    });
  }

  /** Runs `task` after everything queued before it; writes issued later start a new batch behind it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`store ${this.path} is closed`));
    this.openBatch = undefined;
    return this.schedule(task);
  }

  private schedule<T>(task: () => Promise<T>): Promise<T> {
    const result = this.chain.then(task);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Appends a batch in one write (on this thread when small, see logAppender.ts), then applies it
   * to the index (group commit). Its data sync comes within `syncIntervalMs`, shared with every
   * batch until then.
   */
  private async writeBatch(batch: PendingOp[]): Promise<void> {
    const createdAt = this.now();
    const placed: Array<{ key: string; frameBytes: number; isSet: boolean }> = [];
    const file = this.file;
    try {
      const target = this.requireFile(); // the same handle as `file`; throws why there is none
      const frames: Buffer[] = [];
      const add = (key: string, value: Buffer | undefined): void => {
        const frame = encodeRecord(value ? RecordOp.Set : RecordOp.Delete, key, createdAt, value);
        frames.push(frame);
        placed.push({ key, frameBytes: frame.length, isSet: value !== undefined });
      };
      for (const op of batch) add(op.key, op.value);
      for (const key of lruEvictions(this.index, batch, this.limits.maxEntries)) add(key, undefined);
      await this.appender.append(target, Buffer.concat(frames), this.writeOffset);
    } catch (error) {
      // Cut off whatever part of the batch reached the file, so a later scan never sees half of it.
      await file?.truncate(this.writeOffset).catch(() => undefined);
      for (const op of batch) op.reject(error);
      return;
    }
    let offset = this.writeOffset;
    for (const { key, frameBytes, isSet } of placed) {
      this.forget(key, !isSet);
      if (isSet) {
        this.index.set(key, offset, frameBytes, createdAt);
        this.liveBytes += frameBytes;
      }
      offset += frameBytes;
    }
    this.writeOffset = offset;
    this.unsynced = true;
    this.scheduleSync();
    for (const op of batch) op.resolve();
    if (this.shouldCompact()) await this.compactNow().catch(() => undefined);
    else if (this.shouldSnapshot()) await this.snapshotNow().catch(() => undefined);
  }

  // ---- compaction ------------------------------------------------------------------------------

  private shouldCompact(): boolean {
    return this.writeOffset > this.compactMinBytes && this.writeOffset > 2 * (this.liveBytes + LOG_MAGIC.length);
  }

  /**
   * Copies the live frames, oldest use first, into a new file, fsyncs it and renames it over the
   * log. A crash at any point leaves either the old log or the new one, both complete.
   */
  private async compactNow(): Promise<void> {
    const old = this.requireFile();
    const draftPath = `${this.path}.compact`;
    // A copy: gets may reorder or drop keys while the frames are copied.
    const entries = this.index.ordered();
    let compacted: { movedTo: Float64Array; size: number };
    try {
      compacted = await writeCompactedLog(old, entries, draftPath, (i) => this.isExpired(entries.createdAt[i]!));
    } catch (error) {
      this.logger.warn(`store ${this.path}: compaction failed, keeping the current log: ${String(error)}`);
      throw error;
    }
    // The old snapshot describes the old log: remove it first so that no crash pairs it with the
    // new one (were that to fail, its checks of the log's content reject it on open).
    await removeIndexSnapshot(this.snapshotPath).catch((error: unknown) => this.logger.warn(`store ${this.path}: could not remove the index snapshot: ${String(error)}`));
    this.snapshotLogBytes = LOG_MAGIC.length;
    // Close before renaming: Windows refuses to replace a file that is open. Gets miss meanwhile.
    this.file = undefined;
    await old.close();
    try {
      await rename(draftPath, this.path);
    } catch (error) {
      this.file = await openLog(this.path);
      await unlink(draftPath).catch(() => undefined);
      this.logger.warn(`store ${this.path}: compaction rename failed, keeping the current log: ${String(error)}`);
      throw error;
    }
    // The rename happened: from here on the new file and the new index are the truth.
    await syncDirectory(this.dir).catch((error: unknown) => this.logger.debug(`store ${this.path}: directory sync failed: ${String(error)}`));
    this.file = await openLog(this.path);
    // Point each copied entry at its new place, in place (its LRU position is the one gets gave it
    // meanwhile); drop the rest. No write runs during a compaction, so no slot was reused: a slot
    // still in the index holds the key it held when the entries were copied.
    const slots = entries.slots!;
    const movedTo = new Float64Array(slots.reduce((most, slot) => Math.max(most, slot + 1), 0)).fill(-1);
    slots.forEach((slot, i) => (movedTo[slot] = compacted.movedTo[i]!));
    let liveBytes = 0;
    for (const slot of this.index.slots()) {
      const offset = slot < movedTo.length ? movedTo[slot]! : -1;
      if (offset < 0) {
        this.forget(this.index.keyAt(slot));
        continue;
      }
      this.index.relocate(slot, offset);
      liveBytes += this.index.frameBytesAt(slot);
    }
    this.liveBytes = liveBytes;
    this.writeOffset = compacted.size;
    await this.snapshotNow().catch(() => undefined);
  }

  // ---- index snapshot --------------------------------------------------------------------------

  private shouldSnapshot(): boolean {
    return this.writeOffset - this.snapshotLogBytes >= this.snapshotEveryBytes;
  }

  /**
   * Writes the index snapshot for the log as it is now. Runs inside the write chain, so no frame
   * is being appended meanwhile; gets may still reorder the index, so it is copied first.
   */
  private async snapshotNow(): Promise<void> {
    const file = this.requireFile();
    const logBytes = this.writeOffset;
    // A snapshot on disk must never describe log bytes that a power cut could still take.
    await this.syncLog();
    try {
      await saveIndexSnapshot(this.snapshotPath, this.dir, file, logBytes, this.index.ordered());
      this.snapshotLogBytes = logBytes;
    } catch (error) {
      this.logger.warn(`store ${this.path}: could not write the index snapshot (the next start reads the whole log): ${String(error)}`);
      throw error;
    }
  }

  // ---- data sync -------------------------------------------------------------------------------

  private scheduleSync(): void {
    if (this.syncTimer || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.schedule(() => this.syncLog()).catch(() => undefined);
    }, this.syncIntervalMs);
    this.syncTimer.unref(); // close() syncs what is left
  }

  /** Makes the appended bytes durable; runs in the write chain (or inside a step of it). */
  private async syncLog(): Promise<void> {
    if (!this.unsynced || !this.file) return;
    this.unsynced = false;
    try {
      await this.file.datasync();
    } catch (error) {
      this.unsynced = true;
      this.logger.warn(`store ${this.path}: could not sync the log to disk: ${String(error)}`);
      throw error;
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private requireFile(): FileHandle {
    if (this.loadFailure !== undefined) throw new Error(`store ${this.path} could not be opened: ${String(this.loadFailure)}`);
    if (!this.file) throw new Error(`store ${this.path} is not open`);
    return this.file;
  }

  private assertOpen(): void {
    if (this.closed && !this.file) throw new Error(`store ${this.path} is closed`);
  }

  private isExpired(createdAt: number): boolean {
    return this.limits.ttlSeconds > 0 && this.now() - createdAt >= this.limits.ttlSeconds * 1000;
  }

  private dropExpired(): void {
    if (this.limits.ttlSeconds <= 0) return;
    // One clock read for the whole pass (it runs over every entry at open); deleting the entry
    // being visited is safe while walking the index's slots, and spares a copy of 100k pairs.
    const bornBefore = this.now() - this.limits.ttlSeconds * 1000;
    for (const slot of this.index.slots()) if (this.index.createdAtAt(slot) <= bornBefore) this.forget(this.index.keyAt(slot));
  }

  /**
   * Removes a key from the index only; its bytes stay in the log until the next compaction.
   * `removed` is false when a new value replaces it at once (no removal to report).
   */
  private forget(key: string, removed = true): void {
    const slot = this.index.slotOf(key);
    if (slot === undefined) return;
    this.liveBytes -= this.index.frameBytesAt(slot);
    this.index.delete(key);
    if (removed) for (const listener of this.removedListeners) listener(key);
  }
}
