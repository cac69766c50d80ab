/**
 * A data dir `isartor serve` cannot use (no permission, a read-only disk, a file in the way) said
 * in words with the fix, instead of Node's bare "EACCES: permission denied, mkdir '…'".
 */
import { isAbsolute, relative } from 'node:path';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EEXIST: 'a file is in the way of a folder',
  ENOTDIR: 'a file is in the way of a folder',
};

/** True when `path` is `dataDir`, inside it, or a folder on the way to it. */
function onTheWay(path: string, dataDir: string): boolean {
  const down = relative(path, dataDir);
  const up = relative(dataDir, path);
  return !(down.startsWith('..') || isAbsolute(down)) || !(up.startsWith('..') || isAbsolute(up));
}

/**
 * The message for a file-system error about the data dir, or undefined for any other error.
 *
 * @example dataDirProblem(eaccesFromMkdir, '/srv/isartor')
 * // "cannot use the data dir /srv/isartor: permission denied (mkdir /srv/isartor); pick another with --data-dir DIR or ISARTOR_DATA_DIR"
 */
export function dataDirProblem(error: unknown, dataDir: string): string | undefined {
  const { code, path, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = code ? REASONS[code] : undefined;
  if (!reason || typeof path !== 'string' || !onTheWay(path, dataDir)) return undefined;
  return `cannot use the data dir ${dataDir}: ${reason} (${syscall ? `${syscall} ` : ''}${path}); pick another with --data-dir DIR or ISARTOR_DATA_DIR`;
}
