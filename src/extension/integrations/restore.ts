/**
 * Puts journaled files back. A file that still holds exactly what Isartor last wrote gets its
 * original bytes back; a file the user edited since keeps their edits and loses only Isartor's
 * own values. Also reconciles a journal left by a crash, and restores every journal on uninstall.
 */
import { rmdir, unlink } from 'node:fs/promises';
import type { Logger } from '../../core/logger';
import type { Integration, IntegrationContext } from './integration';
import { readFileIfExists, removeStaleTempFiles, writeFileAtomic } from './atomicFile';
import { sameJson, valueAt, type DocumentEditor, type KeyPath } from './documentEdit';
import { jsoncEditor } from './jsoncEdit';
import {
  backupPath,
  deleteBackup,
  entriesForFile,
  hashOf,
  loadJournal,
  updateJournal,
  wroteValue,
  type FileJournalEntry,
  type JournalEntry,
} from './journal';
import { listJournalDirs, unregisterJournalDir } from './journalPointer';
import { tomlEditor } from './tomlEdit';
import { yamlEditor } from './yamlEdit';

export type RestoreOutcome = 'original-bytes' | 'keys-removed' | 'nothing-to-do' | 'file-deleted';

export interface RestoreReport {
  file: string;
  outcome: RestoreOutcome;
}

/** Some files could not be restored; their entries stay so a later attempt can succeed. */
export class RestoreError extends Error {
  constructor(
    readonly failures: { file: string; message: string }[],
    /** The files that were restored all the same. */
    readonly restored: RestoreReport[],
  ) {
    super(`could not restore ${failures.map((failure) => `${failure.file} (${failure.message})`).join('; ')}`);
    this.name = 'RestoreError';
  }
}

const editors: Record<FileJournalEntry['format'], DocumentEditor> = { yaml: yamlEditor, jsonc: jsoncEditor, toml: tomlEditor };

/**
 * `disconnect` and `suspend` of a tool whose only state is journaled file edits (Continue, Claude
 * Code): both restore the files; only disconnect forgets the routes, so a tool suspended when VS
 * Code closes gets the same route URLs back at the next connect.
 */
export function fileToolRestore(tool: string): Pick<Integration, 'disconnect'> & Required<Pick<Integration, 'suspend'>> {
  return {
    async disconnect(ctx) {
      await restoreFiles(ctx, tool);
      await ctx.routes.releaseRoutes(tool);
    },
    async suspend(ctx) {
      await restoreFiles(ctx, tool);
    },
  };
}

/**
 * Restores every journaled file of `tool` (every file when `tool` is undefined) and removes
 * their entries. A file that cannot be restored (unparseable after a user edit) keeps its entries
 * so a later attempt can still succeed; the other files carry on, then RestoreError names it.
 */
export async function restoreFiles(
  ctx: Pick<IntegrationContext, 'journalDir' | 'homeDir' | 'logger'>,
  tool?: string,
): Promise<RestoreReport[]> {
  const failures: { file: string; message: string }[] = [];
  const reports = await updateJournal(ctx.journalDir, async (entries) => {
    const files = [...new Set(entries.filter((e): e is FileJournalEntry => e.kind === 'file' && (!tool || e.tool === tool)).map((e) => e.file))];
    const done: RestoreReport[] = [];
    for (const file of files) {
      try {
        done.push({ file, outcome: await restoreFile(ctx.journalDir, entriesForFile(entries, file)) });
        await deleteBackup(ctx.journalDir, entriesForFile(entries, file)[0]?.backup);
      } catch (error) {
        failures.push({ file, message: (error as Error).message });
      }
    }
    const restored = new Set(done.map((report) => report.file));
    return { entries: entries.filter((e) => !(e.kind === 'file' && restored.has(e.file))), result: done };
  });
  for (const report of reports) ctx.logger.info(`restored ${report.file} (${report.outcome})`);
  await forgetEmptyJournal(ctx);
  if (failures.length > 0) throw new RestoreError(failures, reports);
  return reports;
}

