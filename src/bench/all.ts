/**
 * `isartor bench all` (what `npm run bench` runs): pairs on qqp-dev.jsonl, traces through the
 * OpenAI and the Anthropic API, overhead and scale, each as the exact `isartor bench …` command a
 * reader can rerun; then writes bench/results/latest.json and latest.md with the machine's details.
 */
import { stat, mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { judgeTargets, machineInfo, renderMarkdown, type BenchResults, type StepRecord } from './allReport';
import { BenchArgsError, integerList, parseFlags, positiveInteger } from './args';
import { benchChildEnv, packageRoot, spawnCli } from './children';
import { DEFAULT_OVERHEAD_REQUESTS } from './overheadCommand';
import type { OverheadReport } from './overhead';
import type { PairsReport } from './pairs';
import type { ScaleReport } from './scale';
import { DEFAULT_SCALE_ENTRIES } from './scaleCommand';
import type { TracesReport } from './traces';

/** The full-cache step measures this many times `--requests` per cell (see runAllBench). */
export const FULL_CACHE_REQUEST_FACTOR = 4;

export const ALL_USAGE = 'usage: isartor bench all [--eval-dir DIR] [--out DIR] [--requests N] [--entries 10000,100000] [--traces-limit N] [--json]';

export interface AllArgs {
  /** Folder with qqp-dev.jsonl and agent-traces/ (default: ../shared/eval beside the repository). */
  evalDir: string;
  /** Where latest.json and latest.md go (default: bench/results in the repository). */
  outDir: string;
  requests: number;
  entries: number[];
  tracesLimit?: number;
  json: boolean;
}

/**
 * Parses the flags after `bench all`; relative folders are taken from the current directory.
 *
 * @example parseAllArgs(['--eval-dir', '/data/eval'], '/repo').evalDir // "/data/eval"
 */
export function parseAllArgs(argv: readonly string[], root: string): AllArgs {
  const values = parseFlags(argv, {
    'eval-dir': { type: 'string' }, out: { type: 'string' }, requests: { type: 'string' }, entries: { type: 'string' },
    'traces-limit': { type: 'string' }, json: { type: 'boolean' },
  });
  const args: AllArgs = {
    evalDir: typeof values['eval-dir'] === 'string' ? resolve(values['eval-dir']) : resolve(root, '..', 'shared', 'eval'),
    outDir: typeof values.out === 'string' ? resolve(values.out) : join(root, 'bench', 'results'),
    requests: typeof values.requests === 'string' ? positiveInteger(values.requests, '--requests') : DEFAULT_OVERHEAD_REQUESTS,
    entries: typeof values.entries === 'string' ? integerList(values.entries, '--entries') : DEFAULT_SCALE_ENTRIES,
    json: values.json === true,
  };
  if (typeof values['traces-limit'] === 'string') args.tracesLimit = positiveInteger(values['traces-limit'], '--traces-limit');
  return args;
}

/** Fails with a BenchArgsError unless the evaluation data is where the run expects it. */
async function checkEvalDir(evalDir: string): Promise<void> {
  const file = await stat(join(evalDir, 'qqp-dev.jsonl')).catch(() => undefined);
  if (!file?.isFile()) throw new BenchArgsError(`cannot read ${join(evalDir, 'qqp-dev.jsonl')} (point --eval-dir at the folder holding it; ../shared/eval/README.md names each data set's public source)`);
  const traces = await stat(join(evalDir, 'agent-traces')).catch(() => undefined);
  if (!traces?.isDirectory()) throw new BenchArgsError(`cannot read the folder ${join(evalDir, 'agent-traces')}`);
}

/**
 * Runs `isartor <args>` in the repository root and parses the JSON line it prints. With `quiet`
 * its stderr is kept and shown only if it fails (for steps that run side by side).
 */
async function runStep<T>(name: string, args: string[], root: string, quiet = false): Promise<[T, StepRecord]> {
  const command = `node bin/isartor.js ${args.join(' ')}`;
  process.stderr.write(`== ${name}: ${command}\n`);
  const started = performance.now();
  const child = await spawnCli(args, /^(\{.*\})$/, { cwd: root, env: benchChildEnv(), stderr: quiet ? 'collect' : 'inherit' });
  const status = await child.exited;
  if (status !== 0) throw new Error(`${command} exited with status ${status}${quiet ? `:\n${child.stderrText().slice(-2000)}` : ''}`);
  return [JSON.parse(child.ready[1]!) as T, { name, command, seconds: (performance.now() - started) / 1000 }];
}

/**
 * Runs every mode and writes the result files; resolves with the results.
 *
 * @example const results = await runAllBench(parseAllArgs([], packageRoot()));
 */
export async function runAllBench(args: AllArgs): Promise<BenchResults> {
  const root = packageRoot();
  await checkEvalDir(args.evalDir);
  const machine = machineInfo();
  const started = performance.now();
  // Relative to the repository when inside its parent, so the recorded commands work on any checkout.
  const evalDir = relative(root, args.evalDir).startsWith('../..') ? args.evalDir : relative(root, args.evalDir);
  const limit = args.tracesLimit === undefined ? [] : ['--limit', String(args.tracesLimit)];
  const [pairs, pairsStep] = await runStep<PairsReport>('pairs', ['bench', 'pairs', '--file', join(evalDir, 'qqp-dev.jsonl'), '--embedder', 'lexical', '--json'], root);
  const traceArgs = (api: string): string[] => ['bench', 'traces', '--dir', join(evalDir, 'agent-traces'), '--api', api, ...limit, '--json'];
  // The two replays are single-threaded and their main figures are counts, not timings: they share
  // the machine's cores. Overhead and scale, which time things, run alone afterwards.
  const [[openai, openaiStep], [anthropic, anthropicStep]] = await Promise.all([
    runStep<TracesReport>('traces (OpenAI)', traceArgs('openai'), root, true),
    runStep<TracesReport>('traces (Anthropic)', traceArgs('anthropic'), root, true),
  ]);
  const overheadArgs = ['bench', 'overhead', '--requests', String(args.requests)];
  const [overhead, overheadStep] = await runStep<OverheadReport>('overhead', [...overheadArgs, '--concurrency', '1,32,128', '--json'], root);
  // Issue 15: a second proxy on caches as full as the largest size below takes its turn in the same
  // rounds as an empty one, so the full-cache miss p99 is a ratio within one run. Four times the
  // requests: a cell's p99 is then its 40th slowest miss, not its 10th, which one stray pause moves.
  const fullSize = Math.max(...args.entries);
  const fullArgs = ['bench', 'overhead', '--requests', String(FULL_CACHE_REQUEST_FACTOR * args.requests), '--full-cache', String(fullSize), '--json'];
  const [overheadFull, overheadFullStep] = await runStep<OverheadReport>('overhead, full caches', fullArgs, root);
  const [scale, scaleStep] = await runStep<ScaleReport>('scale', ['bench', 'scale', '--entries', args.entries.join(','), '--json'], root);
  const steps: StepRecord[] = [pairsStep, openaiStep, anthropicStep, overheadStep, overheadFullStep, scaleStep];
  const partial = {
    generatedAt: new Date().toISOString(), machine, steps, totalSeconds: (performance.now() - started) / 1000,
    pairs, traces: { openai, anthropic }, overhead, overheadFull, scale,
  };
  const results: BenchResults = { ...partial, targets: judgeTargets(partial) };
  await mkdir(args.outDir, { recursive: true });
  await writeFile(join(args.outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(args.outDir, 'latest.md'), renderMarkdown(results));
  return results;
}

/**
 * `isartor bench all …`: resolves with the exit status (0 once the run completed and the files are
 * written, 2 for bad arguments or missing evaluation data).
 */
export async function benchAllCommand(argv: readonly string[]): Promise<number> {
  let args: AllArgs;
  try {
    const root = packageRoot();
    args = parseAllArgs(argv, root);
    await checkEvalDir(args.evalDir);
  } catch (error) {
    if (!(error instanceof BenchArgsError)) throw error;
    process.stderr.write(`isartor bench all: ${error.message}\n${ALL_USAGE}\n`);
    return 2;
  }
  const results = await runAllBench(args);
  process.stdout.write(args.json ? `${JSON.stringify(results)}\n` : `${renderMarkdown(results)}\nwritten to ${join(args.outDir, 'latest.json')} and latest.md\n`);
  return 0;
}
