/**
 * `isartor bench store --store redis://… [--entries N] [--requests N] --json`: the L1a hit path of
 * `isartor serve` on the embedded store and on a shared Redis, side by side. Each serve process
 * gets `entries` distinct answers from a fake upstream on loopback, then answers them as hits: one
 * at a time (hit p50/p99) and 32 at a time (hits per second).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/serve-config';
import { storeUrlProblem } from '../core/store/redisUrl';
import { benchChildEnv, spawnCli } from './children';
import { startFakeUpstream } from './fakeUpstream';
import { createLoadAgent, runLoad } from './load';
import { round, summarize } from './stats';

export interface StoreHitFigures {
  hitP50Ms: number;
  hitP99Ms: number;
  /** L1a answers per second with 32 requests in flight. */
  hitsPerSecond: number;
}

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer isartor-bench-store' };
const SERVE_READY = /^isartor listening on (http:\S+) /;
const body = (index: number): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Team question number ${index}: how do I reverse a list?` }] });

async function measure(storeArgs: string[], upstream: string, entries: number, requests: number): Promise<StoreHitFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-store-'));
  const serve = await spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--upstream', upstream, ...storeArgs], SERVE_READY, { env: benchChildEnv({ ISARTOR_LOG_LEVEL: 'error' }), stderr: 'collect' });
  const agent = createLoadAgent();
  try {
    const url = `${serve.ready[1]}/v1/chat/completions`;
    await runLoad({ url, headers: HEADERS, body, count: entries, concurrency: 8, agent });
    // Stores land just after each answer; ask until every entry is a hit.
    for (let attempt = 0; ; attempt++) {
      const probe = await runLoad({ url, headers: HEADERS, body, count: entries, concurrency: 8, agent });
      if ((probe.layers.l1a ?? 0) === entries) break;
      if (attempt > 50) throw new Error(`entries never all hit: ${JSON.stringify(probe.layers)}`);
    }
    const hit = (i: number): string => body(i % entries);
    const serial = await runLoad({ url, headers: HEADERS, body: hit, count: requests, concurrency: 1, agent });
    const parallel = await runLoad({ url, headers: HEADERS, body: hit, count: requests, concurrency: 32, agent });
    if ((serial.layers.l1a ?? 0) !== requests || (parallel.layers.l1a ?? 0) !== requests) throw new Error(`expected only L1a hits: ${JSON.stringify([serial.layers, parallel.layers])}`);
    const latency = summarize(serial.totalMs);
    return { hitP50Ms: round(latency.p50Ms), hitP99Ms: round(latency.p99Ms), hitsPerSecond: round(requests / (parallel.wallMs / 1000), 1) };
  } finally {
    await agent.close();
    await serve.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs the comparison and prints one JSON object; resolves with the exit status. */
export async function benchStoreCommand(argv: string[]): Promise<number> {
  let values: { store?: string; entries?: string; requests?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { store: { type: 'string' }, entries: { type: 'string' }, requests: { type: 'string' }, json: { type: 'boolean' } } }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (!values.store) throw new UsageError('bench store needs --store redis://host:port (a Redis the benchmark may write to)');
  const problem = storeUrlProblem(values.store);
  if (problem) throw new UsageError(`--store ${problem}`);
  const entries = Number(values.entries ?? 200);
  const requests = Number(values.requests ?? 2000);
  if (!Number.isInteger(entries) || entries < 1 || !Number.isInteger(requests) || requests < 1) throw new UsageError('--entries and --requests must be positive integers');
  const fake = await startFakeUpstream();
  try {
    const embedded = await measure([], fake.openaiBase, entries, requests);
    // A namespace of its own, so the run neither reads nor clobbers a team's entries.
    const namespace = `isartor-bench-${process.pid}`;
    const configDir = await mkdtemp(join(tmpdir(), 'isartor-bench-store-cfg-'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ store: { namespace } }));
    const redis = await measure(['--store', values.store, '--config', join(configDir, 'config.json')], fake.openaiBase, entries, requests).finally(() => rm(configDir, { recursive: true, force: true }));
    process.stdout.write(`${JSON.stringify({ entries, requests, embedded, redis })}\n`);
  } finally {
    await fake.close();
  }
  return 0;
}
