/**
 * Keeps secrets on the command line out of the process list: `ps` shows every user each process's
 * arguments, and `--store rediss://user:password@…` or an upstream URL with a password (both as
 * the README shows them) would hand those to anyone logged in on the same machine.
 */
import { redactSecrets } from '../core/logger';

/**
 * Rewrites the process title to the command line with its secrets redacted, when it has any. On
 * Linux and macOS Node writes the title over the arguments' own memory, which is what `ps` and
 * /proc/<pid>/cmdline read; a title longer than the original is cut at its length.
 *
 * @example hideSecretsFromProcessList(); // ps: "node isartor serve --store redis://u:***@host"
 */
export function hideSecretsFromProcessList(argv: readonly string[] = process.argv): void {
  const shown = [process.argv0, ...argv.slice(1)];
  const redacted = shown.map(redactSecrets);
  if (redacted.every((arg, index) => arg === shown[index])) return;
  process.title = redacted.join(' ');
}
