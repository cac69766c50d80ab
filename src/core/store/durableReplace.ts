/**
 * Replacing a file through a temporary one so that a power cut leaves the old bytes or the new
 * ones: write the temporary, fsync it, rename it over the file, fsync the folder. Without the
 * first fsync ext4 (delayed allocation) may commit the rename before the data, and the file comes
 * back empty or zeroed; without the second the rename itself may be lost.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PRIVATE_FILE_MODE } from './privateFiles';

/** The calls a replace makes: node's own, or (in a test) the same calls, recorded on their way through. */
export interface ReplaceFiles {
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
}

export const NODE_FILES: ReplaceFiles = { open, rename };

export interface ReplaceOptions {
  files?: ReplaceFiles;
  /** Runs after the temporary is on disk and before the rename (to close a handle on the old file). */
  beforeRename?: () => Promise<void>;
}

/**
 * Writes `path` anew through `<path>.<pid>.tmp` (which removeStaleTemporaries clears after a
 * crash): `write` fills the temporary; returns what `write` returned.
 *
 * @example await replaceDurably(join(dir, 'index.json'), (draft) => draft.writeFile(text))
 */
export async function replaceDurably<T>(path: string, write: (draft: FileHandle) => Promise<T>, options: ReplaceOptions = {}): Promise<T> {
  const files = options.files ?? NODE_FILES;
  const temporary = `${path}.${process.pid}.tmp`;
  const draft = await files.open(temporary, 'w', PRIVATE_FILE_MODE);
  let result: T;
  try {
    result = await write(draft);
    await draft.datasync();
  } finally {
    await draft.close();
  }
  await options.beforeRename?.();
  await files.rename(temporary, path);
  await syncFolder(dirname(path), files);
  return result;
}

/**
 * Fsyncs a file written by someone else (a library that saves to a path) before it is renamed.
 *
 * @example graph.save(temporary); await syncFile(temporary); await rename(temporary, path)
 */
export async function syncFile(path: string, files: ReplaceFiles = NODE_FILES): Promise<void> {
  const handle = await files.open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a rename in `folder` durable. Best effort: Windows and some file systems cannot open or
 * fsync a folder, and there the rename is all there is.
 */
export async function syncFolder(folder: string, files: ReplaceFiles = NODE_FILES): Promise<void> {
  const handle = await files.open(folder, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL / EISDIR on file systems without folder fsync: nothing more to do.
  } finally {
    await handle.close();
  }
}
