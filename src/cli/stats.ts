/**
 * `isartor stats [--data-dir DIR] [--json]`: the savings ledger's aggregates, as a table or JSON.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger } from '../core/ledger';
import { defaultDataDir, UsageError } from './serve-config';
import { formatStatsTable } from './stats-table';

/** Prints the aggregates; resolves with the exit status. */
export async function statsCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { 'data-dir'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } } }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : env.ISARTOR_DATA_DIR ? resolve(env.ISARTOR_DATA_DIR) : defaultDataDir(env);
  // Read-only: a proxy may be writing the same ledger right now.
  const ledger = await openLedger(dataDir, { readOnly: true });
  try {
    const summary = ledger.summary();
    process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatStatsTable(summary, dataDir)}\n`);
  } finally {
    await ledger.close();
  }
  return 0;
}