async function restoreFile(journalDir: string, entries: FileJournalEntry[]): Promise<RestoreOutcome> {
  const first = entries[0];
  const file = first?.file;
  if (!first || !file) return 'nothing-to-do';
  await removeStaleTempFiles(file);
  const current = await readFileIfExists(file);
  if (current === undefined) return 'nothing-to-do'; // the user deleted it: respect that
  const backup = first.backup ? await readFileIfExists(backupPath(journalDir, first.backup)) : undefined;
  if (hashOf(current) === entries.at(-1)?.hashAfterWrite && unbrokenChain(entries, backup)) {
    if (first.createdFile) {
      await unlink(file);
      await removeCreatedDirs(first.createdDirs);
      return 'file-deleted';
    }
    if (backup) {
      await writeFileAtomic(file, backup);
      return 'original-bytes';
    }
  }
  return removeIsartorKeys(file, current.toString('utf8'), entries);
}

/**
 * Whether the original bytes still describe the file apart from Isartor's writes: every write
 * started from exactly what the previous one left. A user edit between two Isartor writes breaks
 * the chain, and then restoring the old bytes would undo that edit, so keys are restored instead.
 */
function unbrokenChain(entries: FileJournalEntry[], backup: Buffer | undefined): boolean {
  const writes = [...new Map(entries.map((entry) => [entry.writeId, entry])).values()];
  const origin = writes[0]?.createdFile ? hashOf(undefined) : backup ? hashOf(backup) : undefined;
  if (origin === undefined || writes[0]?.hashBefore !== origin) return false;
  return writes.every((write, i) => i === 0 || write.hashBefore === writes[i - 1]?.hashAfterWrite);
}

/** Puts back the user's value for each key that still holds one of Isartor's values. */
async function removeIsartorKeys(file: string, text: string, entries: FileJournalEntry[]): Promise<RestoreOutcome> {
  const editor = editors[entries[0]!.format];
  const isOurs = (value: unknown): boolean => entries.some((entry) => wroteValue(entry, value));
  let updated = text;
  // The latest entry per key carries the value to restore (the user may have changed it between connects).
  const latestPerKey = new Map<string, FileJournalEntry>();
  for (const entry of entries) latestPerKey.set(JSON.stringify([entry.keyPath, entry.itemMatch ?? null]), entry);
  const done = new Set<string>();
  for (const entry of latestPerKey.values()) {
    const path = locate(editor.read(updated), entry, isOurs);
    if (!path || done.has(JSON.stringify(path))) continue;
    done.add(JSON.stringify(path));
    updated = putBack(editor, updated, path, entry);
  }
  // Copies of a connected item the user made (duplicated a model block) carry Isartor's URL too.
  for (const entry of latestPerKey.values()) {
    if (!entry.itemMatch) continue;
    const { listPath } = entry.itemMatch;
    const rest = entry.keyPath.slice(listPath.length + 1);
    const list = valueAt(editor.read(updated), listPath);
    if (!Array.isArray(list)) continue;
    for (let i = 0; i < list.length; i++) {
      const path = [...listPath, i, ...rest];
      if (done.has(JSON.stringify(path)) || !wroteValue(entry, valueAt(list[i], rest))) continue;
      done.add(JSON.stringify(path));
      updated = putBack(editor, updated, path, entry);
    }
  }
  if (entries[0]!.createdFile && sameJson(editor.read(updated), {})) {
    await unlink(file);
    await removeCreatedDirs(entries[0]!.createdDirs);
    return 'file-deleted';
  }
  if (updated === text) return 'nothing-to-do';
  await writeFileAtomic(file, updated);
  return 'keys-removed';
}

/** Where the entry's key is now: its recorded path, or the item found again by its fields. */
function locate(data: unknown, entry: FileJournalEntry, isOurs: (value: unknown) => boolean): KeyPath | undefined {
  const candidates: KeyPath[] = [entry.keyPath];
  if (entry.itemMatch) {
    const { listPath, fields } = entry.itemMatch;
    const rest = entry.keyPath.slice(listPath.length + 1);
    const list = valueAt(data, listPath);
    const matches = (item: unknown): boolean => Object.entries(fields).every(([key, value]) => sameJson(valueAt(item, [key]), value));
    if (!Array.isArray(list) || !matches(list[entry.keyPath[listPath.length] as number])) candidates.length = 0;
    if (Array.isArray(list)) list.forEach((item, i) => matches(item) && candidates.push([...listPath, i, ...rest]));
  }
  return candidates.find((path) => isOurs(valueAt(data, path)));
}

