/**
 * `isartor bench scale --store redis://… [--entries N,…] [--requests N] [--json]`: the L1a hit path
 * of `isartor serve` on the embedded store and on a shared Redis, side by side. For each size, one
 * serve process per store gets `entries` distinct answers from a fake upstream on loopback, then
 * answers them as hits: one at a time (hit p50/p99) and 32 at a time (hits per second).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { createClient as CreateClient } from 'redis';
import { describeRedisError } from '../core/store/redisConnection';
import { redactStoreUrl } from '../core/store/redisUrl';
import { benchChildEnv, SERVE_READY, spawnCli } from './children';
import { startFakeUpstream } from './fakeUpstream';
import { createLoadAgent, runLoad } from './load';
import { scaleCacheBounds } from './scaleFill';
import { round, summarize } from './stats';

export interface StoreHitFigures {
  hitP50Ms: number;
  hitP99Ms: number;
  /** Answers per second with 32 requests in flight. */
  hitsPerSecond: number;
  /**
   * Of the 2 × requests timed, those L1a did not answer although their entry was stored: on Redis,
   * a GET over the store's `timeoutMs` budget (a busy machine) falls through to L1b or the upstream.
   * They stay in the timings, as a user would feel them.
   */
  fellThrough: number;
}

export interface StoreSizeRun {
  entries: number;
  embedded: StoreHitFigures;
  redis: StoreHitFigures;
}

export interface StoreScaleReport {
  /** The Redis measured, without its password. */
  store: string;
  /** Hits timed per store and size, one at a time and again 32 at a time. */
  requests: number;
  sizes: StoreSizeRun[];
}

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer isartor-bench-store' };
const body = (index: number): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Team question number ${index}: how do I reverse a list?` }] });

/**
 * Starts `isartor serve` with `config` (plus `storeArgs`), stores `entries` answers through it, and
 * times `requests` hits on them. Refuses to time a Redis the replica could not use.
 */
export async function measure(storeArgs: string[], config: object, upstream: string, entries: number, requests: number): Promise<StoreHitFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'isartor-bench-store-'));
  const configFile = join(dataDir, 'bench-config.json');
  await writeFile(configFile, JSON.stringify(config));
  const serve = await spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--config', configFile, '--upstream', upstream, ...storeArgs], SERVE_READY, {
    env: benchChildEnv({ ISARTOR_LOG_LEVEL: 'error' }),
    stderr: 'collect',
  });
  const agent = createLoadAgent();
  try {
    const base = serve.ready[1]!;
    if (storeArgs.length > 0) {
      const { store } = (await (await fetch(`${base}/isartor/stats`)).json()) as { store?: { available: boolean; detail: string } };
      if (!store?.available) throw new Error(`the shared store cannot be used: ${store?.detail ?? 'not configured'}`);
    }
    const url = `${base}/v1/chat/completions`;
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
    const latency = summarize(serial.totalMs);
    const fellThrough = 2 * requests - (serial.layers.l1a ?? 0) - (parallel.layers.l1a ?? 0);
    return { hitP50Ms: round(latency.p50Ms), hitP99Ms: round(latency.p99Ms), hitsPerSecond: round(requests / (parallel.wallMs / 1000), 1), fellThrough };
  } finally {
    await agent.close();
    await serve.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A client that tries once: connect() otherwise retries, and never settles, while Redis refuses us. */
function oneTryClient(createClient: typeof CreateClient, storeUrl: string) {
  return createClient({ url: storeUrl, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
}

/** Runs `use` on a one-try client of `storeUrl`; a refusal becomes an error that says why. */
async function withRedis<T>(storeUrl: string, use: (client: ReturnType<typeof oneTryClient>) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: the CLI bundle leaves redis out and only a store bench needs it.
  const client = oneTryClient((await import('redis')).createClient, storeUrl);
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } catch (error) {
    throw new Error(`the shared store cannot be used: ${describeRedisError(error, storeUrl)}`);
  } finally {
    client.destroy();
  }
}

/** Deletes every key under `namespace:` (the run's own), so a benchmark leaves a team's Redis as it was. */
async function dropNamespace(storeUrl: string, namespace: string): Promise<void> {
  await withRedis(storeUrl, async (client) => {
    for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys);
  });
}

/**
 * Measures the embedded store and the Redis at `storeUrl` at every size, in turn.
 *
 * @example const report = await runStoreScaleBench('redis://127.0.0.1:6379', [10_000], 2000);
 */
export async function runStoreScaleBench(storeUrl: string, sizes: readonly number[], requests: number): Promise<StoreScaleReport> {
  // Before minutes of measuring the embedded side: a Redis that refuses us is reported at once.
  await withRedis(storeUrl, (client) => client.ping());
  const fake = await startFakeUpstream();
  const runs: StoreSizeRun[] = [];
  try {
    for (const entries of sizes) {
      // The stores' bounds must hold every entry, or the embedded side would evict some.
      const bounds = scaleCacheBounds(entries);
      const embedded = await measure([], bounds, fake.openaiBase, entries, requests);
      // A namespace of its own, so the run neither reads nor clobbers a team's entries.
      const namespace = `isartor-bench-${process.pid}-${entries}`;
      const redis = await measure(['--store', storeUrl], { ...bounds, store: { namespace } }, fake.openaiBase, entries, requests).finally(() =>
        dropNamespace(storeUrl, namespace).catch(() => undefined),
      );
      runs.push({ entries, embedded, redis });
    }
  } finally {
    await fake.close();
  }
  return { store: redactStoreUrl(storeUrl), requests, sizes: runs };
}
