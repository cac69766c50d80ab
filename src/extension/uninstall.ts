/**
 * The `vscode:uninstall` hook (bundled to dist/uninstall.js). VS Code runs it in plain Node after
 * removing the extension, without the `vscode` API, so it finds the restore journals through the
 * per-user pointer file ~/.isartor/journal-dirs.json (see integrations/journalPointer.ts) and
 * restores every file Isartor changed, exactly as Disable would.
 */
import { homedir } from 'node:os';
import { createLogger } from '../core/logger';
import { restoreAllJournals } from './integrations/restore';

/** Restores everything journaled for the current user; resolves to the process exit code. */
export async function runUninstallHook(homeDir: string = homedir()): Promise<number> {
  const logger = createLogger((line) => process.stderr.write(`${line}\n`));
  const { restored, unreachable } = await restoreAllJournals(homeDir, logger);
  logger.info(`isartor uninstall: restored ${restored.length} file(s)`);
  for (const setting of unreachable) {
    logger.warn(`isartor uninstall: ${setting} lives in another extension's storage and needs VS Code; switch that tool's profile back by hand`);
  }
  return 0;
}

if (require.main === module) {
  runUninstallHook().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`isartor uninstall failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
