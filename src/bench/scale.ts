/**
 * `isartor bench scale`: for each size, a fresh child process fills the exact and the semantic
 * cache of a new data dir and measures them (scaleFill.ts); then `isartor serve` is started on that
 * data dir, three times, and timed until it is ready, answers /healthz, answers its first L1a hit and its first
 * L1b hit; its RSS is read after that first hit and again after it has served a few thousand requests.
 * Last, a fresh serve is grown to the same size over HTTP (scaleGrow.ts): the memory of a proxy
 * that filled its caches while running.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { bareNodeStartMs, benchChildEnv, residentBytes, SERVE_READY, spawnCli } from './children';
import { growServe, type GrownFigures } from './scaleGrow';
import { questionText, retypedQuestion } from './questions';
import { SCALE_HEADERS, scaleRequestBody, writeScaleConfig, type ScaleFillReport, type ScaleLayout } from './scaleFill';
import { percentile, round } from './stats';
import { warmRequestPath } from './warmClient';

/** Start-up of `isartor serve` on a data dir holding the filled caches: times are medians of STARTUP_RUNS starts. */
export interface StartupFigures {
  /** From spawning the process to its "listening" line. */
  readyMs: number;
  /** From spawning to the first /healthz answer. */
  healthzMs: number;
  /** From spawning to the first answer served from the exact cache. */
  firstHitMs: number;
  /** Layer that answered that first request ("l1a" when the filled cache was found). */
  firstHitLayer: string;
  /** Resident memory of the serve process after that answer (the L1b index may still be loading); the largest of the starts. */
  serveRssMb: number | null;
  /** From spawning to the first answer of a reworded stored question, which waits for the L1b index. */
  firstL1bMs: number;
  /** Layer that answered it ("l1b" when the semantic cache found the stored question). */
  firstL1bLayer: string;
  /** Resident memory once the last start has answered `SERVING_REQUESTS` more requests, half of them reworded (both caches open and in use). */
  servingRssMb: number | null;
  /** The same process's resident memory `idleSeconds` after the last of those requests, none since: what it holds between bursts. */
  idleRssMb: number | null;
  idleSeconds: number;
  /** Median spawn-to-exit of `node -e ""` in serve's environment: the start-up floor no CLI goes under on this machine. */
  nodeAloneMs: number;
}

export interface ScaleRun extends ScaleFillReport {
  startup: StartupFigures;
  /** A fresh `isartor serve` grown to the same size over HTTP (scaleGrow.ts). */
  grown: GrownFigures;
}

export interface ScaleReport {
  sizes: ScaleRun[];
  /** `isartor serve` on an empty data dir, `EMPTY_IDLE_MS` after its listening line with no request: the least it holds. */
  emptyIdleRssMb: number | null;
}

/** How long serve on an empty data dir idles before its RSS is read: its start-up allocations settled. */
export const EMPTY_IDLE_MS = 3_000;

/**
 * Where the filled entries point. Nothing listens there: every request the benchmark sends is an
 * exact-cache hit, and a miss would fail loudly instead of being timed.
 */
export const SCALE_LAYOUT: ScaleLayout = { upstream: 'http://127.0.0.1:9/v1', anthropicUpstream: 'http://127.0.0.1:9' };

/**
 * Requests serve answers before its second RSS reading: stored questions as asked (L1a) and
 * reworded (L1b, or a miss that fails fast at the dead upstream), spread over the filled range.
 */
const SERVING_REQUESTS = 2000;
/** The reworded question timed as the first L1b answer: the fill looks up every 50th question last, so it is among the newest entries. */
const FIRST_L1B_QUESTION = 50;

/** The fill child's one result line on stdout. */
const FILL_RESULT = /^bench scale fill (\{.*\})$/;

/**
 * Runs the fill child for `entries` in `dataDir` and returns its report.
 */
async function fillInChild(entries: number, dataDir: string): Promise<ScaleFillReport> {
  const child = await spawnCli(['bench', 'scale', '--child', 'fill', '--entries', String(entries), '--data-dir', dataDir], FILL_RESULT, {
    nodeFlags: ['--expose-gc'],
    env: benchChildEnv(),
  });
  const status = await child.exited;
  if (status !== 0) throw new Error(`bench scale: the fill child exited with status ${status}`);
  return JSON.parse(child.ready[1]!) as ScaleFillReport;
}

