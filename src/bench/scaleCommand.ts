/**
 * The command line of `isartor bench scale [--entries 10000,100000] [--json]`: arguments, the
 * table for people, and the fill child the benchmark starts (`--child fill`).
 */
import { resolve } from 'node:path';
import { BenchArgsError, integerList, parseFlags, positiveInteger } from './args';
import { runScaleBench, SCALE_LAYOUT, type ScaleReport } from './scale';
import { runScaleFill } from './scaleFill';
import { formatTable } from './stats';

/** Cache sizes measured when --entries is absent (issue 8's targets are stated at 100k). */
export const DEFAULT_SCALE_ENTRIES = [10_000, 100_000];

export const SCALE_USAGE = 'usage: isartor bench scale [--entries 10000,100000] [--json]';

export interface ScaleArgs {
  entries: number[];
  json: boolean;
  /** Internal: fill one data dir in this process and print the measurements. */
  child?: { entries: number; dataDir: string };
}

/**
 * Parses the flags after `bench scale`.
 *
 * @example parseScaleArgs(['--entries', '500,2000', '--json']) // { entries: [500, 2000], json: true }
 */
export function parseScaleArgs(argv: readonly string[]): ScaleArgs {
  const values = parseFlags(argv, { entries: { type: 'string' }, json: { type: 'boolean' }, child: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (values.child !== undefined) {
    if (values.child !== 'fill') throw new BenchArgsError('--child must be fill');
    if (typeof values['data-dir'] !== 'string' || typeof values.entries !== 'string') throw new BenchArgsError('--child fill needs --entries N and --data-dir DIR');
    return { entries: [], json: true, child: { entries: positiveInteger(values.entries, '--entries'), dataDir: resolve(values['data-dir']) } };
  }
  return {
    entries: typeof values.entries === 'string' ? integerList(values.entries, '--entries') : DEFAULT_SCALE_ENTRIES,
    json: values.json === true,
  };
}

/** The report as a table for people: one column per cache size. */
export function formatScale(report: ScaleReport): string {
  const ms = (summary: { p50Ms: number; p99Ms: number }): string => `${summary.p50Ms} / ${summary.p99Ms}`;
  const rows: Array<[string, (run: ScaleReport['sizes'][number]) => string]> = [
    ['L1a lookup hit p50 / p99 ms', (r) => ms(r.exact.hit)],
    ['L1a lookup miss p50 / p99 ms', (r) => ms(r.exact.miss)],
    ['L1a hits found / tried', (r) => `${r.exact.hit.found} / ${r.exact.hit.count}`],
    ['L1a inserts per second', (r) => String(r.exact.insertsPerSecond)],
    ['L1a on disk MB', (r) => String(r.exact.diskMb)],
    [`L1b lookup hit p50 / p99 ms`, (r) => ms(r.semantic.hit)],
    ['L1b lookup miss p50 / p99 ms', (r) => ms(r.semantic.miss)],
    ['L1b hits found / tried (retyped)', (r) => `${r.semantic.hit.found} / ${r.semantic.hit.count}`],
    ['L1b false finds on unseen questions', (r) => String(r.semantic.miss.found)],
    ['L1b inserts per second', (r) => String(r.semantic.insertsPerSecond)],
    ['L1b on disk MB', (r) => String(r.semantic.diskMb)],
    ['RSS, both caches filled (MB)', (r) => `${r.rssMb} (process before caches: ${r.baselineRssMb})`],
    ['serve: ready / healthz / first hit ms', (r) => `${r.startup.readyMs} / ${r.startup.healthzMs} / ${r.startup.firstHitMs} (${r.startup.firstHitLayer})`],
    ['serve: RSS after first hit (MB)', (r) => String(r.startup.serveRssMb ?? 'n/a')],
  ];
  return formatTable(['entries', ...report.sizes.map((run) => run.entries.toLocaleString('en-US'))], rows.map(([name, cell]) => [name, ...report.sizes.map(cell)]));
}

/**
 * `isartor bench scale …`: resolves with the exit status (0 once the run completed, 2 for bad
 * arguments). Prints one JSON object with --json, a table otherwise.
 */
export async function benchScaleCommand(argv: readonly string[]): Promise<number> {
  let args: ScaleArgs;
  try {
    args = parseScaleArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchArgsError)) throw error;
    process.stderr.write(`isartor bench scale: ${error.message}\n${SCALE_USAGE}\n`);
    return 2;
  }
  if (args.child) {
    const report = await runScaleFill(args.child.entries, args.child.dataDir, SCALE_LAYOUT);
    process.stdout.write(`bench scale fill ${JSON.stringify(report)}\n`);
    return 0;
  }
  const report = await runScaleBench(args.entries);
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : `${formatScale(report)}\n`);
  return 0;
}
