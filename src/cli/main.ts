/**
 * Dispatches an `isartor` command line to `serve`, `stats`, `model` or `bench`; importable by tests.
 */
import { benchCommand } from './bench';
import { modelCommand } from './model';
import { serveCommand } from './serve';
import { UsageError } from './serve-config';
import { statsCommand } from './stats';

const USAGE = `usage: isartor <command> [options]

  serve   [--port N] [--host H] [--data-dir DIR] [--upstream URL] [--anthropic-upstream URL] [--config FILE] [--store redis://HOST:PORT]
          Run the proxy in the foreground (keys from OPENAI_API_KEY, ANTHROPIC_API_KEY,
          AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT; ISARTOR_PORT, ISARTOR_DATA_DIR, ISARTOR_CONFIG).
          --allow-origin ORIGIN (repeatable) lets browser pages from ORIGIN call it; all others get 403.
  stats   [--data-dir DIR] [--json] | --store redis://HOST:PORT [--namespace NS] [--json]
          Show what the proxy saved, by layer, tool, model and day.
  model   download [--data-dir DIR] [--config FILE]
          Download the recommended local (L2) model into the data dir, with progress; Ctrl-C cancels.
          ISARTOR_MODEL_URL + ISARTOR_MODEL_SHA256 fetch the same file from a mirror instead.
  model   download --embedder [--model ID] [--data-dir DIR] [--config FILE]
          Download a sentence-embedding model for the L1b semantic cache (default
          Xenova/all-MiniLM-L6-v2); HF_ENDPOINT names a Hugging Face mirror.
  model   status [--data-dir DIR] [--config FILE] [--json]
          Show which local model the L2 layer and which embedder the L1b layer would use.
  bench   pairs | traces | overhead ...
          Measure the caches and the proxy (see DESIGN.md).`;

/** Runs one command line; resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest);
      case 'stats':
        return await statsCommand(rest);
      case 'model':
        return await modelCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        process.stderr.write(`${command === undefined ? 'isartor: no command given' : `isartor: unknown command "${command}"`}\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`isartor ${command}: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`isartor ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