/** One start of serve, as `timeOneStart` measures it. */
type OneStart = Omit<StartupFigures, 'nodeAloneMs' | 'servingRssMb' | 'idleRssMb' | 'idleSeconds'> & { servingRssMb?: number | null; idleRssMb?: number | null };

/**
 * How long serve idles after its serving burst before its RSS is read again. V8 keeps the young
 * generation a burst grew, and the garbage it left, until it has seen the process idle: at 100k
 * entries RSS fell by 40–70 MB within 20–45 s of the last request (docs/measurements/miss-path.md).
 */
export const IDLE_AFTER_SERVING_MS = 60_000;

/** Starts timed per size; the figures are their medians, since one start on a shared machine can take half as long again as the next. */
const STARTUP_RUNS = 3;

/**
 * Starts `isartor serve` on the filled data dir STARTUP_RUNS times and times each to its first
 * served hit: the times are medians, a layer is the odd one out if any start got another, and the
 * memory after the first hit is the largest. The last start also serves a while before its RSS is read again, and
 * idles `idleMs` before a last reading.
 */
async function timeStartup(dataDir: string, entries: number, idleMs: number): Promise<StartupFigures> {
  // The stores' bounds must hold every filled entry, or serve would evict some while opening.
  const configFile = await writeScaleConfig(dataDir, entries);
  const nodeAloneMs = await bareNodeStartMs(benchChildEnv());
  // Another question's body: the one timed is built after the spawn.
  await warmRequestPath(JSON.stringify(scaleRequestBody(questionText(1))), SCALE_HEADERS);
  const starts: OneStart[] = [];
  for (let run = 1; run <= STARTUP_RUNS; run++) starts.push(await timeOneStart(dataDir, configFile, entries, run === STARTUP_RUNS ? idleMs : undefined));
  const median = (pick: (start: OneStart) => number): number => round(percentile(starts.map(pick), 50), 1);
  const layer = (pick: (start: OneStart) => string, expected: string): string => starts.map(pick).find((got) => got !== expected) ?? expected;
  const rssAfterHit = starts.map((start) => start.serveRssMb);
  return {
    readyMs: median((start) => start.readyMs),
    healthzMs: median((start) => start.healthzMs),
    firstHitMs: median((start) => start.firstHitMs),
    firstHitLayer: layer((start) => start.firstHitLayer, 'l1a'),
    serveRssMb: rssAfterHit.includes(null) ? null : Math.max(...(rssAfterHit as number[])),
    firstL1bMs: median((start) => start.firstL1bMs),
    firstL1bLayer: layer((start) => start.firstL1bLayer, 'l1b'),
    servingRssMb: starts.at(-1)!.servingRssMb ?? null,
    idleRssMb: starts.at(-1)!.idleRssMb ?? null,
    idleSeconds: idleMs / 1000,
    nodeAloneMs: round(nodeAloneMs, 1),
  };
}

