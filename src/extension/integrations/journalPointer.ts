/**
 * How the uninstall hook finds the restore journal. `vscode:uninstall` runs in plain Node after
 * VS Code removed the extension, with no `vscode` API and so no global-storage path. Every folder
 * that holds a journal is therefore listed in a small per-user file, ~/.isartor/journal-dirs.json
 * (one entry per editor flavour: VS Code, Insiders, code-server each have their own storage).
 * A folder is added before its first entry is written and removed once its journal is empty;
 * the file (and ~/.isartor, if that leaves it empty) goes when the list does.
 */
import { mkdir, rmdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './atomicFile';
import { withFileLock } from './fileLock';

/** The pointer file for a home folder. */
export function journalPointerPath(homeDir: string): string {
  return join(homeDir, '.isartor', 'journal-dirs.json');
}

/** Journal folders listed for `homeDir` (empty when there is no pointer file or it is unreadable). */
export async function listJournalDirs(homeDir: string): Promise<string[]> {
  const bytes = await readFileIfExists(journalPointerPath(homeDir));
  if (!bytes) return [];
  try {
    const dirs = (JSON.parse(bytes.toString('utf8')) as { journalDirs?: unknown }).journalDirs;
    return Array.isArray(dirs) ? dirs.filter((dir): dir is string => typeof dir === 'string') : [];
  } catch {
    return [];
  }
}

/** Adds `journalDir` to the pointer file (no-op when listed). */
export async function registerJournalDir(homeDir: string, journalDir: string): Promise<void> {
  await changeList(homeDir, (dirs) => (dirs.includes(resolve(journalDir)) ? dirs : [...dirs, resolve(journalDir)]));
}

/** Removes `journalDir` from the pointer file; deletes the file when the list becomes empty. */
export async function unregisterJournalDir(homeDir: string, journalDir: string): Promise<void> {
  await changeList(homeDir, (dirs) => dirs.filter((dir) => dir !== resolve(journalDir)));
}

async function changeList(homeDir: string, change: (dirs: string[]) => string[]): Promise<void> {
  const folder = join(homeDir, '.isartor');
  const pointer = journalPointerPath(homeDir);
  const before = await listJournalDirs(homeDir);
  const after = change(before);
  if (after.length === before.length && after.every((dir, i) => dir === before[i])) return;
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await withFileLock(`${pointer}.lock`, async () => {
    const fresh = change(await listJournalDirs(homeDir));
    if (fresh.length > 0) {
      await writeFileAtomic(pointer, `${JSON.stringify({ journalDirs: fresh }, null, 2)}\n`, { modeForNewFile: 0o600 });
    } else {
      await unlink(pointer).catch(() => undefined);
    }
  });
  // Leave no trace: the folder goes when nothing else (CLI data, other files) lives there.
  if (after.length === 0) await rmdir(folder).catch(() => undefined);
}
