/**
 * The command line of `isartor bench overhead [--requests N] [--json]`: arguments, the tables for
 * people, and the helper processes the benchmark starts (`--child fake-upstream | pass-through`).
 */
import { BenchArgsError, integerList, parseFlags, positiveInteger } from './args';
import { startFakeUpstream } from './fakeUpstream';
import { runOverheadBench, type OverheadReport } from './overhead';
import { startPassThrough } from './passthrough';
import { formatTable } from './stats';

/** Measured requests per target and scenario when --requests is absent (sized for the 15-minute `npm run bench`). */
export const DEFAULT_OVERHEAD_REQUESTS = 1000;

export const OVERHEAD_USAGE = 'usage: isartor bench overhead [--requests N] [--concurrency 1,32,128] [--prefill N | --full-cache N] [--history-kb N] [--warmup N] [--start-warmup N] [--peers "<command with {port} {upstream}>"]... [--json]';

export interface OverheadArgs {
  requests: number;
  json: boolean;
  /** Concurrencies to measure; always includes 1 and 32 (the headline figures). */
  concurrencies: number[];
  /** Entries to put in each cache before the run. */
  prefill: number;
  /** Entries in each cache of a second proxy measured beside the first (0: none). */
  fullCache: number;
  /** Kilobytes of agent context (instructions, earlier turns) each miss resends. */
  historyKb: number;
  /** Commands of other gateways to measure beside the proxy. */
  peers: string[];
  /** Unmeasured requests each target gets before every cell (default: 200, or --requests if fewer). */
  warmup?: number;
  /** Unmeasured requests each target gets once, before the first cell (default: `defaultStartWarmup`). */
  startWarmup?: number;
  /** Internal: run one helper server of the benchmark in this process instead. */
  child?: 'fake-upstream' | 'pass-through';
  upstream?: string;
}

/**
 * Parses the flags after `bench overhead`.
 *
 * @example parseOverheadArgs(['--requests', '500', '--json']) // { requests: 500, json: true }
 */
export function parseOverheadArgs(argv: readonly string[]): OverheadArgs {
  const values = parseFlags(argv, {
    requests: { type: 'string' },
    json: { type: 'boolean' },
    concurrency: { type: 'string' },
    prefill: { type: 'string' },
    'full-cache': { type: 'string' },
    'history-kb': { type: 'string' },
    warmup: { type: 'string' },
    'start-warmup': { type: 'string' },
    peers: { type: 'string', multiple: true },
    child: { type: 'string' },
    upstream: { type: 'string' },
  });
  const extra = typeof values.concurrency === 'string' ? integerList(values.concurrency, '--concurrency') : [];
  const args: OverheadArgs = {
    requests: typeof values.requests === 'string' ? positiveInteger(values.requests, '--requests') : DEFAULT_OVERHEAD_REQUESTS,
    json: values.json === true,
    concurrencies: [...new Set([1, 32, ...extra])].sort((a, b) => a - b),
    prefill: typeof values.prefill === 'string' ? positiveInteger(values.prefill, '--prefill', 0) : 0,
    fullCache: typeof values['full-cache'] === 'string' ? positiveInteger(values['full-cache'], '--full-cache', 0) : 0,
    historyKb: typeof values['history-kb'] === 'string' ? positiveInteger(values['history-kb'], '--history-kb', 0) : 0,
    peers: Array.isArray(values.peers) ? (values.peers as string[]).filter((command) => command.trim() !== '') : [],
  };
  // The full proxy's figures are ratios over the first proxy's, which must then start empty.
  if (args.prefill > 0 && args.fullCache > 0) throw new BenchArgsError('--prefill and --full-cache cannot be combined: --full-cache compares a full proxy with an empty one');
  if (typeof values.warmup === 'string') args.warmup = positiveInteger(values.warmup, '--warmup', 0);
  const startWarmup = values['start-warmup'];
  if (typeof startWarmup === 'string') args.startWarmup = positiveInteger(startWarmup, '--start-warmup', 0);
  if (values.child !== undefined) {
    if (values.child !== 'fake-upstream' && values.child !== 'pass-through') throw new BenchArgsError(`--child must be fake-upstream or pass-through`);
    args.child = values.child;
    if (args.child === 'pass-through' && typeof values.upstream !== 'string') throw new BenchArgsError('--child pass-through needs --upstream URL');
    if (typeof values.upstream === 'string') args.upstream = values.upstream;
  }
  return args;
}

