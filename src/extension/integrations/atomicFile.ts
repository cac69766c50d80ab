/**
 * Crash-safe file writes for the user's tool configs: a temp file in the same folder, fsync, rename.
 * A reader (or a crash) sees either the old bytes or the new ones, never half a file.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TEMP_MARKER = '.isartor-tmp-';

export interface AtomicWriteOptions {
  /** Permission bits for a file that does not exist yet; an existing file keeps its own. */
  modeForNewFile?: number;
}

/**
 * Writes `data` to `path` atomically. An existing file keeps its permission bits, and a symlink
 * (dotfiles kept in a repository) keeps pointing where it did: the link's target is rewritten.
 *
 * @example await writeFileAtomic('/home/u/.claude/settings.json', text)
 */
export async function writeFileAtomic(path: string, data: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const existingMode = await stat(target).then((s) => s.mode & 0o7777, () => undefined);
  const mode = existingMode ?? options.modeForNewFile ?? 0o644;
  const temp = join(dirname(target), `.${basename(target)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(data);
    // open() applies the umask; chmod sets the exact bits the file had.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncFolder(dirname(target));
}

/** The file's bytes, or undefined when it does not exist. Other errors (EACCES, EISDIR) propagate. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes temp files a crash left next to `path` (they never replaced anything, so nothing is lost). */
export async function removeStaleTempFiles(path: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const prefix = `.${basename(target)}${TEMP_MARKER}`;
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(prefix)).map((name) => unlink(join(dirname(target), name)).catch(() => undefined)));
}

/** Makes the rename itself durable; some file systems refuse to open folders, which is harmless. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
