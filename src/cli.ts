/**
 * Entry point of the `isartor` command, bundled to dist/cli.js and run by bin/isartor.js.
 */
import { main } from './cli/main';
import { hideSecretsFromProcessList } from './cli/processTitle';

hideSecretsFromProcessList();

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`isartor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