/** The report as tables for people. */
export function formatOverhead(report: OverheadReport): string {
  const ms = (value: number): string => `${value.toFixed(3)} ms`;
  const headline = formatTable(['figure', 'value'], [
    ['miss p50 added (vs direct)', ms(report.missP50AddedMs)],
    ['miss p99 added (vs direct)', ms(report.missP99AddedMs)],
    ['miss p50 added (vs pass-through)', ms(report.missP50AddedOverPassThroughMs)],
    ['stream TTFB p50 added (vs direct)', ms(report.ttfbAddedMs)],
    ['stream TTFB p50 added (vs pass-through)', ms(report.ttfbAddedOverPassThroughMs)],
    ['throughput, proxy / pass-through', Object.entries(report.throughputRatios).map(([c, r]) => `${c} ${r.toFixed(3)}x`).join(', ')],
    ['CPU per miss, proxy / pass-through (plain)', Object.entries(report.cpuRatios).map(([c, r]) => `${c} ${r.toFixed(2)}x`).join(', ')],
    ['entries in each cache before the run', String(report.prefilled)],
    ['agent context resent with each miss (KB); one miss request (bytes)', `${report.historyKb}; ${report.missRequestBytes}`],
    ['unmeasured warm-up requests per target: before the first cell; before each cell', `${report.warmupPerTarget}; ${report.warmupPerCell}`],
    ['proxy RSS after the misses (MB)', String(report.proxyRssMb)],
    ...(report.fullCache ? fullCacheRows(report.fullCache) : []),
    ['L1a hit p50 / p99', `${ms(report.hitP50Ms)} / ${ms(report.hitP99Ms)}`],
    ['proxy miss answers by layer', Object.entries(report.proxyLayers).map(([layer, n]) => `${layer} ${n}`).join(', ')],
  ]);
  const detail = formatTable(
    ['target', 'conc', 'mode', 'requests', 'p50 ms', 'p99 ms', 'ttfb p50', 'ttfb p99', 'req/s', 'cpu ms/req'],
    report.scenarios.map((s) => [s.target, s.concurrency, s.stream ? 'stream' : 'plain', s.requests, s.p50Ms, s.p99Ms, s.ttfbP50Ms, s.ttfbP99Ms, s.throughputRps, s.cpuMsPerRequest]),
  );
  const peers = report.peers.length === 0 ? '' : `\n\n${formatTable(['peer', 'command', 'throughput / pass-through', 'CPU / pass-through', 'miss p50 added'], report.peers.map((peer) => [
    peer.name, peer.command,
    Object.entries(peer.throughputRatios).map(([c, r]) => `${c} ${r.toFixed(3)}x`).join(', '),
    Object.entries(peer.cpuRatios).map(([c, r]) => `${c} ${r.toFixed(2)}x`).join(', '),
    ms(peer.missP50AddedMs),
  ]))}`;
  return `${headline}\n\n${detail}${peers}`;
}

/** The headline rows of a full-cache comparison (`--full-cache`). */
function fullCacheRows(full: NonNullable<OverheadReport['fullCache']>): string[][] {
  const ratios = (values: Record<string, number>): string => Object.entries(values).map(([c, r]) => `${c} ${r.toFixed(2)}x`).join(', ');
  return [
    [`proxyFull (${full.entries} entries in each cache) / proxy, plain miss p50`, ratios(full.p50Ratios)],
    ['proxyFull / proxy, plain miss p99', ratios(full.p99Ratios)],
    ['proxyFull / proxy, CPU per plain miss', ratios(full.cpuRatios)],
    ['proxyFull / proxy, throughput', ratios(full.throughputRatios)],
    ['proxyFull entries after the misses, by cache', Object.entries(full.entriesAfter).map(([cache, n]) => `${cache} ${n}`).join(', ')],
    ['proxyFull RSS after the misses (MB)', String(full.rssMb)],
  ];
}

/** Runs a helper server until SIGTERM; prints "bench <kind> on <url>" once it listens. */
async function runChild(kind: 'fake-upstream' | 'pass-through', upstream: string | undefined): Promise<number> {
  let close: () => Promise<void>;
  let url: string;
  if (kind === 'fake-upstream') {
    const fake = await startFakeUpstream();
    // The fake keeps every request for tests to inspect; a benchmark sends tens of thousands.
    const trim = setInterval(() => fake.reset(), 2000);
    ({ url } = fake);
    close = async () => {
      clearInterval(trim);
      await fake.close();
    };
  } else {
    const pass = await startPassThrough(upstream!);
    ({ url, close } = pass);
  }
  process.stdout.write(`bench ${kind} on ${url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await close();
  return 0;
}

/**
 * `isartor bench overhead …`: resolves with the exit status (0 once the run completed, 2 for bad
 * arguments). Prints the contract's JSON object with --json, tables otherwise.
 */
export async function benchOverheadCommand(argv: readonly string[]): Promise<number> {
  let args: OverheadArgs;
  try {
    args = parseOverheadArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchArgsError)) throw error;
    process.stderr.write(`isartor bench overhead: ${error.message}\n${OVERHEAD_USAGE}\n`);
    return 2;
  }
  if (args.child) return runChild(args.child, args.upstream);
  if (args.peers.length === 0) process.stderr.write('bench overhead: no --peers given; measuring the proxy, the pass-through and direct only\n');
  const report = await runOverheadBench({ requests: args.requests, concurrencies: args.concurrencies, prefill: args.prefill, fullCache: args.fullCache, historyKb: args.historyKb, peers: args.peers, warmup: args.warmup, startWarmup: args.startWarmup, progress: true });
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : `${formatOverhead(report)}\n`);
  return 0;
}