function putBack(editor: DocumentEditor, text: string, path: KeyPath, entry: FileJournalEntry): string {
  if (entry.oldValue !== undefined) return editor.set(text, path, entry.oldValue);
  let updated = editor.remove(text, path);
  // Objects Isartor created to hold the key go too, innermost first, while they are empty.
  const created = entry.createdPath;
  if (created) {
    for (let depth = path.length - 1; depth >= created.length; depth--) {
      const parent = path.slice(0, depth);
      const value = valueAt(editor.read(updated), parent);
      if (value === null || typeof value !== 'object' || Object.keys(value).length > 0) break;
      updated = editor.remove(updated, parent);
    }
  }
  return updated;
}

async function removeCreatedDirs(dirs: string[] | undefined): Promise<void> {
  // Innermost first; rmdir refuses a folder something else has put files in since.
  for (const dir of [...(dirs ?? [])].reverse()) await rmdir(dir).catch(() => undefined);
}

/**
 * Run on activation. Drops the entries of a write that never happened (a crash between the
 * journal write and the file write: the file still hashes to `hashBefore`); entries whose write
 * happened stay, because the tool is still connected. Also removes temp files a crash left.
 */
export async function reconcileJournal(ctx: Pick<IntegrationContext, 'journalDir' | 'homeDir' | 'logger'>): Promise<{ dropped: number }> {
  const existing = await loadJournal(ctx.journalDir);
  if (existing.length === 0) {
    await forgetEmptyJournal(ctx);
    return { dropped: 0 };
  }
  const result = await updateJournal(ctx.journalDir, async (entries) => {
    const unwritten = new Set<string>();
    const orphanBackups: (string | undefined)[] = [];
    for (const file of new Set(entries.flatMap((e) => (e.kind === 'file' ? [e.file] : [])))) {
      const ofFile = entriesForFile(entries, file);
      await removeStaleTempFiles(file);
      const last = ofFile.at(-1)!;
      const hash = hashOf(await readFileIfExists(file));
      if (hash !== last.hashBefore || hash === last.hashAfterWrite) continue;
      const dropped = ofFile.filter((entry) => entry.writeId === last.writeId);
      dropped.forEach((entry) => unwritten.add(entry.id));
      if (dropped.length === ofFile.length) {
        orphanBackups.push(last.backup);
        await removeCreatedDirs(last.createdDirs);
      }
    }
    for (const name of orphanBackups) await deleteBackup(ctx.journalDir, name);
    const kept: JournalEntry[] = unwritten.size ? entries.filter((entry) => !unwritten.has(entry.id)) : entries;
    return { entries: kept, result: { dropped: unwritten.size } };
  });
  if (result.dropped) ctx.logger.info(`journal: dropped ${result.dropped} entries of writes a crash interrupted`);
  await forgetEmptyJournal(ctx);
  return result;
}

/** Takes an empty journal folder off the uninstall pointer list. */
async function forgetEmptyJournal(ctx: Pick<IntegrationContext, 'journalDir' | 'homeDir'>): Promise<void> {
  if ((await loadJournal(ctx.journalDir)).length === 0) await unregisterJournalDir(ctx.homeDir, ctx.journalDir);
}

/**
 * The uninstall hook's work: reconcile and restore every journal listed for `homeDir`. Settings
 * kept by other extensions' APIs (Roo Code) cannot be reached without VS Code and are reported.
 */
export async function restoreAllJournals(homeDir: string, logger: Logger): Promise<{ restored: RestoreReport[]; unreachable: string[] }> {
  const restored: RestoreReport[] = [];
  const unreachable: string[] = [];
  for (const journalDir of await listJournalDirs(homeDir)) {
    const ctx = { journalDir, homeDir, logger };
    try {
      await reconcileJournal(ctx);
      restored.push(
        ...(await restoreFiles(ctx).catch((error: unknown) => {
          if (!(error instanceof RestoreError)) throw error;
          logger.error(error.message);
          return error.restored;
        })),
      );
      const left = await loadJournal(journalDir);
      for (const entry of left) if (entry.kind === 'setting') unreachable.push(`${entry.tool}: ${entry.keyPath.join('.')}`);
      if (left.length === 0) await unregisterJournalDir(homeDir, journalDir);
    } catch (error) {
      logger.error(`could not restore from ${journalDir}: ${(error as Error).message}`);
    }
  }
  return { restored, unreachable };
}
