/**
 * Removes temporary files a killed process left behind: a `kill -9` mid-save leaves
 * `vectors.f32.<pid>.tmp` (snapshots write through `<file>.<pid>.tmp`) or a lock draft
 * `<name>.lock.<pid>.<8 hex>`. Only files of processes that no longer run are touched.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessRunning } from '../processAlive';

const TEMPORARY = /\.(\d+)\.tmp$|\.lock\.(\d+)\.[0-9a-f]{8}$/;

/**
 * Deletes the temporaries of dead processes in `dir` (not below it); returns how many went.
 *
 * @example await removeStaleTemporaries(indexDir) // 1 after a kill -9 mid-snapshot
 */
export async function removeStaleTemporaries(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match) continue;
    const pid = Number(match[1] ?? match[2]);
    if (pid === process.pid || isProcessRunning(pid)) continue;
    await unlink(join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}