/** One start of serve on the filled data dir, timed to its first L1a hit and its first L1b answer; with `idleMs`, it then serves a while and idles that long. */
async function timeOneStart(dataDir: string, configFile: string, entries: number, idleMs: number | undefined): Promise<OneStart> {
  const serve = idleMs !== undefined;
  const started = performance.now();
  const child = await spawnCli(
    ['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, '--upstream', SCALE_LAYOUT.upstream, '--anthropic-upstream', SCALE_LAYOUT.anthropicUpstream],
    SERVE_READY,
    // The serving phase's misses each log a warning (no upstream listens): kept for an error, not printed.
    { env: benchChildEnv(), stderr: 'collect' },
  );
  try {
    const readyMs = performance.now() - started;
    const url = child.ready[1]!;
    const health = await request(`${url}/healthz`);
    await health.body.text();
    if (health.statusCode !== 200) throw new Error(`bench scale: /healthz answered ${health.statusCode}`);
    const healthzMs = performance.now() - started;
    const hit = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: SCALE_HEADERS, body: JSON.stringify(scaleRequestBody(questionText(0))) });
    const text = await hit.body.text();
    const firstHitMs = performance.now() - started;
    if (hit.statusCode !== 200) throw new Error(`bench scale: the first request after start-up answered ${hit.statusCode}: ${text.slice(0, 300)}`);
    const layer = hit.headers['x-isartor-layer'];
    const rss = await residentBytes(child.pid);
    // A lookup that comes before the L1b index is open waits for it (no budget until then).
    const reworded = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: SCALE_HEADERS, body: JSON.stringify(scaleRequestBody(retypedQuestion(FIRST_L1B_QUESTION))) });
    await reworded.body.dump();
    const firstL1bMs = performance.now() - started;
    const l1bLayer = reworded.headers['x-isartor-layer'];
    const servingRss = serve ? await serveAWhile(url, child.pid, entries, SCALE_HEADERS) : undefined;
    const idleRss = serve ? await residentBytesAfter(child.pid, idleMs) : undefined;
    return {
      readyMs,
      healthzMs,
      firstHitMs,
      firstHitLayer: typeof layer === 'string' ? layer : 'none',
      serveRssMb: megabytes(rss),
      firstL1bMs,
      firstL1bLayer: typeof l1bLayer === 'string' ? l1bLayer : 'none',
      ...(serve ? { servingRssMb: megabytes(servingRss), idleRssMb: megabytes(idleRss) } : {}),
    };
  } finally {
    await child.stop();
  }
}

function megabytes(bytes: number | undefined): number | null {
  return bytes === undefined ? null : round(bytes / (1024 * 1024), 1);
}

/** The process's resident bytes once `ms` have passed. */
async function residentBytesAfter(pid: number, ms: number): Promise<number | undefined> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return residentBytes(pid);
}

/**
 * Sends `SERVING_REQUESTS` requests to the serve at `url` (process `pid`), 8 at a time, and returns
 * its resident memory after them. A reworded question the semantic cache does not find goes to the
 * dead upstream and fails; the retry-count header the official SDKs send makes serve try it once.
 */
async function serveAWhile(url: string, pid: number, entries: number, headers: Record<string, string>): Promise<number | undefined> {
  const step = Math.max(1, Math.floor(entries / (SERVING_REQUESTS / 2)));
  const question = (i: number): string => {
    const index = (Math.floor(i / 2) * step) % entries;
    return i % 2 === 0 ? questionText(index) : retypedQuestion(index);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < SERVING_REQUESTS) {
      const i = next++;
      const answer = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'x-stainless-retry-count': '0' }, body: JSON.stringify(scaleRequestBody(question(i))) });
      await answer.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return residentBytes(pid);
}

/**
 * Measures every size in turn, each in a fresh data dir that is removed afterwards.
 *
 * @example const report = await runScaleBench([10_000, 100_000]);
 */
export async function runScaleBench(sizes: readonly number[], options: { idleMs?: number } = {}): Promise<ScaleReport> {
  const runs: ScaleRun[] = [];
  const emptyIdleRssMb = await idleRssOnEmptyDataDir();
  for (const entries of sizes) {
    const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-scale-'));
    let measured: Omit<ScaleRun, 'grown'>;
    try {
      const filled = await fillInChild(entries, dataDir);
      measured = { ...filled, startup: await timeStartup(dataDir, entries, options.idleMs ?? IDLE_AFTER_SERVING_MS) };
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    runs.push({ ...measured, grown: await growServe(entries) });
  }
  return { sizes: runs, emptyIdleRssMb };
}

/** Starts serve on a new, empty data dir and reads its resident memory `EMPTY_IDLE_MS` after it listens. */
async function idleRssOnEmptyDataDir(): Promise<number | null> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-empty-'));
  try {
    const child = await spawnCli(
      ['serve', '--port', '0', '--data-dir', dataDir, '--upstream', SCALE_LAYOUT.upstream, '--anthropic-upstream', SCALE_LAYOUT.anthropicUpstream],
      SERVE_READY,
      { env: benchChildEnv(), stderr: 'collect' },
    );
    try {
      return megabytes(await residentBytesAfter(child.pid, EMPTY_IDLE_MS));
    } finally {
      await child.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
