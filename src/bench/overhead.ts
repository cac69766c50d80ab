/**
 * `isartor bench overhead`: what the proxy costs on a miss. The same miss-every-time load
 * (concurrency 1 and 32, plain and streamed) goes (a) through the proxy with every layer on, (b)
 * through a bare Node `http` pass-through and (c) straight to the fake upstream, in one run,
 * interleaved in rounds so a change in machine load hits all three alike. Then the L1a hit path.
 * With `fullCache`, a second proxy on caches already full takes its turn in the same rounds.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { agentHistory, type ChatTurn } from './agentHistory';
import { BENCH_CHILD_READY, benchChildEnv, residentBytes, SERVE_READY, spawnCli } from './children';
import { runLoad, type LoadResult } from './load';
import { startPeer, type Peer } from './overheadPeers';
import { cpuMsBetween, readGroupCpu, readProcessCpu, type CpuReading } from './processCpu';
import { questionText } from './questions';
import { percentile, round, startProgress, summarize, type LatencySummary } from './stats';

export type OverheadTarget = 'proxy' | 'proxyFull' | 'passThrough' | 'direct' | `peer:${string}`;

/** Another gateway measured beside the proxy (`--peers`). */
export interface PeerReport {
  name: string;
  command: string;
  /** Peer over pass-through throughput at each concurrency. */
  throughputRatios: Record<string, number>;
  /** p50 at concurrency 1, plain, minus direct. */
  missP50AddedMs: number;
  cpuRatios: Record<string, number>;
}

/**
 * The proxy on full caches (`proxyFull`) against the proxy on empty ones, from the same run: each
 * ratio is proxyFull's figure over the proxy's, plain misses, by concurrency.
 */
export interface FullCacheReport {
  /** Entries in each of proxyFull's caches (exact and semantic) before the run. */
  entries: number;
  p50Ratios: Record<string, number>;
  p99Ratios: Record<string, number>;
  cpuRatios: Record<string, number>;
  throughputRatios: Record<string, number>;
  /**
   * Entries in each of proxyFull's caches after the run, by cache (`/isartor/stats`): still the
   * fill's count when that reached the caches' maxEntries, as every miss then evicted one.
   */
  entriesAfter: Record<string, number>;
  /** proxyFull's resident memory after the miss load, MB (0 where /proc is missing). */
  rssMb: number;
}

/** One cell of the load matrix: a target at one concurrency, plain or streamed. */
export interface OverheadScenario {
  target: OverheadTarget;
  concurrency: number;
  stream: boolean;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Time to first body byte (for plain answers: the whole body usually arrives at once). */
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  throughputRps: number;
  /** CPU time (user + system) the target's own process spent per request, from /proc; 0 elsewhere. */
  cpuMsPerRequest: number;
}

export interface OverheadReport {
  /** p50 / p99 of proxy minus direct, concurrency 1, plain. */
  missP50AddedMs: number;
  missP99AddedMs: number;
  /** Proxy requests per second over pass-through requests per second, concurrency 32, plain and streamed together. */
  throughputRatio: number;
  /** p50 time to first byte of a streamed answer, proxy minus direct, concurrency 1. */
  ttfbAddedMs: number;
  /** Round trip of an L1a hit through the proxy, concurrency 1, plain. */
  hitP50Ms: number;
  hitP99Ms: number;
  /** Measured requests per target and scenario (warm-up excluded). */
  requests: number;
  /** Unmeasured requests each target got before each cell. */
  warmupPerCell: number;
  /** Unmeasured requests each target got once, before the first cell (see `OverheadOptions.startWarmup`). */
  warmupPerTarget: number;
  /** Same figures as the headline, but against the bare pass-through instead of direct. */
  missP50AddedOverPassThroughMs: number;
  ttfbAddedOverPassThroughMs: number;
  /** Layers that answered the proxy's measured miss requests (all "l3" when every request missed). */
  proxyLayers: Record<string, number>;
  hitRequests: number;
  /** Proxy over pass-through throughput at each measured concurrency (the headline ratio is c=32). */
  throughputRatios: Record<string, number>;
  /** Proxy CPU per miss over pass-through CPU per request, plain, at each measured concurrency. */
  cpuRatios: Record<string, number>;
  /** Entries put in each of the proxy's caches before the run (0: the proxy starts empty). */
  prefilled: number;
  /** Kilobytes of agent context each miss resent (0: none), and the size of one miss request in bytes. */
  historyKb: number;
  missRequestBytes: number;
  /** The proxy's resident memory after the miss load, MB (0 where /proc is missing). */
  proxyRssMb: number;
  /** Gateways given with --peers that started (the others are skipped with a line on stderr). */
  peers: PeerReport[];
  /** With `fullCache`: the second proxy, on full caches, against this one. */
  fullCache?: FullCacheReport;
  scenarios: OverheadScenario[];
}

