/**
 * The savings ledger: one JSON line per request in `ledger.jsonl`, aggregates kept in memory and
 * rebuilt on open, and a rolled-up snapshot that lets the file rotate without losing a count.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelPrice } from './config';
import type { LedgerLayer, LedgerRecord, LedgerSummary } from './ledger-types';
import { addRecord, boundSummary, cloneSummary, countRecord, emptySummary, sanitiseRecord } from './ledgerSummary';
import { silentLogger, type Logger } from './logger';
import type { TokenUsage } from './outcome';
import { costUsd, priceFor } from './prices';
import { RecentRecords } from './recentRecords';
import { acquireLock, type HeldLock } from './store/lockFile';
import { makeDataDir, PRIVATE_FILE_MODE } from './store/privateFiles';

export interface Ledger {
  /** Counts the record at once and appends it to the file soon after; never blocks or throws. */
  record(rec: LedgerRecord): void;
  /** Aggregates over every record ever kept (a copy). */
  summary(): LedgerSummary;
  /** Called after each record is counted (status bar, panel, metrics). */
  onRecord(listener: (rec: LedgerRecord) => void): { dispose(): void };
  /** Resolves once every record so far is on disk. */
  flush(): Promise<void>;
  /** Forgets every record, on disk too. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface LedgerOptions {
  /**
   * Records in `ledger.jsonl` before it is rolled into the snapshot. Default 2,000 (~0.6 MB): every
   * open parses the whole file, which at 20,000 records took 80-170 ms of start-up (issue 8).
   */
  maxRecords?: number;
  /**
   * Only read (for `isartor stats` while a proxy may be writing): no file is created, cut, rolled
   * or deleted, `record()` is ignored and `clear()` rejects.
   */
  readOnly?: boolean;
  /**
   * Milliseconds a counted record may wait for its append, so a busy proxy writes a batch per
   * interval instead of one per request. Default 50. A crash loses at most this window (the
   * counts shown so far were in memory only anyway); `flush()` and `close()` write at once.
   */
  flushDelayMs?: number;
  logger?: Logger;
}

/** Appends as soon as this many records wait, whatever the delay, to bound the memory a burst holds. */
const MAX_PENDING_RECORDS = 512;

const LEDGER_FILE = 'ledger.jsonl';
const ROLLUP_FILE = 'ledger-rollup.json';
const ROLLING_PREFIX = 'ledger.rolling-';

/** The snapshot written at each rotation: aggregates of every record in the files rolled so far. */
interface Rollup {
  version: 1;
  /** Ids of the rolled files already counted in `summary`, so a crash mid-rotation never counts one twice. */
  absorbed: string[];
  summary: LedgerSummary;
}

/**
 * Opens the ledger in `dataDir`, rebuilding the aggregates from the snapshot and the file. A torn
 * last line (a crash mid-append) is cut off.
 *
 * @example
 * const ledger = await openLedger(config.dataDir);
 * ledger.record({ time: Date.now(), layer: 'l1a', ... });
 */
