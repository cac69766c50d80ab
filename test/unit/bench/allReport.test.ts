// The targets of issues 8 and 15 judged against measured figures, and the Markdown page built from a run.
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

function results(over: { overhead?: Partial<OverheadReport>; full?: { entries?: number; p99Ms?: number; absent?: boolean }; sizes?: ScaleRun[]; emptyIdleRss?: number | null; pairsFalse?: number; tracesFalse?: number } = {}): Omit<BenchResults, 'targets'> {
  const pairs: PairsReport = {
    pairs: 100, positives: 40, hits: 10, trueHits: 9, falseHits: over.pairsFalse ?? 0, unjudgedHits: 1,
    precision: 0.9, precisionCi95: [0.5958, 0.9821], recall: 0.2, nontrivialHits: 4, nontrivialRecall: 0.1, threshold: 0.95, embedder: 'lexical', lookupP50Ms: 0.3, lookupP99Ms: 1,
  };
  const overhead: OverheadReport = {
    missP50AddedMs: 0.5, missP99AddedMs: 2, throughputRatio: 0.9, ttfbAddedMs: 0.4, hitP50Ms: 0.3, hitP99Ms: 0.9, requests: 100, warmupPerCell: 100, warmupPerTarget: 1000,
    missP50AddedOverPassThroughMs: 0.3, ttfbAddedOverPassThroughMs: 0.2, proxyLayers: { l3: 400 }, hitRequests: 100,
    throughputRatios: { c1: 0.95, c32: 0.9 }, cpuRatios: { c1: 1.5, c32: 1.6 }, prefilled: 0, historyKb: 0, missRequestBytes: 400, proxyRssMb: 90, peers: [],
    scenarios: [
      { target: 'proxy', concurrency: 1, stream: false, requests: 100, p50Ms: 1, p99Ms: 3, ttfbP50Ms: 1, ttfbP99Ms: 3, throughputRps: 900, cpuMsPerRequest: 0.2 },
      { target: 'proxy', concurrency: 32, stream: false, requests: 100, p50Ms: 5, p99Ms: 20, ttfbP50Ms: 5, ttfbP99Ms: 20, throughputRps: 2000, cpuMsPerRequest: 0.3 },
      { target: 'proxy', concurrency: 32, stream: true, requests: 100, p50Ms: 9, p99Ms: 90, ttfbP50Ms: 4, ttfbP99Ms: 40, throughputRps: 1000, cpuMsPerRequest: 0.4 },
    ],
    ...over.overhead,
  };
  // The full-cache run: the empty proxy's cells, and proxyFull's the same but for its plain c=32 p99.
  const fullP99 = over.full?.p99Ms ?? 25;
  const overheadFull: OverheadReport = {
    ...overhead,
    scenarios: [
      ...overhead.scenarios,
      ...overhead.scenarios.map((cell) => ({ ...cell, target: 'proxyFull' as const, ...(cell.concurrency === 32 && !cell.stream ? { p99Ms: fullP99 } : {}) })),
    ],
    ...(over.full?.absent ? {} : {
      fullCache: {
        entries: over.full?.entries ?? 100_000, p50Ratios: { c1: 1, c32: 1 }, p99Ratios: { c1: 1, c32: Math.round((fullP99 / 20) * 1000) / 1000 },
        cpuRatios: { c1: 1.1, c32: 1.2 }, throughputRatios: { c1: 0.95, c32: 0.9 }, entriesAfter: { exact: 100_000, semantic: 100_000 }, rssMb: 240,
      },
    }),
  };
  return {
    generatedAt: '2026-01-01T00:00:00.000Z', machine: machineInfo(), steps: [{ name: 'pairs', command: 'node bin/isartor.js bench pairs --json', seconds: 12 }],
    totalSeconds: 300, pairs, traces: { openai: tracesReport(over.tracesFalse ?? 0), anthropic: tracesReport(0) }, overhead, overheadFull,
    scale: { sizes: over.sizes ?? [scaleRun(10_000), scaleRun(100_000)], emptyIdleRssMb: over.emptyIdleRss === undefined ? 70 : over.emptyIdleRss },
  };
}

