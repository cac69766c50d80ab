/** File helpers for the e2e tests: wait for a file another process writes, without fixed sleeps. */
import { existsSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/** Resolves once `file` exists, watching its folder; rejects after `timeoutMs`. */
export async function waitForFile(file: string, timeoutMs = 60_000): Promise<void> {
  if (existsSync(file)) return;
  await new Promise<void>((resolve, reject) => {
    const watcher = watch(dirname(file), () => {
      if (existsSync(file)) finish();
    });
    const timer = setTimeout(() => finish(new Error(`${file} did not appear within ${timeoutMs} ms`)), timeoutMs);
    function finish(error?: Error): void {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    }
    // The file may have appeared between the first check and the watch starting.
    if (existsSync(file)) finish();
  });
}
