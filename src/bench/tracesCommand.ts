/**
 * The command line of `isartor bench traces --dir DIR [--limit N] [--api openai|anthropic] --json`:
 * argument checks (exit 2 on bad arguments or an unreadable folder), a progress bar on stderr, and
 * either the contract's JSON object or a table for people.
 */
import { stat } from 'node:fs/promises';
import { runTracesBench } from './traces';
import type { TracesApi, TracesReport } from './traces';
import { UnreadableTrajectoryError, listTrajectoryFiles } from './trajectories';

export interface TracesArgs {
  dir: string;
  limit?: number;
  api: TracesApi;
  json: boolean;
}

/** A bad argument or an unreadable input; the command exits with status 2. */
export class TracesUsageError extends Error {}

/**
 * Parses the arguments after `bench traces`.
 *
 * @example parseTracesArgs(['--dir', 'traces', '--api', 'anthropic', '--json']) // { dir: 'traces', api: 'anthropic', json: true }
 */
export function parseTracesArgs(argv: readonly string[]): TracesArgs {
  const args: Partial<TracesArgs> & { json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new TracesUsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--dir') args.dir = value();
    else if (flag === '--limit') {
      const raw = value();
      const limit = Number(raw);
      if (!Number.isInteger(limit) || limit < 1) throw new TracesUsageError(`--limit needs a whole number of at least 1, not "${raw}"`);
      args.limit = limit;
    } else if (flag === '--api') {
      const api = value();
      if (api !== 'openai' && api !== 'anthropic') throw new TracesUsageError(`--api must be openai or anthropic, not "${api}"`);
      args.api = api;
    } else throw new TracesUsageError(`unknown option "${flag}"`);
  }
  if (!args.dir) throw new TracesUsageError('--dir DIR is required');
  return { dir: args.dir, limit: args.limit, api: args.api ?? 'openai', json: args.json };
}

function table(report: TracesReport, api: TracesApi): string {
  const saved = report.billedInputTokens.original > 0 ? 1 - report.billedInputTokens.forwarded / report.billedInputTokens.original : 0;
  const rows: Array<[string, string]> = [
    ['api', api],
    ['trajectories', String(report.trajectories)],
    ['requests', String(report.requests)],
    ['deflected l1a / l1b / l2', `${report.deflected.l1a} / ${report.deflected.l1b} / ${report.deflected.l2}`],
    ['false hits', String(report.falseHits)],
    ['input tokens (client)', report.inputTokens.toLocaleString('en-US')],
    ['input tokens forwarded', report.forwardedInputTokens.toLocaleString('en-US')],
    ['billed input, forwarded unchanged', report.billedInputTokens.original.toLocaleString('en-US')],
    ['billed input, through Isartor', `${report.billedInputTokens.forwarded.toLocaleString('en-US')} (${(saved * 100).toFixed(1)}% less)`],
    ['prefix-stable ratio', report.prefixStableRatio === null ? 'n/a' : report.prefixStableRatio.toFixed(4)],
    ['latency p50 / p99', `${report.p50Ms.toFixed(1)} ms / ${report.p99Ms.toFixed(1)} ms`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

function progressBar(done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} trajectories${done === total ? '\n' : ''}`);
}

/** `isartor bench traces …`: resolves with the exit status (0 once the run completed, 2 for bad input). */
export async function benchTracesCommand(argv: string[]): Promise<number> {
  let args: TracesArgs;
  try {
    args = parseTracesArgs(argv);
    if (!(await stat(args.dir).catch(() => undefined))?.isDirectory()) throw new TracesUsageError(`cannot read folder "${args.dir}"`);
    if ((await listTrajectoryFiles(args.dir)).length === 0) throw new TracesUsageError(`no *.traj.json.gz files under "${args.dir}"`);
  } catch (error) {
    if (!(error instanceof TracesUsageError)) throw error;
    process.stderr.write(`isartor bench traces: ${error.message}\n`);
    return 2;
  }
  let report: TracesReport;
  try {
    report = await runTracesBench({ dir: args.dir, limit: args.limit, api: args.api, onProgress: progressBar });
  } catch (error) {
    if (!(error instanceof UnreadableTrajectoryError)) throw error;
    process.stderr.write(`isartor bench traces: unreadable trajectory ${error.message}\n`);
    return 2;
  }
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : `${table(report, args.api)}\n`);
  return 0;
}
