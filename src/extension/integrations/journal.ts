/**
 * The exact-restore journal: every change Isartor makes to a tool's settings is recorded here
 * before it is made, so Disable, a crash and the uninstall hook can all put things back.
 *
 * Layout of `journalDir` (the extension's global storage folder):
 *   journal.json        { version: 1, entries: JournalEntry[] }, rewritten atomically
 *   journal.lock        held during each read-modify-write (two windows share the folder)
 *   originals/<id>.orig the bytes a file had before Isartor's first write to it (mode 0600)
 *
 * The journal itself holds key paths and the values Isartor wrote or replaced, which are base
 * URLs and profile names, never API keys: a value Isartor wrote that carries the user's secrets
 * is kept as a digest (FileEdit.secret). The `.orig` copies hold whole files as the user had
 * them; they live only here, private to the user, and are deleted once the file is restored.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../core/canonical';
import type { JsonValue } from '../../core/request';
import { sha256 } from '../../core/request';
import { assertUserWritable, readFileIfExists, writeFileAtomic } from './atomicFile';
import type { DocumentFormat, KeyPath } from './documentEdit';
import { sameJson } from './documentEdit';
import { withFileLock } from './fileLock';
import { registerJournalDir, unregisterJournalDir } from './journalPointer';

/** Hash recorded for "the file did not exist". */
export const ABSENT = 'absent';

/** Finds a list item again after the user reordered the list, by fields that identify it. */
export interface ItemMatch {
  /** Path of the list, a prefix of the entry's keyPath; the next step of keyPath is the index. */
  listPath: KeyPath;
  fields: Record<string, JsonValue>;
}

/** One key of one file that Isartor set. Entries of one file write share `writeId`. */
export interface FileJournalEntry {
  kind: 'file';
  id: string;
  writeId: string;
  tool: string;
  file: string;
  format: DocumentFormat;
  keyPath: KeyPath;
  /** The user's value before Isartor's first change; absent when the key did not exist. */
  oldValue?: JsonValue;
  /** The value Isartor wrote; absent when only its digest is kept (`newValueSha256`). */
  newValue?: JsonValue;
  /** sha256 of the canonical JSON of the value Isartor wrote, kept instead of a value holding the user's secrets. */
  newValueSha256?: string;
  /** The outermost object Isartor had to create to hold the key (removed again when left empty). */
  createdPath?: KeyPath;
  itemMatch?: ItemMatch;
  /** sha256 of the file right before this write, or ABSENT. */
  hashBefore: string;
  /** sha256 of the bytes this write produced. */
  hashAfterWrite: string;
  /** File name under `originals/` holding the bytes before Isartor's first write (none if Isartor created the file). */
  backup?: string;
  /** Isartor created the file (and these folders, outermost first) on its first write. */
  createdFile?: boolean;
  createdDirs?: string[];
  time: string;
}

/** A setting kept by another extension's API (Roo Code's active profile), not in a file. */
export interface SettingJournalEntry {
  kind: 'setting';
  id: string;
  tool: string;
  keyPath: KeyPath;
  oldValue?: JsonValue;
  newValue: JsonValue;
  time: string;
}

export type JournalEntry = FileJournalEntry | SettingJournalEntry;

/** One key change a file write makes, as the integration computed it. */
export interface FileEdit {
  keyPath: KeyPath;
  oldValue?: JsonValue;
  newValue: JsonValue;
  /**
   * `newValue` holds the user's secrets (a provider table with its tokens and headers, copied
   * from theirs): the journal keeps only its digest, which is all a restore needs to recognise it.
   */
  secret?: boolean;
  createdPath?: KeyPath;
  itemMatch?: ItemMatch;
}

export interface JournaledWrite {
  journalDir: string;
  /** For the uninstall pointer file (~/.isartor/journal-dirs.json). */
  homeDir: string;
  tool: string;
  file: string;
  format: DocumentFormat;
  /** The bytes the edits were computed from (undefined: the file did not exist). */
  before: Buffer | undefined;
  after: string;
  edits: FileEdit[];
  /** Folders to create before a new file, outermost first (only those that do not exist). */
  createDirs?: string[];
  /** Permission bits for a new file. */
  modeForNewFile?: number;
}