export interface OverheadOptions {
  /** Measured requests per target per scenario. */
  requests: number;
  /** Unmeasured requests per target per scenario first (JIT, connections). Default: min(200, requests). */
  warmup?: number;
  /** Unmeasured requests per target once, before the first cell. Default: `defaultStartWarmup(requests)`. */
  startWarmup?: number;
  /** Rounds the measured requests are split into, the targets taking turns in each. Default 4. */
  rounds?: number;
  /** Concurrencies measured; 1 and 32 must be among them (the headline figures). Default [1, 32]. */
  concurrencies?: number[];
  /** Fill the proxy's exact and semantic caches with this many entries first (full-cache misses). */
  prefill?: number;
  /**
   * Also start a second proxy (`proxyFull`) on caches filled with this many entries each, measured
   * in the same rounds as the others: its misses against the empty proxy's, as ratios in one run.
   */
  fullCache?: number;
  /** Shell commands of other OpenAI-compatible gateways to measure the same way (see overheadPeers.ts). */
  peers?: string[];
  /** Kilobytes of instructions and earlier turns each miss resends, as an agent does (agentHistory.ts). Default 0: a system prompt and the question. */
  historyKb?: number;
  progress?: boolean;
}

const SYSTEM_PROMPT = [
  'You are a coding assistant inside an editor. Answer with working code and a short explanation.',
  'Prefer the standard library. Say which version of a tool an answer assumes. Keep answers short.',
  'When a question is ambiguous, state the assumption you make and answer it under that assumption.',
].join('\n');

const DEFAULT_CONCURRENCIES = [1, 32];
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer isartor-bench-overhead' };

/**
 * A chat request no cache has seen: a distinct question plus a ticket number (the numbers gate keeps
 * L1b out), after a system prompt or, with `history`, after an agent's resent context.
 */
function missBody(index: number, stream: boolean, history?: readonly ChatTurn[]): string {
  const messages = [
    ...(history ?? [{ role: 'system', content: SYSTEM_PROMPT }]),
    { role: 'user', content: `${questionText(index)} (ticket #${index})` },
  ];
  return JSON.stringify({ model: 'gpt-4o-mini', messages, max_tokens: 256, ...(stream ? { stream: true } : {}) });
}

/**
 * Wait after each round before reading a target's CPU: longer than the proxy's deferred work after
 * its last answer (L1b inserts wait up to 20 ms for company, then run in the worker).
 */
const SETTLE_MS = 60;

interface Accumulated {
  totalMs: number[];
  firstByteMs: number[];
  wallMs: number;
  cpuMs: number;
}

/** Concurrency of the start warm-up: enough to run the code paths that only overlap brings. */
const START_WARMUP_CONCURRENCY = 8;

/**
 * The start warm-up when none is given: 3,000 requests per target, or 10 per measured request when
 * fewer are measured (a smoke run stays quick). V8 compiles a server's hot path over its first few
 * thousand requests, and until then the small pass-through spends proportionally more CPU than the
 * proxy (docs/measurements/miss-path.md): unsettled, the CPU ratio reads about a quarter too low.
 */
export function defaultStartWarmup(requests: number): number {
  return Math.min(3000, 10 * requests);
}

/**
 * Runs the whole measurement and closes everything it started.
 *
 * @example const report = await runOverheadBench({ requests: 1000 });
 */