export async function openLedger(dataDir: string, options: LedgerOptions = {}): Promise<Ledger> {
  const maxRecords = options.maxRecords ?? 2_000;
  if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new RangeError('ledger maxRecords must be a positive integer');
  const flushDelayMs = options.flushDelayMs ?? 50;
  if (!(flushDelayMs >= 0)) throw new RangeError('ledger flushDelayMs must be zero or more');
  const readOnly = options.readOnly === true;
  if (!readOnly) await makeDataDir(dataDir);
  const files = new LedgerFiles(dataDir, options.logger ?? silentLogger, readOnly);
  // One writer per data dir: two would each roll the file aside and snapshot only their own
  // counts, losing the other's records. The stores' locks do not cover it (a Redis store takes none).
  const lock = readOnly ? undefined : await acquireLock(`${files.ledgerPath}.lock`);
  try {
    const rollup = await files.recoverRollup();
    const persisted = rollup.summary;
    const records = await files.readRecords();
    for (const rec of records) addRecord(persisted, rec);
    const handle = readOnly ? undefined : await open(files.ledgerPath, 'a', PRIVATE_FILE_MODE);
    const size = handle ? (await handle.stat()).size : 0;
    return new FileLedger(files, handle, lock, persisted, rollup.absorbed, records.length, size, maxRecords, flushDelayMs);
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/**
 * What a request saved. A cache hit (l1a, l1b) saves the stored answer's input and output tokens
 * and what they would have cost; l2 the same, marked as an estimate; l3 and errors save nothing here
 * (the optimiser's savings are added by the engine). `prices` are the overrides (EngineConfig.prices);
 * a model missing from the table saves $0, marked as an estimate.
 *
 * @example savingsFor('l1a', 'gpt-4o', answer.usage, config.prices) // { savedTokens: 1500, savedUsd: 0.0045, estimated: false }
 */
export function savingsFor(
  layer: LedgerLayer,
  model: string,
  usage: TokenUsage,
  prices: Readonly<Record<string, ModelPrice>> = {},
): { savedTokens: number; savedUsd: number; estimated: boolean } {
  if (layer !== 'l1a' && layer !== 'l1b' && layer !== 'l2') return { savedTokens: 0, savedUsd: 0, estimated: false };
  const savedTokens = Math.max(0, usage.inputTokens) + Math.max(0, usage.outputTokens);
  const price = priceFor(model, prices);
  return { savedTokens, savedUsd: price ? costUsd(price, usage) : 0, estimated: layer === 'l2' || !price };
}

/**
 * What a request was billed in the cloud, priced with the same cache-aware rates as `savingsFor`:
 * l1a/l1b/l2 answers never reached it ($0); an l3 answer or a failure costs the provider's usage
 * (cached reads and cache writes at their own rates; a failure without reported usage is $0).
 * `unpriced` is true when tokens were counted on a model missing from the price table, so its
 * money figures are $0 whatever the tokens.
 *
 * @example spentFor('l3', 'gpt-4o', upstream.usage, config.prices) // { spentUsd: 0.0123, unpriced: false }
 */
export function spentFor(
  layer: LedgerLayer,
  model: string,
  usage: TokenUsage,
  prices: Readonly<Record<string, ModelPrice>> = {},
): { spentUsd: number; unpriced: boolean } {
  const price = priceFor(model, prices);
  const tokens = Math.max(0, usage.inputTokens) + Math.max(0, usage.outputTokens) > 0;
  const unpriced = !price && tokens;
  if (layer === 'l1a' || layer === 'l1b' || layer === 'l2' || !price) return { spentUsd: 0, unpriced };
  return { spentUsd: costUsd(price, usage), unpriced };
}

class FileLedger implements Ledger {
  /** Everything counted, flushed or not: what summary() shows (its `recent` is liveRecent's). */
  private live: LedgerSummary;
  private liveRecent: RecentRecords;
  /** The newest records on disk: the rollup's `recent` at the next rotation. */
  private persistedRecent: RecentRecords;
  private readonly listeners = new Set<(rec: LedgerRecord) => void>();
  /** Lines counted but not yet handed to the file. */
  private pending: string[] = [];
  private pendingRecords: LedgerRecord[] = [];
  /** The pending append, while one is scheduled. */
  private flushTimer: NodeJS.Timeout | undefined;
  /** File work runs one step at a time. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly files: LedgerFiles,
    private handle: FileHandle | undefined,
    /** Held while open for writing (none when read-only). */
    private readonly lock: HeldLock | undefined,
    /** What is on disk: the snapshot plus the records written to the file. Rotation snapshots this. */
    private persisted: LedgerSummary,
    private absorbed: string[],
    private recordsInFile: number,
    /** Size of `ledger.jsonl`, to cut off a half-done append after a write error. */
    private fileBytes: number,
    private readonly maxRecords: number,
    private readonly flushDelayMs: number,
  ) {
    this.live = cloneSummary(persisted);
    this.liveRecent = new RecentRecords(persisted.recent);
    this.persistedRecent = new RecentRecords(persisted.recent);
    // One place holds the newest records; the summaries' own lists would only go stale.
    this.live.recent = [];
    this.persisted.recent = [];
  }

  record(rec: LedgerRecord): void {
    const clean = this.closed || this.files.readOnly ? undefined : sanitiseRecord(rec);
    if (!clean) return;
    countRecord(this.live, clean);
    this.liveRecent.add(clean);
    this.pending.push(`${JSON.stringify(clean)}\n`);
    this.pendingRecords.push(clean);
    // One append per interval: at concurrency 32 a write per request was a syscall and a promise
    // chain each (bench overhead); batched, the file sees one write for every record of the window.
    if (this.pending.length >= MAX_PENDING_RECORDS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.flushDelayMs);
    for (const listener of this.listeners) {
      try {
        listener(clean);
      } catch (error) {
        this.files.logger.warn(`ledger listener failed: ${String(error)}`);
      }
    }
  }

  summary(): LedgerSummary {
    return cloneSummary({ ...this.live, recent: this.liveRecent.newestFirst() });
  }

  onRecord(listener: (rec: LedgerRecord) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    return this.serial(() => this.writePending());
  }

  clear(): Promise<void> {
    if (this.files.readOnly) return Promise.reject(new Error('this ledger was opened read-only'));
    return this.serial(async () => {
      this.pending = [];
      this.pendingRecords = [];
      await this.handle?.close();
      await this.files.removeAll();
      this.handle = await open(this.files.ledgerPath, 'a', PRIVATE_FILE_MODE);
      this.persisted = emptySummary();
      this.live = emptySummary();
      this.persistedRecent = new RecentRecords();
      this.liveRecent = new RecentRecords();
      this.absorbed = [];
      this.recordsInFile = 0;
      this.fileBytes = 0;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return this.chain;
    await this.flush();
    this.closed = true;
    this.listeners.clear();
    await this.serial(async () => {
      await this.handle?.sync().catch(() => undefined);
      await this.handle?.close();
      this.handle = undefined;
    });
    await this.lock?.release();
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch((error: unknown) => this.files.logger.warn(`ledger: ${String(error)}`));
    return this.chain;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0 || !this.handle) return;
    const lines = this.pending;
    const records = this.pendingRecords;
    this.pending = [];
    this.pendingRecords = [];
    const bytes = Buffer.from(lines.join(''), 'utf8');
    try {
      for (let written = 0; written < bytes.length; ) {
        written += (await this.handle.write(bytes, written, bytes.length - written)).bytesWritten;
      }
    } catch (error) {
      // Disk full or gone: the counts stay in memory for this session; the file is cut back to whole lines.
      await truncate(this.files.ledgerPath, this.fileBytes).catch(() => undefined);
      this.files.logger.warn(`ledger: could not append ${lines.length} records: ${String(error)}`);
      return;
    }
    this.fileBytes += bytes.length;
    for (const rec of records) {
      countRecord(this.persisted, rec);
      this.persistedRecent.add(rec);
    }
    this.recordsInFile += records.length;
    if (this.recordsInFile >= this.maxRecords) await this.rotate();
  }

  /**
   * Rolls the file into the snapshot: rename the file aside, write the snapshot (which names the
   * rolled file as absorbed), then delete the rolled file. Reopening after a crash at any step
   * counts every record exactly once.
   */
  private async rotate(): Promise<void> {
    const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await this.handle?.close();
    this.handle = undefined;
    const rolled = this.files.rollingPath(id);
    try {
      await this.rollInto(rolled, id);
    } finally {
      // Whatever failed (a full disk refusing the snapshot), later records need a file: without one
      // every append was skipped for the rest of the session.
      this.handle = await open(this.files.ledgerPath, 'a', PRIVATE_FILE_MODE);
    }
    await unlink(rolled).catch(() => undefined);
  }

  /**
   * Renames the file to `rolled` and writes the snapshot that absorbs it. When the snapshot fails
   * the file is put back, records and all, for a later rotation: a rolled file left beside it
   * would be counted again once its id fell off the snapshot's short `absorbed` list.
   */
  private async rollInto(rolled: string, id: string): Promise<void> {
    await rename(this.files.ledgerPath, rolled);
    const absorbed = [...this.absorbed, id].slice(-10);
    try {
      await this.files.writeRollup({ version: 1, absorbed, summary: { ...this.persisted, recent: this.persistedRecent.newestFirst() } });
    } catch (error) {
      await rename(rolled, this.files.ledgerPath);
      throw error;
    }
    this.absorbed = absorbed;
    this.recordsInFile = 0;
    this.fileBytes = 0;
  }
}

/** The ledger's files in the data dir and the recovery steps on open. */
class LedgerFiles {
  readonly ledgerPath: string;
  private readonly rollupPath: string;

  constructor(
    private readonly dataDir: string,
    readonly logger: Logger,
    readonly readOnly: boolean,
  ) {
    this.ledgerPath = join(dataDir, LEDGER_FILE);
    this.rollupPath = join(dataDir, ROLLUP_FILE);
  }

  rollingPath(id: string): string {
    return join(this.dataDir, `${ROLLING_PREFIX}${id}.jsonl`);
  }

  /** The snapshot, with any rolled file a crash left behind counted into it (once). */
  async recoverRollup(): Promise<Rollup> {
    const rollup = await this.readRollup();
    const names = await readdir(this.dataDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && this.readOnly) return [];
      throw error;
    });
    const leftovers = names.filter((name) => name.startsWith(ROLLING_PREFIX) && name.endsWith('.jsonl')).sort();
    for (const name of leftovers) {
      const id = name.slice(ROLLING_PREFIX.length, -'.jsonl'.length);
      const path = join(this.dataDir, name);
      if (!rollup.absorbed.includes(id)) {
        for (const rec of await this.readLines(path)) addRecord(rollup.summary, rec);
        rollup.absorbed = [...rollup.absorbed, id].slice(-10);
        if (!this.readOnly) await this.writeRollup(rollup);
      }
      if (!this.readOnly) await unlink(path);
    }
    return rollup;
  }

  /** Records of `ledger.jsonl`; a torn last line is cut off the file so the next append starts clean. */
  async readRecords(): Promise<LedgerRecord[]> {
    return this.readLines(this.ledgerPath, true);
  }

  async writeRollup(rollup: Rollup): Promise<void> {
    const draft = `${this.rollupPath}.tmp`;
    const handle = await open(draft, 'w', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(rollup));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(draft, this.rollupPath);
  }

  /** Deletes the ledger file, the snapshot and any rolled file. */
  async removeAll(): Promise<void> {
    const names = (await readdir(this.dataDir)).filter((name) => name === LEDGER_FILE || name === ROLLUP_FILE || name.startsWith(ROLLING_PREFIX));
    await Promise.all(names.map((name) => unlink(join(this.dataDir, name)).catch(() => undefined)));
  }

  private async readRollup(): Promise<Rollup> {
    let text: string;
    try {
      text = await readFile(this.rollupPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, absorbed: [], summary: emptySummary() };
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Rollup;
      if (parsed.version !== 1 || !Array.isArray(parsed.absorbed) || !parsed.summary?.totals) throw new Error('unexpected shape');
      return { version: 1, absorbed: parsed.absorbed, summary: boundSummary({ ...emptySummary(), ...parsed.summary }) };
    } catch (error) {
      if (this.readOnly) {
        this.logger.warn(`ledger: ${this.rollupPath} could not be read (${String(error)}); older totals are not counted`);
        return { version: 1, absorbed: [], summary: emptySummary() };
      }
      // Keep the unreadable file for inspection rather than overwrite it at the next rotation.
      const aside = `${this.rollupPath}.unreadable-${Date.now()}`;
      await rename(this.rollupPath, aside);
      this.logger.warn(`ledger: ${this.rollupPath} could not be read (${String(error)}); moved to ${aside}, older totals are not counted`);
      return { version: 1, absorbed: [], summary: emptySummary() };
    }
  }

  private async readLines(path: string, cutTornTail = false): Promise<LedgerRecord[]> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const complete = bytes.lastIndexOf(0x0a) + 1; // everything after the last newline is a torn write
    if (cutTornTail && complete < bytes.length && !this.readOnly) {
      this.logger.warn(`ledger: dropped an incomplete last line of ${path} (after a crash?)`);
      await truncate(path, complete);
    }
    const records: LedgerRecord[] = [];
    let skipped = 0;
    for (const line of bytes.subarray(0, complete).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      let rec: LedgerRecord | undefined;
      try {
        rec = sanitiseRecord(JSON.parse(line));
      } catch {
        rec = undefined;
      }
      if (rec) records.push(rec);
      else skipped++;
    }
    if (skipped > 0) this.logger.warn(`ledger: skipped ${skipped} unreadable lines of ${path}`);
    return records;
  }
}
