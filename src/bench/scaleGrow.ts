/**
 * The "while running" memory figure of `bench scale`: `isartor serve` on an empty data dir is sent
 * `entries` different questions over HTTP, each a miss the fake upstream answers and serve stores
 * in both caches, the way a proxy in use fills them. Its RSS is read once it holds them all.
 * The fill child (scaleFill.ts) gets to the same size faster, but through bulk paths and with the
 * semantic cache in its own thread, which `serve` never does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { BENCH_CHILD_READY, benchChildEnv, residentBytes, SERVE_READY, spawnCli, type CliChild } from './children';
import { createLoadAgent, runLoad } from './load';
import { questionText } from './questions';
import { SCALE_HEADERS, scaleRequestBody, writeScaleConfig } from './scaleFill';
import { round, startProgress } from './stats';

export interface GrownFigures {
  /** Entries each cache held when the RSS was read: fewer than sent means serve dropped some. */
  exactEntries: number;
  semanticEntries: number;
  /** Resident memory of serve holding them (null where /proc is not there to read). */
  rssMb: number | null;
  /** Misses per second serve answered while it grew (32 in flight). */
  missesPerSecond: number;
}

/** Misses in flight while serve grows: a busy agent session, as in `bench overhead`. */
const GROW_CONCURRENCY = 32;
/** How long the caches may take to store the last answers before the figure is read anyway. */
const SETTLE_LIMIT_MS = 60_000;
const SETTLE_POLL_MS = 250;

interface CacheCounts {
  exact: number;
  semantic: number;
}

async function cacheCounts(url: string): Promise<CacheCounts> {
  const answer = await request(`${url}/isartor/stats`);
  const stats = (await answer.body.json()) as { caches: { exact: { entries: number }; semantic: { entries: number } } };
  return { exact: stats.caches.exact.entries, semantic: stats.caches.semantic.entries };
}

/** Waits until both caches hold `entries`, or their counts stop moving for a while (dropped inserts). */
async function settledCounts(url: string, entries: number): Promise<CacheCounts> {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  let counts = await cacheCounts(url);
  let unchangedSince = Date.now();
  while ((counts.exact < entries || counts.semantic < entries) && Date.now() < deadline && Date.now() - unchangedSince < 5_000) {
    await sleep(SETTLE_POLL_MS);
    const next = await cacheCounts(url);
    if (next.exact !== counts.exact || next.semantic !== counts.semantic) unchangedSince = Date.now();
    counts = next;
  }
  return counts;
}

/**
 * Grows a fresh `isartor serve` to `entries` answers in each cache over HTTP and measures it.
 *
 * @example const grown = await growServe(100_000); grown.rssMb // 215.3
 */
export async function growServe(entries: number): Promise<GrownFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-grow-'));
  const children: CliChild[] = [];
  const agent = createLoadAgent();
  try {
    const fake = await spawnCli(['bench', 'overhead', '--child', 'fake-upstream'], BENCH_CHILD_READY, { env: benchChildEnv() });
    children.push(fake);
    const fakeUrl = fake.ready[1]!;
    // The stores' bounds must hold every entry, or serve would evict some as it grows.
    const configFile = await writeScaleConfig(dataDir, entries);
    const serve = await spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, '--upstream', `${fakeUrl}/v1`, '--anthropic-upstream', fakeUrl], SERVE_READY, {
      env: benchChildEnv(),
      stderr: 'collect',
    });
    children.push(serve);
    const url = serve.ready[1]!;
    const bar = startProgress(`bench scale: serve grown over HTTP, ${entries} entries`, entries);
    const load = await runLoad({
      url: `${url}/v1/chat/completions`,
      headers: { ...SCALE_HEADERS },
      body: (index) => JSON.stringify(scaleRequestBody(questionText(index))),
      count: entries,
      concurrency: GROW_CONCURRENCY,
      agent,
      onProgress: (done) => bar.update(done),
    });
    bar.stop();
    const counts = await settledCounts(url, entries);
    const rss = await residentBytes(serve.pid);
    return {
      exactEntries: counts.exact,
      semanticEntries: counts.semantic,
      rssMb: rss === undefined ? null : round(rss / (1024 * 1024), 1),
      missesPerSecond: round(entries / (load.wallMs / 1000), 0),
    };
  } finally {
    await agent.close();
    await Promise.allSettled(children.reverse().map((child) => child.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}
