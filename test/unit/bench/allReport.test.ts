// Issue 8's targets judged against measured figures, and the Markdown page built from a run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeTargets, machineInfo, renderMarkdown, type BenchResults } from '../../../src/bench/allReport';
import type { OverheadReport } from '../../../src/bench/overhead';
import type { PairsReport } from '../../../src/bench/pairs';
import type { ScaleRun } from '../../../src/bench/scale';
import type { TracesReport } from '../../../src/bench/traces';

const latency = (p50Ms: number, p99Ms: number, found: number) => ({ count: 2000, p50Ms, p99Ms, found });

function scaleRun(entries: number, over: { exactP99?: number; semanticP99?: number; rss?: number; serveRss?: number; servingRss?: number; grownRss?: number; grownHeld?: number; firstHit?: number; layer?: string } = {}): ScaleRun {
  return {
    entries,
    exact: { insertsPerSecond: 5000, diskMb: 200, hit: latency(0.02, over.exactP99 ?? 0.5, 2000), miss: latency(0.01, 0.1, 0) },
    semantic: { embedder: 'lexical', insertsPerSecond: 900, diskMb: 300, hit: latency(0.4, over.semanticP99 ?? 1.5, 1950), miss: latency(0.2, 1, 0) },
    rssMb: over.rss ?? 200,
    baselineRssMb: 120,
    heapUsedMb: 50,
    startup: { readyMs: 150, healthzMs: 160, firstHitMs: over.firstHit ?? 200, firstHitLayer: over.layer ?? 'l1a', serveRssMb: over.serveRss ?? 180, firstL1bMs: 700, firstL1bLayer: 'l1b', servingRssMb: over.servingRss ?? 190, idleRssMb: 170, idleSeconds: 60, nodeAloneMs: 45 },
    grown: { exactEntries: entries, semanticEntries: over.grownHeld ?? entries, rssMb: over.grownRss ?? 185, missesPerSecond: 2500 },
  };
}

function tracesReport(falseHits: number): TracesReport {
  return {
    trajectories: 2, requests: 40, deflected: { l1a: 3, l1b: 1, l2: 0 }, falseHits, l1bPairs: [], inputTokens: 1000, forwardedInputTokens: 900,
    prefixStableRatio: 1, billedInputTokens: { original: 500, forwarded: 450 }, p50Ms: 3, p99Ms: 9,
  };
}

function results(over: { overhead?: Partial<OverheadReport>; sizes?: ScaleRun[]; pairsFalse?: number; tracesFalse?: number } = {}): Omit<BenchResults, 'targets'> {
  const pairs: PairsReport = {
    pairs: 100, positives: 40, hits: 10, trueHits: 9, falseHits: over.pairsFalse ?? 0, unjudgedHits: 1,
    precision: 0.9, precisionCi95: [0.5958, 0.9821], recall: 0.2, nontrivialHits: 4, nontrivialRecall: 0.1, threshold: 0.95, embedder: 'lexical', lookupP50Ms: 0.3, lookupP99Ms: 1,
  };
  const overhead: OverheadReport = {
    missP50AddedMs: 0.5, missP99AddedMs: 2, throughputRatio: 0.9, ttfbAddedMs: 0.4, hitP50Ms: 0.3, hitP99Ms: 0.9, requests: 100, warmupPerCell: 100, warmupPerTarget: 1000,
    missP50AddedOverPassThroughMs: 0.3, ttfbAddedOverPassThroughMs: 0.2, proxyLayers: { l3: 400 }, hitRequests: 100,
    throughputRatios: { c1: 0.95, c32: 0.9 }, cpuRatios: { c1: 1.5, c32: 1.6 }, prefilled: 0, historyKb: 0, missRequestBytes: 400, proxyRssMb: 90, peers: [],
    scenarios: [{ target: 'proxy', concurrency: 1, stream: false, requests: 100, p50Ms: 1, p99Ms: 3, ttfbP50Ms: 1, ttfbP99Ms: 3, throughputRps: 900, cpuMsPerRequest: 0.2 }],
    ...over.overhead,
  };
  return {
    generatedAt: '2026-01-01T00:00:00.000Z', machine: machineInfo(), steps: [{ name: 'pairs', command: 'node bin/isartor.js bench pairs --json', seconds: 12 }],
    totalSeconds: 300, pairs, traces: { openai: tracesReport(over.tracesFalse ?? 0), anthropic: tracesReport(0) }, overhead,
    scale: { sizes: over.sizes ?? [scaleRun(10_000), scaleRun(100_000)] },
  };
}

const statusOf = (input: Omit<BenchResults, 'targets'>, figureStart: string): string => {
  const target = judgeTargets(input).find((t) => t.figure.startsWith(figureStart));
  assert.ok(target, `no target starting "${figureStart}"`);
  return target.status;
};

