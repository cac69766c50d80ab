/**
 * Modes for everything Isartor writes under its data dir: prompts, answers and the ledger are
 * private to the user, as the extension's settings journal already is (700 for folders, 600 for
 * files), whatever the process umask.
 */
import { chmod, mkdir } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) as 700, and tightens it to 700 when it already exists
 * looser (a data dir written by an older version at 755).
 *
 * @example await makePrivateDir(config.dataDir)
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}
