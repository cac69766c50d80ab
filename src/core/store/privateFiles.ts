/**
 * Modes for everything Isartor writes under its data dir: prompts, answers and the ledger are
 * private to the user, as the extension's settings journal already is (700 for folders, 600 for
 * files), whatever the process umask.
 */
import { chmod, mkdir } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates one of Isartor's own folders inside the data dir (and missing parents) as 700, and
 * tightens it to 700 when it already exists looser (written by an older version at 755).
 *
 * @example await makePrivateDir(join(config.dataDir, 'exact'))
 */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * The data dir itself: created as 700 when it does not exist. An existing folder keeps its mode:
 * it is the user's choice of place (it may be /tmp or the folder they are in), and everything
 * Isartor writes inside it is private anyway (its folders 700, its files 600).
 *
 * @example await makeDataDir(config.dataDir)
 */
export async function makeDataDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // The umask may have taken bits off the mode asked for: the folder is Isartor's, so set it exactly.
  if (created !== undefined) await chmod(dir, PRIVATE_DIR_MODE);
}