describe('judgeTargets', () => {
  it('lists every target of issue 8 once, each met or open', () => {
    const targets = judgeTargets(results());
    assert.equal(targets.length, 10);
    assert.ok(targets.every((t) => t.status === 'met'), JSON.stringify(targets.filter((t) => t.status !== 'met')));
  });

  it('opens the overhead targets at their bounds', () => {
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 1 } }), 'Miss path: p50'), 'met');
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 1.001 } }), 'Miss path: p50'), 'open');
    assert.equal(statusOf(results({ overhead: { throughputRatio: 0.799 } }), 'Miss path: throughput'), 'open');
    assert.equal(statusOf(results({ overhead: { ttfbAddedMs: 1.2 } }), 'Streamed time'), 'open');
  });

  it('judges the cache targets on the 100k run, not the 10k one', () => {
    const slowSmall = results({ sizes: [scaleRun(10_000, { exactP99: 5 }), scaleRun(100_000)] });
    assert.equal(statusOf(slowSmall, 'L1a hit p99'), 'met');
    const slowBig = results({ sizes: [scaleRun(10_000), scaleRun(100_000, { exactP99: 1.2, semanticP99: 2.5 })] });
    assert.equal(statusOf(slowBig, 'L1a hit p99'), 'open');
    assert.equal(statusOf(slowBig, 'L1b lookup p99'), 'open');
  });

  it('judges serve\'s memory, restarted and grown, by the largest figure, and needs the first answer to be an L1a hit', () => {
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { rss: 200, serveRss: 260 })] }), 'RSS'), 'open');
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { rss: 200, serveRss: 90, servingRss: 251 })] }), 'RSS'), 'open');
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { rss: 200, grownRss: 251 })] }), 'RSS'), 'open');
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { rss: 200, serveRss: 90, servingRss: 250, grownRss: 250 })] }), 'RSS'), 'met');
    // The fill child is not the proxy: its figure is reported, not judged.
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { rss: 320 })] }), 'RSS'), 'met');
    // A grown serve that dropped answers did not hold what the figure claims.
    const short = judgeTargets(results({ sizes: [scaleRun(100_000, { grownHeld: 99_000 })] })).find((t) => t.figure.includes('RSS'))!;
    assert.equal(short.status, 'open');
    assert.match(short.measured, /held only 100000 \/ 99000/);
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { firstHit: 301 })] }), 'Start-up'), 'open');
    assert.equal(statusOf(results({ sizes: [scaleRun(100_000, { layer: 'l3' })] }), 'Start-up'), 'open');
  });

  it('leaves the 100k targets open when no such size was measured', () => {
    const targets = judgeTargets(results({ sizes: [scaleRun(10_000)] }));
    const notMeasured = targets.filter((t) => t.measured.startsWith('not measured'));
    assert.equal(notMeasured.length, 4);
    assert.ok(notMeasured.every((t) => t.status === 'open'));
  });

  it('opens the false-hit target of the data set that had one', () => {
    assert.equal(statusOf(results({ pairsFalse: 1 }), 'False hits: qqp'), 'open');
    assert.equal(statusOf(results({ tracesFalse: 2 }), 'False hits: agent traces (OpenAI)'), 'open');
    assert.equal(statusOf(results({ tracesFalse: 2 }), 'False hits: agent traces (Anthropic)'), 'met');
  });
});

describe('renderMarkdown', () => {
  it('shows each target, the machine, every size and the exact commands', () => {
    const input = results({ overhead: { throughputRatio: 0.5 } });
    const page = renderMarkdown({ ...input, targets: judgeTargets(input) });
    for (const target of judgeTargets(input)) assert.ok(page.includes(`| ${target.figure} | ${target.measured} | ${target.target} | ${target.status} |`), target.figure);
    assert.ok(page.includes(input.machine.cpu) && page.includes(`Node ${process.version}`) && page.includes(`${input.machine.cores} cores`));
    assert.ok(page.includes('| 100,000 |') && page.includes('| 10,000 |'));
    assert.ok(page.includes('`node bin/isartor.js bench pairs --json`'));
    assert.match(page, /\| Miss path: throughput vs bare pass-through \(c=32\) \| 0\.500× \| ≥ 0\.8× \| open \|/);
    // Start-up figures carry node's own start in the same environment, the floor under them.
    assert.ok(page.includes('200 ms (ready line 150 ms; `node -e ""` alone 45 ms here)'));
    assert.ok(page.includes('/ 700 (l1b) (45) |'));
    assert.ok(page.includes('## Proxy overhead (100 measured requests per target and scenario, keep-alive, after 1,000 warm-up misses per target)'));
  });
});
