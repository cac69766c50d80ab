/**
 * `isartor stats [--data-dir DIR] [--json]`: the savings ledger's aggregates, as a table or JSON.
 * `isartor stats --store redis://…`: the team's totals, summed over every replica on that Redis.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger } from '../core/ledger';
import { defaultConfig } from '../core/config';
import { createLogger } from '../core/logger';
import { openSharedRedis } from '../core/store/redisConnection';
import { openTeamLedger, type TeamTotals } from '../core/store/redisLedger';
import { storeUrlProblem } from '../core/store/redisUrl';
import { defaultDataDir, UsageError } from './serve-config';
import { formatStatsTable } from './stats-table';
import { answeredRequests, formatUsd, formatUsdEstimated, moneyNotes } from '../shared/format';

/** Prints the aggregates; resolves with the exit status. */
export async function statsCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { 'data-dir'?: string; json?: boolean; store?: string; namespace?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, store: { type: 'string' }, namespace: { type: 'string' } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  // --data-dir asks for a local ledger, so it wins over a store URL that is only in the environment.
  const storeUrl = values.store ?? (values['data-dir'] === undefined ? env.ISARTOR_STORE_URL : undefined);
  if (storeUrl) return teamStats(storeUrl, values.namespace ?? 'isartor', values.json === true);
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : env.ISARTOR_DATA_DIR ? resolve(env.ISARTOR_DATA_DIR) : defaultDataDir(env);
  // A data dir that does not exist is most likely a typo: say so rather than print zeros silently.
  if (!existsSync(dataDir)) process.stderr.write(`isartor: no data dir at ${dataDir}, so nothing was recorded there; \`isartor serve\` prints the one it uses\n`);
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

/** Prints the team totals kept on the shared Redis; exit 1 when it cannot be read. */
async function teamStats(url: string, namespace: string, json: boolean): Promise<number> {
  const problem = storeUrlProblem(url);
  if (problem) throw new UsageError(`--store ${problem}`);
  const logger = createLogger((line) => process.stderr.write(`${line}\n`), 'warn');
  // A reader, not a proxy: a longer budget than a request gets.
  const shared = await openSharedRedis({ ...defaultConfig('').store!, url, namespace, timeoutMs: 2000 }, logger);
  try {
    const team = await openTeamLedger(shared).read();
    if (!team) {
      process.stderr.write(`isartor: could not read the team ledger from ${shared.status().url}\n`);
      return 1;
    }
    // A namespace with nothing in it is most likely a typo: say so rather than print zeros silently.
    if (team.warning) process.stderr.write(`isartor: ${team.warning}\n`);
    process.stdout.write(json ? `${JSON.stringify(team, null, 2)}\n` : `${formatTeam(team, shared.status().url, namespace)}\n`);
    return 0;
  } finally {
    await shared.close();
  }
}

function formatTeam(team: TeamTotals, url: string, namespace: string): string {
  const { totals } = team;
  const lines = [
    `Team totals on ${url} (namespace "${namespace}"): ${totals.deflected} of ${answeredRequests(totals)} answered requests served without the cloud, ${formatUsdEstimated(totals.savedUsd, totals)} and ${totals.savedTokens} tokens saved, ${formatUsd(totals.spentUsd ?? 0)} spent in the cloud`,
    ...moneyNotes(totals).map((note) => `  note: ${note}`),
  ];
  for (const [layer, row] of Object.entries(team.byLayer).sort()) {
    const unknown = (row.spentMissing ?? 0) > 0 ? ` (unknown for ${row.spentMissing})` : '';
    lines.push(`  ${layer.padEnd(8)} ${String(row.requests).padStart(8)} requests  ${formatUsd(row.savedUsd)} saved  ${formatUsd(row.spentUsd ?? 0)} spent${unknown}`);
  }
  return lines.join('\n');
}
