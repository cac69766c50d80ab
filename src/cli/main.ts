/**
 * Dispatches an `isartor` command line to `serve`, `stats`, `model` or `bench`; importable by tests.
 */
import { redactSecrets } from '../core/logger';
import { COMMAND_HELP, packageVersion, USAGE, wantsHelp } from './help';
import { UsageError } from './serve-config';

// Each command is imported when it runs: in the bundle a dynamic import initialises a module on
// first use, so `serve` does not pay at start-up for the model download's progress bars or the
// stats table (nor `--version` for any of them).
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: async (argv) => (await import('./serve')).serveCommand(argv),
  stats: async (argv) => (await import('./stats')).statsCommand(argv),
  model: async (argv) => (await import('./model')).modelCommand(argv),
  bench: async (argv) => (await import('./bench')).benchCommand(argv),
};

/** Runs one command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (command === undefined) {
    process.stderr.write(`isartor: no command given\n${USAGE}\n`);
    return 2;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const asked = command === 'help' ? rest[0] : undefined;
    if (asked !== undefined && !Object.hasOwn(COMMAND_HELP, asked)) {
      process.stderr.write(`isartor: unknown command "${asked}"\n${USAGE}\n`);
      return 2;
    }
    process.stdout.write(`${asked === undefined ? USAGE : COMMAND_HELP[asked]}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`isartor: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`${COMMAND_HELP[command]}\n`);
    return 0;
  }
  try {
    return await run(rest);
  } catch (error) {
    // A message may quote what the user typed: a URL's password or a key stays out of the terminal's scrollback.
    if (error instanceof UsageError) {
      process.stderr.write(`isartor ${command}: ${redactSecrets(error.message)}\n${COMMAND_HELP[command]}\n`);
      return 2;
    }
    process.stderr.write(`isartor ${command}: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
}