const statusOf = (input: Omit<BenchResults, 'targets'>, figureStart: string, issue?: string): string => {
  const target = judgeTargets(input).find((t) => t.figure.startsWith(figureStart) && (issue === undefined || t.issue === issue));
  assert.ok(target, `no target starting "${figureStart}"${issue ? ` of issue ${issue}` : ''}`);
  return target.status;
};

describe('judgeTargets', () => {
  it('lists every target of issues 8 and 15 once, each met or open', () => {
    const targets = judgeTargets(results({ overhead: { missP50AddedMs: 0.25, throughputRatios: { c1: 0.95, c32: 0.9, c128: 0.85 } } }));
    assert.equal(targets.length, 17);
    assert.equal(new Set(targets.map((t) => `${t.issue} ${t.figure}`)).size, targets.length);
    assert.deepEqual([...new Set(targets.map((t) => t.issue))].sort(), ['15', '8', '8, 15']);
    assert.ok(targets.every((t) => t.status === 'met'), JSON.stringify(targets.filter((t) => t.status !== 'met')));
  });

  it('opens the overhead targets at their bounds', () => {
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 1 } }), 'Miss path: p50', '8'), 'met');
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 1.001 } }), 'Miss path: p50', '8'), 'open');
    assert.equal(statusOf(results({ overhead: { throughputRatio: 0.799 } }), 'Miss path: throughput vs bare pass-through (c=32)'), 'open');
    assert.equal(statusOf(results({ overhead: { ttfbAddedMs: 1.2 } }), 'Streamed time', '8'), 'open');
  });

  it('judges issue 15\'s stricter latency bounds, c=128 throughput and CPU per miss at every concurrency', () => {
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 0.3 } }), 'Miss path: p50', '15'), 'met');
    assert.equal(statusOf(results({ overhead: { missP50AddedMs: 0.301 } }), 'Miss path: p50', '15'), 'open');
    assert.equal(statusOf(results({ overhead: { ttfbAddedMs: 0.5 } }), 'Streamed time', '15'), 'met');
    assert.equal(statusOf(results({ overhead: { ttfbAddedMs: 0.51 } }), 'Streamed time', '15'), 'open');
    assert.equal(statusOf(results({ overhead: { throughputRatios: { c1: 1, c32: 0.9, c128: 0.79 } } }), 'Miss path: throughput vs bare pass-through (c=128)'), 'open');
    const noC128 = judgeTargets(results()).find((t) => t.figure.endsWith('(c=128)'))!;
    assert.equal(noC128.status, 'open');
    assert.match(noC128.measured, /^not measured/);
    assert.equal(statusOf(results({ overhead: { cpuRatios: { c1: 2, c32: 1.9 } } }), 'Miss path: CPU'), 'met');
    const cpu = judgeTargets(results({ overhead: { cpuRatios: { c1: 1.5, c32: 2.01 } } })).find((t) => t.figure.startsWith('Miss path: CPU'))!;
    assert.equal(cpu.status, 'open', 'the worst concurrency decides');
    assert.equal(cpu.measured, 'c=1 1.500×, c=32 2.010×');
    // A CPU ratio of 0 is a reading that failed (no /proc), not a free miss.
    assert.equal(statusOf(results({ overhead: { cpuRatios: { c1: 0, c32: 0 } } }), 'Miss path: CPU'), 'open');
  });

  it('judges the miss p99 at a full cache by the ratio to the empty proxy of the same run, and only at 100k entries or more', () => {
    // The empty proxy's plain c=32 p99: 20 ms.
    assert.equal(statusOf(results({ full: { p99Ms: 30 } }), 'Miss p99'), 'met');
    const slow = judgeTargets(results({ full: { p99Ms: 30.1 } })).find((t) => t.figure.startsWith('Miss p99'))!;
    assert.equal(slow.status, 'open');
    assert.equal(slow.measured, '1.505× (30.1 / 20 ms, one run)');
    const small = judgeTargets(results({ full: { entries: 120, p99Ms: 1 } })).find((t) => t.figure.startsWith('Miss p99'))!;
    assert.equal(small.status, 'open');
    assert.match(small.measured, /^not measured/);
    const none = judgeTargets(results({ full: { absent: true } })).find((t) => t.figure.startsWith('Miss p99'))!;
    assert.equal(none.status, 'open');
    assert.match(none.measured, /^not measured/);
  });

  it('judges the idle memory of serve on an empty data dir, and the first L1b answer at 100k', () => {
    assert.equal(statusOf(results({ emptyIdleRss: 120 }), 'RSS of `isartor serve`, idle'), 'met');
    assert.equal(statusOf(results({ emptyIdleRss: 120.1 }), 'RSS of `isartor serve`, idle'), 'open');
    assert.equal(statusOf(results({ emptyIdleRss: null }), 'RSS of `isartor serve`, idle'), 'open');
    const slowL1b = scaleRun(100_000);
    slowL1b.startup.firstL1bMs = 1000.1;
    assert.equal(statusOf(results({ sizes: [slowL1b] }), 'Start-up to first L1b'), 'open');
    const wrongLayer = scaleRun(100_000);
    wrongLayer.startup.firstL1bLayer = 'l3';
    assert.equal(statusOf(results({ sizes: [wrongLayer] }), 'Start-up to first L1b'), 'open');
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
    const notMeasured = targets.filter((t) => t.measured.startsWith('not measured') && !t.figure.includes('c=128'));
    assert.equal(notMeasured.length, 5);
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
    for (const target of judgeTargets(input)) assert.ok(page.includes(`| ${target.issue} | ${target.figure} | ${target.measured} | ${target.target} | ${target.status} |`), target.figure);
    assert.ok(page.includes(input.machine.cpu) && page.includes(`Node ${process.version}`) && page.includes(`${input.machine.cores} cores`));
    assert.ok(page.includes('| 100,000 |') && page.includes('| 10,000 |'));
    assert.ok(page.includes('`node bin/isartor.js bench pairs --json`'));
    assert.match(page, /\| 8, 15 \| Miss path: throughput vs bare pass-through \(c=32\) \| 0\.500× \| ≥ 0\.8× \| open \|/);
    assert.ok(page.includes('throughput c=1 0.95×, c=32 0.9×; CPU per plain miss c=1 1.5×, c=32 1.6×.'));
    assert.ok(page.includes(
      'A second proxy on caches holding 100,000 entries each (`--full-cache`), in the same rounds as one on empty caches. ' +
      'Plain misses, full: c=1 p50 1 ms, p99 3 ms, 900 req/s; c=32 p50 5 ms, p99 25 ms, 2000 req/s; empty: c=1 p50 1 ms, p99 3 ms, 900 req/s; c=32 p50 5 ms, p99 20 ms, 2000 req/s. ' +
      'Full over empty: p50 c=1 1×, c=32 1×; p99 c=1 1×, c=32 1.25×; CPU per miss c=1 1.1×, c=32 1.2×; throughput c=1 0.95×, c=32 0.9×. ' +
      'The full proxy after them: exact 100,000 entries, semantic 100,000 entries, RSS 240 MB.',
    ));
    assert.ok(page.includes('Serve on an empty data dir, idle 3 s after its listening line: RSS 70 MB.'));
    // Start-up figures carry node's own start in the same environment, the floor under them.
    assert.ok(page.includes('200 ms (ready line 150 ms; `node -e ""` alone 45 ms here)'));
    assert.ok(page.includes('/ 700 (l1b) (45) |'));
    assert.ok(page.includes('## Proxy overhead (100 measured requests per target and scenario, keep-alive, after 1,000 warm-up misses per target)'));
  });
});