export async function runOverheadBench(options: OverheadOptions): Promise<OverheadReport> {
  const requests = options.requests;
  const warmup = options.warmup ?? Math.min(200, requests);
  const startWarmup = options.startWarmup ?? defaultStartWarmup(requests);
  const rounds = Math.max(1, Math.min(options.rounds ?? 4, requests));
  const workDir = await mkdtemp(join(tmpdir(), 'isartor-bench-overhead-'));
  const children: Array<{ stop(): Promise<unknown> }> = [];
  // One connection per in-flight request, also at concurrencies above the shared agent's 64.
  const agent = new Agent({ connections: Math.max(64, ...(options.concurrencies ?? DEFAULT_CONCURRENCIES)), pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    return await measure(options, requests, { perCell: warmup, perTarget: startWarmup }, rounds, agent, children, workDir);
  } finally {
    await agent.close();
    await Promise.all(children.map((child) => child.stop()));
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Starts the servers, each in its own process (data dirs under `workDir`), and runs the load matrix and the hit path. */
async function measure(
  options: OverheadOptions,
  requests: number,
  warmups: { perCell: number; perTarget: number },
  rounds: number,
  agent: Agent,
  children: Array<{ stop(): Promise<unknown> }>,
  workDir: string,
): Promise<OverheadReport> {
  const warmup = warmups.perCell;
  const dataDir = join(workDir, 'proxy');
  const fullDir = join(workDir, 'full');
  await mkdir(dataDir, { recursive: true });
  const prefill = options.prefill ?? 0;
  const fullEntries = options.fullCache ?? 0;
  // Filled before any server starts, so the fill's CPU overlaps none of them.
  if (prefill > 0) await prefillCaches(prefill, dataDir);
  if (fullEntries > 0) {
    await mkdir(fullDir, { recursive: true });
    await prefillCaches(fullEntries, fullDir);
  }
  const fake = await spawnCli(['bench', 'overhead', '--child', 'fake-upstream'], BENCH_CHILD_READY, { env: benchChildEnv() });
  children.push(fake);
  const fakeUrl = fake.ready[1]!;
  const pass = await spawnCli(['bench', 'overhead', '--child', 'pass-through', '--upstream', fakeUrl], BENCH_CHILD_READY, { env: benchChildEnv() });
  children.push(pass);
  // The proxy exactly as a user starts it: `isartor serve` with its defaults, every layer on.
  const startProxy = (dir: string) => spawnCli(['serve', '--port', '0', '--data-dir', dir, '--upstream', `${fakeUrl}/v1`, '--anthropic-upstream', fakeUrl], SERVE_READY, { env: benchChildEnv() });
  const proxy = await startProxy(dataDir);
  children.push(proxy);
  const bases: Record<string, string> = { proxy: proxy.ready[1]!, passThrough: pass.ready[1]!, direct: fakeUrl };
  const readCpu: Record<string, () => Promise<CpuReading>> = {
    proxy: () => readProcessCpu(proxy.pid),
    passThrough: () => readProcessCpu(pass.pid),
    direct: () => readProcessCpu(fake.pid),
  };
  // Every miss of the full proxy evicts an entry from each cache (the fill reaches the default maxEntries at 100k).
  const full = fullEntries > 0 ? await startProxy(fullDir) : undefined;
  if (full) {
    children.push(full);
    bases.proxyFull = full.ready[1]!;
    readCpu.proxyFull = () => readProcessCpu(full.pid);
  }
  const peers: Peer[] = [];
  const names = new Set<string>();
  for (const command of options.peers ?? []) {
    const peer = await startPeer(command, fakeUrl, names);
    if (!peer) continue;
    children.push(peer);
    peers.push(peer);
    bases[peer.name] = peer.baseUrl;
    // A peer runs under a shell, in a process group of its own (overheadPeers.ts).
    readCpu[peer.name] = () => readGroupCpu(peer.pid);
  }
  const concurrencies = options.concurrencies ?? DEFAULT_CONCURRENCIES;
  const targets = Object.keys(bases) as OverheadTarget[];
  const history = options.historyKb ? agentHistory(options.historyKb) : undefined;
  // Every request of the run asks a question nobody asked before.
  let counter = 0;
  const send = (target: OverheadTarget, concurrency: number, stream: boolean, count: number, onProgress?: (done: number) => void): Promise<LoadResult> => {
    const first = counter;
    counter += count;
    return runLoad({ url: `${bases[target]}/v1/chat/completions`, headers: HEADERS, body: (i) => missBody(first + i, stream, history), count, concurrency, agent, onProgress });
  };

  // Every process settles (compiled code, heap sizes) on the same mix of plain and streamed misses.
  if (warmups.perTarget > 0 && options.progress) process.stderr.write(`bench overhead: ${warmups.perTarget} warm-up misses per target …\n`);
  for (const target of warmups.perTarget > 0 ? targets : []) {
    const streamed = Math.floor(warmups.perTarget / 2);
    await send(target, START_WARMUP_CONCURRENCY, false, warmups.perTarget - streamed);
    await send(target, START_WARMUP_CONCURRENCY, true, streamed);
  }

  const cells = new Map<string, Accumulated>();
  const proxyLayers: Record<string, number> = {};
  const bar = options.progress ? startProgress('bench overhead: misses', concurrencies.length * 2 * targets.length * requests) : undefined;
  let doneBefore = 0;
  for (const concurrency of concurrencies) {
    for (const stream of [false, true]) {
      for (const target of targets) await send(target, concurrency, stream, warmup);
      for (let round = 0; round < rounds; round++) {
        const count = Math.floor(requests / rounds) + (round < requests % rounds ? 1 : 0);
        // Rotate who goes first, so no target always runs on the warmest (or coldest) machine.
        for (const turn of targets.keys()) {
          const target = targets[(turn + round) % targets.length]!;
          const cpuBefore = await readCpu[target]!();
          const result = await send(target, concurrency, stream, count, (done) => bar?.update(doneBefore + done));
          // What a target does after its last answer (the proxy's cache inserts) is part of a miss's
          // cost; and a quiet process's CPU figures are up to date (see processCpu.ts).
          await delay(SETTLE_MS);
          const cpuMs = cpuMsBetween(cpuBefore, await readCpu[target]!());
          doneBefore += count;
          const key = cellKey(target, concurrency, stream);
          const cell = cells.get(key) ?? { totalMs: [], firstByteMs: [], wallMs: 0, cpuMs: 0 };
          cell.totalMs.push(...result.totalMs);
          cell.firstByteMs.push(...result.firstByteMs);
          cell.wallMs += result.wallMs;
          cell.cpuMs += cpuMs;
          cells.set(key, cell);
          if (target === 'proxy') for (const [layer, n] of Object.entries(result.layers)) proxyLayers[layer] = (proxyLayers[layer] ?? 0) + n;
        }
      }
    }
  }
  bar?.stop();
  const megabytes = async (pid: number): Promise<number> => round(((await residentBytes(pid)) ?? 0) / (1024 * 1024), 1);
  const proxyRssMb = await megabytes(proxy.pid);
  const fullCache = full ? fullCacheReport(cells, concurrencies, fullEntries, await megabytes(full.pid), await cacheEntries(bases.proxyFull!)) : undefined;
  const hits = await measureHits(`${bases.proxy}/v1/chat/completions`, agent, requests, warmup, options.progress ?? false);
  const report = summarizeOverhead(cells, proxyLayers, hits, requests, concurrencies, prefill);
  const historyKb = options.historyKb ?? 0;
  const missRequestBytes = Buffer.byteLength(missBody(0, false, history));
  return {
    ...report, warmupPerCell: warmup, warmupPerTarget: warmups.perTarget, proxyRssMb, historyKb, missRequestBytes,
    peers: peers.map((peer) => peerReport(peer, cells, concurrencies)),
    ...(fullCache ? { fullCache } : {}),
  };
}

/** Entries in each cache of the serve at `base`, by cache name, from its `/isartor/stats`. */
async function cacheEntries(base: string): Promise<Record<string, number>> {
  const response = await fetch(`${base}/isartor/stats`);
  if (!response.ok) throw new Error(`${base}/isartor/stats answered ${response.status}`);
  const stats = (await response.json()) as { caches: Record<string, { entries: number }> };
  return Object.fromEntries(Object.entries(stats.caches).map(([name, cache]) => [name, cache.entries]));
}

/**
 * Fills `<dataDir>/exact` and `<dataDir>/semantic` to `entries` each, in the child `bench scale`
 * uses, so the proxy then starts on full caches and every miss evicts (issue 15's 100k figures).
 */
async function prefillCaches(entries: number, dataDir: string): Promise<void> {
  const fill = await spawnCli(['bench', 'scale', '--child', 'fill', '--entries', String(entries), '--data-dir', dataDir], /^bench scale fill /, { env: benchChildEnv(), stderr: 'collect' });
  await fill.exited;
}

/** A peer's figures, computed like the proxy's. */
function peerReport(peer: Peer, cells: Map<string, Accumulated>, concurrencies: readonly number[]): PeerReport {
  const { throughputRatios, cpuRatios, missP50AddedMs } = summarizeOverhead(cells, {}, { count: 0, p50Ms: 0, p99Ms: 0 }, 0, concurrencies, 0, peer.name as OverheadTarget);
  return { name: peer.name, command: peer.command, throughputRatios, cpuRatios, missP50AddedMs };
}

function cellKey(target: OverheadTarget, concurrency: number, stream: boolean): string {
  return `${target}/${concurrency}/${stream}`;
}

function measuredCell(cells: Map<string, Accumulated>, target: OverheadTarget, concurrency: number, stream: boolean): Accumulated {
  return cells.get(cellKey(target, concurrency, stream))!;
}

/** Requests per millisecond of `target` at `concurrency`, plain and streamed together. */
function throughputOf(cells: Map<string, Accumulated>, target: OverheadTarget, concurrency: number): number {
  const plain = measuredCell(cells, target, concurrency, false);
  const streamed = measuredCell(cells, target, concurrency, true);
  return (plain.totalMs.length + streamed.totalMs.length) / (plain.wallMs + streamed.wallMs);
}

/** CPU milliseconds per plain request of `target` at `concurrency`. */
function cpuPerPlainRequest(cells: Map<string, Accumulated>, target: OverheadTarget, concurrency: number): number {
  const plain = measuredCell(cells, target, concurrency, false);
  return plain.cpuMs / Math.max(1, plain.totalMs.length);
}

/** proxyFull over proxy, from the same run's cells (see FullCacheReport); a ratio over a zero reading is 0. */
function fullCacheReport(cells: Map<string, Accumulated>, concurrencies: readonly number[], entries: number, rssMb: number, entriesAfter: Record<string, number>): FullCacheReport {
  const ratio = (full: number, empty: number): number => (empty > 0 ? round(full / empty) : 0);
  const report: FullCacheReport = { entries, p50Ratios: {}, p99Ratios: {}, cpuRatios: {}, throughputRatios: {}, entriesAfter, rssMb };
  for (const concurrency of concurrencies) {
    const at = `c${concurrency}`;
    const fullPlain = measuredCell(cells, 'proxyFull', concurrency, false).totalMs;
    const emptyPlain = measuredCell(cells, 'proxy', concurrency, false).totalMs;
    report.p50Ratios[at] = ratio(percentile(fullPlain, 50), percentile(emptyPlain, 50));
    report.p99Ratios[at] = ratio(percentile(fullPlain, 99), percentile(emptyPlain, 99));
    report.cpuRatios[at] = ratio(cpuPerPlainRequest(cells, 'proxyFull', concurrency), cpuPerPlainRequest(cells, 'proxy', concurrency));
    report.throughputRatios[at] = ratio(throughputOf(cells, 'proxyFull', concurrency), throughputOf(cells, 'proxy', concurrency));
  }
  return report;
}

/** Turns the raw timings into the report (of `subject`, the proxy unless a peer): headline differences, ratios, one row per cell. */
function summarizeOverhead(
  cells: Map<string, Accumulated>,
  proxyLayers: Record<string, number>,
  hits: LatencySummary,
  requests: number,
  concurrencies: readonly number[],
  prefilled: number,
  subject: OverheadTarget = 'proxy',
): Omit<OverheadReport, 'proxyRssMb' | 'peers' | 'warmupPerCell' | 'warmupPerTarget' | 'historyKb' | 'missRequestBytes'> {
  const scenarios: OverheadScenario[] = [];
  for (const [key, cell] of cells) {
    const [target, concurrency, stream] = key.split('/') as [OverheadTarget, string, string];
    const totals = summarize(cell.totalMs);
    const firstBytes = summarize(cell.firstByteMs);
    scenarios.push({
      target, concurrency: Number(concurrency), stream: stream === 'true', requests: totals.count,
      p50Ms: totals.p50Ms, p99Ms: totals.p99Ms, ttfbP50Ms: firstBytes.p50Ms, ttfbP99Ms: firstBytes.p99Ms,
      throughputRps: round((totals.count / cell.wallMs) * 1000, 1),
      cpuMsPerRequest: round(cell.cpuMs / Math.max(1, totals.count), 3),
    });
  }
  const cellOf = (target: OverheadTarget, concurrency: number, stream: boolean): Accumulated => measuredCell(cells, target, concurrency, stream);
  const throughputAt = (target: OverheadTarget, concurrency: number): number => throughputOf(cells, target, concurrency);
  const cpuPerRequest = (target: OverheadTarget, concurrency: number): number => cpuPerPlainRequest(cells, target, concurrency);
  const throughputRatios: Record<string, number> = {};
  const cpuRatios: Record<string, number> = {};
  for (const concurrency of concurrencies) {
    throughputRatios[`c${concurrency}`] = round(throughputAt(subject, concurrency) / throughputAt('passThrough', concurrency));
    const baseline = cpuPerRequest('passThrough', concurrency);
    cpuRatios[`c${concurrency}`] = baseline > 0 ? round(cpuPerRequest(subject, concurrency) / baseline) : 0;
  }
  /** Percentile `q` at concurrency 1 of `target` minus the same of `baseline`. */
  const added = (target: OverheadTarget, baseline: OverheadTarget, q: number, stream: boolean, field: 'totalMs' | 'firstByteMs'): number =>
    round(percentile(cellOf(target, 1, stream)[field], q) - percentile(cellOf(baseline, 1, stream)[field], q));
  return {
    missP50AddedMs: added(subject, 'direct', 50, false, 'totalMs'),
    missP99AddedMs: added('proxy', 'direct', 99, false, 'totalMs'),
    throughputRatio: round(throughputAt('proxy', 32) / throughputAt('passThrough', 32)),
    ttfbAddedMs: added('proxy', 'direct', 50, true, 'firstByteMs'),
    hitP50Ms: hits.p50Ms,
    hitP99Ms: hits.p99Ms,
    requests,
    missP50AddedOverPassThroughMs: added('proxy', 'passThrough', 50, false, 'totalMs'),
    ttfbAddedOverPassThroughMs: added('proxy', 'passThrough', 50, true, 'firstByteMs'),
    proxyLayers,
    hitRequests: hits.count,
    throughputRatios,
    cpuRatios,
    prefilled,
    scenarios,
  };
}

/**
 * Times the L1a path: one question asked until the proxy answers it from the exact cache (the
 * answer is stored just after the first response ends), then the same request `count` times.
 */
async function measureHits(url: string, agent: Agent, count: number, warmup: number, progress: boolean): Promise<LatencySummary> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: 'How do I reverse a list in Python?' }] });
  const same = { url, headers: HEADERS, body: () => body, concurrency: 1, agent };
  // The store write lands moments after the first answer; asking again until it hits waits on that event.
  for (let attempt = 0; ; attempt++) {
    const probe = await runLoad({ ...same, count: 1 });
    if (probe.layers.l1a === 1) break;
    if (attempt >= 1000) throw new Error('the proxy never answered a repeated request from the exact cache (is L1a on?)');
  }
  await runLoad({ ...same, count: warmup });
  const bar = progress ? startProgress('bench overhead: L1a hits', count) : undefined;
  const result = await runLoad({ ...same, count, onProgress: (done) => bar?.update(done) });
  bar?.stop();
  if ((result.layers.l1a ?? 0) !== count) throw new Error(`expected ${count} L1a hits, got ${JSON.stringify(result.layers)}`);
  return summarize(result.totalMs);
}
