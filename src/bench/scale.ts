/**
 * `isartor bench scale`: for each size, a fresh child process fills the exact and the semantic
 * cache of a new data dir and measures them (scaleFill.ts); then `isartor serve` is started on that
 * data dir and timed until it is ready, answers /healthz, and answers its first L1a hit.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { benchChildEnv, residentBytes, spawnCli } from './children';
import { questionText } from './questions';
import { SCALE_AUTH, scaleRequestBody, type ScaleFillReport, type ScaleLayout } from './scaleFill';
import { round } from './stats';
import { warmRequestPath } from './warmClient';

/** Start-up of `isartor serve` on a data dir holding the filled caches. */
export interface StartupFigures {
  /** From spawning the process to its "listening" line. */
  readyMs: number;
  /** From spawning to the first /healthz answer. */
  healthzMs: number;
  /** From spawning to the first answer served from the exact cache. */
  firstHitMs: number;
  /** Layer that answered that first request ("l1a" when the filled cache was found). */
  firstHitLayer: string;
  /** Resident memory of the serve process after that answer, with every filled cache it loads. */
  serveRssMb: number | null;
}

export interface ScaleRun extends ScaleFillReport {
  startup: StartupFigures;
}

export interface ScaleReport {
  sizes: ScaleRun[];
}

/**
 * Where the filled entries point. Nothing listens there: every request the benchmark sends is an
 * exact-cache hit, and a miss would fail loudly instead of being timed.
 */
export const SCALE_LAYOUT: ScaleLayout = { upstream: 'http://127.0.0.1:9/v1', anthropicUpstream: 'http://127.0.0.1:9' };

/** The fill child's one result line on stdout. */
const FILL_RESULT = /^bench scale fill (\{.*\})$/;
const SERVE_READY = /^isartor listening on (http:\S+) /;

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

/** Starts `isartor serve` on the filled data dir and times it to its first served hit. */
async function timeStartup(dataDir: string, entries: number): Promise<StartupFigures> {
  // The stores' bounds must hold every filled entry, or serve would evict some while opening.
  const configFile = join(dataDir, 'bench-config.json');
  await writeFile(configFile, JSON.stringify({ exact: { maxEntries: Math.max(entries, 100_000) }, semantic: { maxEntries: Math.max(entries, 100_000) } }));
  const hitHeaders = { 'content-type': 'application/json', authorization: SCALE_AUTH };
  // Another question's body: the one timed below is built after the spawn, as before.
  await warmRequestPath(JSON.stringify(scaleRequestBody(questionText(1))), hitHeaders);
  const started = performance.now();
  const serve = await spawnCli(
    ['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, '--upstream', SCALE_LAYOUT.upstream, '--anthropic-upstream', SCALE_LAYOUT.anthropicUpstream],
    SERVE_READY,
    { env: benchChildEnv() },
  );
  try {
    const readyMs = performance.now() - started;
    const url = serve.ready[1]!;
    const health = await request(`${url}/healthz`);
    await health.body.text();
    if (health.statusCode !== 200) throw new Error(`bench scale: /healthz answered ${health.statusCode}`);
    const healthzMs = performance.now() - started;
    const hit = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: hitHeaders, body: JSON.stringify(scaleRequestBody(questionText(0))) });
    const text = await hit.body.text();
    const firstHitMs = performance.now() - started;
    if (hit.statusCode !== 200) throw new Error(`bench scale: the first request after start-up answered ${hit.statusCode}: ${text.slice(0, 300)}`);
    const layer = hit.headers['x-isartor-layer'];
    const rss = await residentBytes(serve.pid);
    return {
      readyMs: round(readyMs, 1),
      healthzMs: round(healthzMs, 1),
      firstHitMs: round(firstHitMs, 1),
      firstHitLayer: typeof layer === 'string' ? layer : 'none',
      serveRssMb: rss === undefined ? null : round(rss / (1024 * 1024), 1),
    };
  } finally {
    await serve.stop();
  }
}

/**
 * Measures every size in turn, each in a fresh data dir that is removed afterwards.
 *
 * @example const report = await runScaleBench([10_000, 100_000]);
 */
export async function runScaleBench(sizes: readonly number[]): Promise<ScaleReport> {
  const runs: ScaleRun[] = [];
  for (const entries of sizes) {
    const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-scale-'));
    try {
      const filled = await fillInChild(entries, dataDir);
      runs.push({ ...filled, startup: await timeStartup(dataDir, entries) });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return { sizes: runs };
}
