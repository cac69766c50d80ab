/**
 * `isartor bench pairs`: precision and recall of the L1b cache (embedder + index + safety gates)
 * on a file of labelled question pairs, exactly as DESIGN.md's command-line contract defines them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../core/embed/embedder';
import { createEmbedder, type EmbedderChoice } from '../core/embed/select';
import { silentLogger, type Logger } from '../core/logger';
import { ZERO_USAGE } from '../core/outcome';
import { canonicalJson } from '../core/canonical';
import { SemanticCache } from '../core/semantic/cache';
import { openEmbeddedStore } from '../core/store/embedded';

export interface LabelledPair {
  text_a: string;
  text_b: string;
  label: 0 | 1;
}

export interface PairsReport {
  pairs: number;
  positives: number;
  hits: number;
  trueHits: number;
  falseHits: number;
  unjudgedHits: number;
  precision: number;
  /** Wilson score interval (95%) of `precision`. */
  precisionCi95: [number, number];
  recall: number;
  /** True hits whose asked text differs from the stored one as the exact cache (L1a) sees it: what L1b adds. */
  nontrivialHits: number;
  /** Non-trivial true hits on label-1 pairs / `positives`. */
  nontrivialRecall: number;
  threshold: number;
  embedder: string;
  lookupP50Ms: number;
  lookupP99Ms: number;
}

/** Thrown for arguments or input the command cannot use; the CLI exits with status 2. */
export class BenchUsageError extends Error {}

/** Case and whitespace folding, as the contract defines "equal". */
export function foldText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Parses a JSONL file of pairs; any malformed line is a usage error naming the line. */
export function parsePairs(jsonl: string, source = 'input'): LabelledPair[] {
  const pairs: LabelledPair[] = [];
  jsonl.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new BenchUsageError(`${source}:${i + 1}: not valid JSON`);
    }
    const { text_a, text_b, label } = (row ?? {}) as Record<string, unknown>;
    if (typeof text_a !== 'string' || typeof text_b !== 'string' || (label !== 0 && label !== 1)) {
      throw new BenchUsageError(`${source}:${i + 1}: expected {"text_a": string, "text_b": string, "label": 0 | 1}`);
    }
    pairs.push({ text_a, text_b, label });
  });
  return pairs;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

/**
 * Wilson score interval for `successes` of `trials` at 95% (z = 1.96); [0, 1] without trials.
 *
 * @example wilsonInterval(99, 100) // [0.9455, 0.9982]
 */
