/**
 * Crash-safe file writes for the user's tool configs: a temp file in the same folder, fsync, rename.
 * A reader (or a crash) sees either the old bytes or the new ones, never half a file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { access, lstat, open, readdir, readFile, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncFolder } from '../../core/store/durableReplace';

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
  const target = await writeTarget(path);
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

/** The user's file cannot take Isartor's change without overriding something the user set up. */
export class UnwritableFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwritableFileError';
  }
}

/**
 * The path a write must replace: the file itself, or the file a symlink points at. A link to a
 * missing file is refused: replacing the link with a plain file would lose it, and a later restore
 * would then delete the file Isartor created.
 */
async function writeTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const link = await lstat(path).catch(() => undefined);
    if (link?.isSymbolicLink()) {
      throw new UnwritableFileError(`${path} is a symbolic link to a missing file (${await readlink(path)}); Isartor leaves it alone`);
    }
    return path;
  }
}

/**
 * Throws UnwritableFileError when Isartor should not write the user's `path` at all: a symlink to
 * a missing file, or a file the user made read-only. A rename would replace such a file anyway
 * (and root passes every permission check), so the mode bits are read as the user's intent.
 */
export async function assertUserWritable(path: string): Promise<void> {
  const target = await writeTarget(path);
  const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return;
  const writable = (info.mode & 0o222) !== 0 && (await access(target, constants.W_OK).then(() => true, () => false));
  if (!writable) throw new UnwritableFileError(`${path} is read-only; Isartor leaves it alone (make it writable to connect)`);
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

/** The calls writeFileAtomicSync makes: node's own, or (in a test) the same calls, recorded on their way through. */
export interface SyncFiles {
  openSync(path: string, flags: string | number, mode?: number): number;
  writeFileSync(fd: number, data: string | Buffer): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

const NODE_SYNC_FILES: SyncFiles = { openSync, writeFileSync, fsyncSync, closeSync, renameSync, unlinkSync };

/**
 * writeFileAtomic for a caller that cannot await (VS Code's deactivate): the same temp file,
 * fsync, rename and folder fsync, on the calling thread. For small files only: it blocks.
 *
 * @example writeFileAtomicSync(join(journalDir, 'tools.json'), text, 0o600)
 */
export function writeFileAtomicSync(path: string, data: string | Buffer, mode: number, files: SyncFiles = NODE_SYNC_FILES): void {
  const temp = join(dirname(path), `.${basename(path)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
  const fd = files.openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      files.writeFileSync(fd, data);
      files.fsyncSync(fd);
    } finally {
      files.closeSync(fd);
    }
    files.renameSync(temp, path);
  } catch (error) {
    try {
      files.unlinkSync(temp);
    } catch {
      // Already renamed or never written.
    }
    throw error;
  }
  syncFolderSync(dirname(path), files);
}

/** Makes the rename itself durable; some file systems refuse to open or fsync folders, which is harmless. */
function syncFolderSync(folder: string, files: SyncFiles): void {
  let fd: number;
  try {
    fd = files.openSync(folder, 'r');
  } catch {
    return;
  }
  try {
    files.fsyncSync(fd);
  } catch {
    // No folder fsync here: the rename is all there is.
  } finally {
    files.closeSync(fd);
  }
}