/** The file changed between the integration reading it and the journal write; nothing was written. */
export class ConcurrentEditError extends Error {
  constructor(file: string) {
    super(`${file} changed while Isartor was editing it; nothing was written, try again`);
    this.name = 'ConcurrentEditError';
  }
}

export function hashOf(bytes: Buffer | string | undefined): string {
  return bytes === undefined ? ABSENT : sha256(bytes);
}

/** The journal's format; a journal of another one is never read or rewritten by this version. */
const JOURNAL_VERSION = 1;

const journalFile = (journalDir: string): string => join(journalDir, 'journal.json');
const lockFile = (journalDir: string): string => join(journalDir, 'journal.lock');
export const backupPath = (journalDir: string, name: string): string => join(journalDir, 'originals', name);

/** Every entry in the journal (empty when there is none yet). */
export async function loadJournal(journalDir: string): Promise<JournalEntry[]> {
  const bytes = await readFileIfExists(journalFile(journalDir));
  if (bytes === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Never overwrite a journal we cannot read: it may be the only way back for the user's files.
    throw new Error(`the restore journal ${journalFile(journalDir)} is not valid JSON; move it aside to continue`);
  }
  // A newer Isartor's journal (the user went back a version) may mean other things by its entries.
  const version = (parsed as { version?: unknown })?.version;
  if (version !== JOURNAL_VERSION) {
    throw new Error(`the restore journal ${journalFile(journalDir)} is of format ${JSON.stringify(version) ?? 'none'}, which this version of Isartor does not know (written by a newer one?); update Isartor to restore your settings, or move it aside to continue`);
  }
  const entries = (parsed as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new Error(`the restore journal ${journalFile(journalDir)} has no entries list`);
  return entries as JournalEntry[];
}

/**
 * Runs a read-modify-write of the journal under its lock: `change` returns the new entry list,
 * which is saved before `afterSave` runs (still under the lock, so file writes never interleave).
 */
export async function updateJournal<T>(
  journalDir: string,
  change: (entries: JournalEntry[]) => Promise<{ entries: JournalEntry[]; result: T }>,
  afterSave?: () => Promise<void>,
): Promise<T> {
  await mkdir(journalDir, { recursive: true, mode: 0o700 });
  return withFileLock(lockFile(journalDir), async () => {
    const before = await loadJournal(journalDir);
    const { entries, result } = await change(before);
    if (entries !== before) await saveJournal(journalDir, entries);
    await afterSave?.();
    return result;
  });
}

async function saveJournal(journalDir: string, entries: JournalEntry[]): Promise<void> {
  await writeFileAtomic(journalFile(journalDir), `${JSON.stringify({ version: JOURNAL_VERSION, entries }, null, 2)}\n`, { modeForNewFile: 0o600 });
}

/** Entries for one file, in the order they were written. */
export function entriesForFile(entries: JournalEntry[], file: string): FileJournalEntry[] {
  return entries.filter((entry): entry is FileJournalEntry => entry.kind === 'file' && entry.file === file);
}

/** Whether `value` is the value this entry wrote (compared by digest when only that was kept). */
export function wroteValue(entry: FileJournalEntry, value: unknown): boolean {
  if (entry.newValueSha256 !== undefined) return value !== undefined && valueDigest(value) === entry.newValueSha256;
  return sameJson(entry.newValue, value);
}

function valueDigest(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * The user's own value for a key that currently holds `current`: when `current` is one Isartor
 * wrote, the journal's oldValue (the original, not a previous Isartor URL); otherwise `current`
 * itself (the user changed it since). `found` says whether the journal knew the key.
 */
export function originalValue(
  entries: JournalEntry[],
  file: string,
  keyPath: KeyPath,
  current: JsonValue | undefined,
): { found: boolean; value: JsonValue | undefined; entry?: FileJournalEntry } {
  const mine = entriesForFile(entries, file).filter((entry) => sameJson(entry.keyPath, keyPath) && wroteValue(entry, current));
  const latest = mine.at(-1);
  return latest ? { found: true, value: latest.oldValue, entry: latest } : { found: false, value: current };
}

/**
 * Records `edits` in the journal, then writes `after` to `file` atomically. The journal is on disk
 * before the file changes, so a crash in between leaves an entry that reconcileJournal drops. A
 * write that fails takes its entries (and a backup it made) back out of the journal: an entry of
 * a write that never happened would break the chain of hashes exact restores rely on.
 */
export async function journaledWrite(write: JournaledWrite): Promise<void> {
  if (write.edits.length === 0) return;
  let undo: { entries: JournalEntry[]; backup?: string } | undefined;
  await updateJournal(write.journalDir, async (entries) => {
    const current = await readFileIfExists(write.file);
    if (hashOf(current) !== hashOf(write.before)) throw new ConcurrentEditError(write.file);
    await assertUserWritable(write.file);
    const prior = entriesForFile(entries, write.file);
    const writeId = randomBytes(8).toString('hex');
    let facts: Pick<FileJournalEntry, 'backup' | 'createdFile' | 'createdDirs'>;
    if (prior[0]) {
      facts = { backup: prior[0].backup, createdFile: prior[0].createdFile, createdDirs: prior[0].createdDirs };
    } else if (write.before === undefined) {
      facts = { createdFile: true, createdDirs: write.createDirs?.length ? write.createDirs : undefined };
    } else {
      const backup = `${writeId}.orig`;
      await mkdir(join(write.journalDir, 'originals'), { recursive: true, mode: 0o700 });
      await writeFileAtomic(backupPath(write.journalDir, backup), write.before, { modeForNewFile: 0o600 });
      facts = { backup };
    }
    const time = new Date().toISOString();
    const added = write.edits.map<FileJournalEntry>(({ secret, newValue, ...edit }) => ({
      kind: 'file',
      id: randomBytes(8).toString('hex'),
      writeId,
      tool: write.tool,
      file: write.file,
      format: write.format,
      ...edit,
      ...(secret ? { newValueSha256: valueDigest(newValue) } : { newValue }),
      hashBefore: hashOf(write.before),
      hashAfterWrite: hashOf(write.after),
      ...facts,
      time,
    }));
    undo = { entries, backup: prior[0] ? undefined : facts.backup };
    return { entries: [...entries, ...added], result: undefined };
  }, async () => {
    try {
      await registerJournalDir(write.homeDir, write.journalDir);
      for (const dir of write.createDirs ?? []) await mkdir(dir, { recursive: true });
      await writeFileAtomic(write.file, write.after, { modeForNewFile: write.modeForNewFile });
    } catch (error) {
      // Still under the journal's lock.
      await saveJournal(write.journalDir, undo!.entries);
      await deleteBackup(write.journalDir, undo!.backup);
      if (undo!.entries.length === 0) await unregisterJournalDir(write.homeDir, write.journalDir);
      // Innermost first; rmdir refuses a folder that holds anything.
      for (const dir of [...(write.createDirs ?? [])].reverse()) await rmdir(dir).catch(() => undefined);
      throw error;
    }
  });
}

/** Records a setting change (before it is made) and returns its entry. */
export async function recordSetting(
  journalDir: string,
  homeDir: string,
  setting: Pick<SettingJournalEntry, 'tool' | 'keyPath' | 'oldValue' | 'newValue'>,
): Promise<SettingJournalEntry> {
  const entry: SettingJournalEntry = { kind: 'setting', id: randomBytes(8).toString('hex'), ...setting, time: new Date().toISOString() };
  await updateJournal(journalDir, async (entries) => ({ entries: [...entries, entry], result: undefined }), () => registerJournalDir(homeDir, journalDir));
  return entry;
}

/** The setting entries of one tool. */
export async function settingEntries(journalDir: string, tool: string): Promise<SettingJournalEntry[]> {
  const entries = await loadJournal(journalDir);
  return entries.filter((entry): entry is SettingJournalEntry => entry.kind === 'setting' && entry.tool === tool);
}

/** Removes entries by id (after they were restored). */
export async function removeEntries(journalDir: string, ids: string[]): Promise<void> {
  const gone = new Set(ids);
  await updateJournal(journalDir, async (entries) => ({ entries: entries.filter((entry) => !gone.has(entry.id)), result: undefined }));
}

/** Deletes a backup copy once nothing refers to it. */
export async function deleteBackup(journalDir: string, name: string | undefined): Promise<void> {
  if (name) await unlink(backupPath(journalDir, name)).catch(() => undefined);
}