export function wilsonInterval(successes: number, trials: number, z = 1.96): [number, number] {
  if (trials === 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return [round(Math.max(0, centre - half)), round(Math.min(1, centre + half))];
}

/**
 * The last turn as the exact cache keys it: L1a hashes the canonical JSON of the request, which
 * keeps a string's every byte, so two turns are the same to it only when they are identical.
 */
const exactCacheForm = (text: string): string => canonicalJson(text);

/**
 * Loads every distinct `text_a` into one fresh partition, looks up every `text_b`, and judges each hit.
 *
 * @example const report = await runPairsBench(pairs, createLexicalEmbedder(), 0.9);
 */
export async function runPairsBench(pairs: readonly LabelledPair[], embedder: Embedder, threshold: number, logger: Logger = silentLogger): Promise<PairsReport> {
  const dir = await mkdtemp(join(tmpdir(), 'isartor-bench-pairs-'));
  const store = await openEmbeddedStore(dir, { maxEntries: Math.max(1, pairs.length * 2), ttlSeconds: 0 }, { name: 'semantic' });
  try {
    const cache = await SemanticCache.open({ store, embedder, threshold, logger });
    const partition = 'bench-pairs';
    const loaded = new Set<string>();
    const answer = { api: 'openai.chat' as const, body: {}, usage: ZERO_USAGE, createdAt: Date.now() };
    for (const pair of pairs) {
      const folded = foldText(pair.text_a);
      if (loaded.has(folded)) continue;
      loaded.add(folded);
      await cache.insert(partition, pair.text_a, answer);
    }
    let hits = 0;
    let trueHits = 0;
    let falseHits = 0;
    let truePositives = 0;
    let nontrivialHits = 0;
    let nontrivialPositives = 0;
    const timings: number[] = [];
    for (const pair of pairs) {
      const started = performance.now();
      const result = await cache.lookup(partition, pair.text_b);
      timings.push(performance.now() - started);
      if (!result.hit) continue;
      hits++;
      const returned = foldText(result.entry.text);
      if (returned === foldText(pair.text_b) || (returned === foldText(pair.text_a) && pair.label === 1)) {
        trueHits++;
        if (pair.label === 1) truePositives++;
        if (exactCacheForm(result.entry.text) !== exactCacheForm(pair.text_b)) {
          nontrivialHits++;
          if (pair.label === 1) nontrivialPositives++;
        }
      } else if (returned === foldText(pair.text_a)) {
        falseHits++;
      }
    }
    timings.sort((a, b) => a - b);
    const positives = pairs.filter((pair) => pair.label === 1).length;
    return {
      pairs: pairs.length,
      positives,
      hits,
      trueHits,
      falseHits,
      unjudgedHits: hits - trueHits - falseHits,
      precision: round(hits === 0 ? 1 : trueHits / hits),
      precisionCi95: wilsonInterval(trueHits, hits),
      recall: round(positives === 0 ? 0 : truePositives / positives),
      nontrivialHits,
      nontrivialRecall: round(positives === 0 ? 0 : nontrivialPositives / positives),
      threshold,
      embedder: embedder.id,
      lookupP50Ms: round(percentile(timings, 50), 3),
      lookupP99Ms: round(percentile(timings, 99), 3),
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PairsArgs {
  file: string;
  threshold?: number;
  embedder: EmbedderChoice;
  model?: string;
  json: boolean;
  dataDir?: string;
}

/** Parses `bench pairs` arguments (after the word "pairs"). */
export function parsePairsArgs(argv: readonly string[]): PairsArgs {
  const args: Partial<PairsArgs> & { json: boolean } = { json: false, embedder: 'lexical' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--file') args.file = value();
    else if (flag === '--threshold') {
      const threshold = Number(value());
      if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1) throw new BenchUsageError('--threshold must be a number between -1 and 1');
      args.threshold = threshold;
    } else if (flag === '--embedder') {
      const embedder = value();
      if (embedder !== 'lexical' && embedder !== 'transformers') throw new BenchUsageError('--embedder must be "lexical" or "transformers"');
      args.embedder = embedder;
    } else if (flag === '--model') args.model = value();
    else if (flag === '--data-dir') args.dataDir = value();
    else throw new BenchUsageError(`unknown option ${flag}`);
  }
  if (!args.file) throw new BenchUsageError('--file F.jsonl is required');
  return args as PairsArgs;
}

function formatHuman(report: PairsReport): string {
  const pct = (value: number): string => `${(value * 100).toFixed(2)}%`;
  return [
    `embedder   ${report.embedder} (threshold ${report.threshold})`,
    `pairs      ${report.pairs} (${report.positives} labelled duplicates)`,
    `hits       ${report.hits}: ${report.trueHits} true, ${report.falseHits} false, ${report.unjudgedHits} unjudged (counted as false)`,
    `precision  ${pct(report.precision)} (95% interval ${pct(report.precisionCi95[0])}–${pct(report.precisionCi95[1])})`,
    `recall     ${pct(report.recall)} (non-trivial, beyond the exact cache: ${pct(report.nontrivialRecall)}, ${report.nontrivialHits} hits)`,
    `lookup     p50 ${report.lookupP50Ms} ms, p99 ${report.lookupP99Ms} ms`,
  ].join('\n');
}

/**
 * Runs the command; returns the exit status (0 when the run completed, 2 for bad arguments or an
 * unreadable file). Output goes to `out`, problems to `err`.
 */
export async function benchPairsCommand(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void; logger?: Logger } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  let args: PairsArgs;
  let pairs: LabelledPair[];
  try {
    args = parsePairsArgs(argv);
    let text: string;
    try {
      text = await readFile(args.file, 'utf8');
    } catch (error) {
      throw new BenchUsageError(`cannot read ${args.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    pairs = parsePairs(text, args.file);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    io.err(`isartor bench pairs: ${error.message}\nusage: isartor bench pairs --file F.jsonl [--threshold T] [--embedder lexical|transformers] [--model ID|DIR] --json\n`);
    return 2;
  }
  const logger = io.logger ?? silentLogger;
  const dataDir = args.dataDir ?? join(tmpdir(), 'isartor-bench-data');
  const { embedder, fellBack } = await createEmbedder({ choice: args.embedder, model: args.model, dataDir, logger });
  if (fellBack) io.err(`isartor bench pairs: ${fellBack}; measuring the lexical embedder instead\n`);
  try {
    const report = await runPairsBench(pairs, embedder, args.threshold ?? embedder.defaultThreshold, logger);
    io.out(args.json ? `${JSON.stringify(report)}\n` : `${formatHuman(report)}\n`);
    return 0;
  } finally {
    await embedder.close?.();
  }
}
