import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OverheadReport } from '../../../src/bench/overhead';
import { formatOverhead } from '../../../src/bench/overheadCommand';

const report: OverheadReport = {
  missP50AddedMs: 0.605, missP99AddedMs: 3.385, throughputRatio: 0.563, ttfbAddedMs: 0.78, hitP50Ms: 0.269, hitP99Ms: 1.703,
  requests: 1000, warmupPerCell: 200, warmupPerTarget: 3000, missP50AddedOverPassThroughMs: 0.409, ttfbAddedOverPassThroughMs: 0.236,
  proxyLayers: { l3: 4000 }, hitRequests: 1000, throughputRatios: { c1: 0.398, c32: 0.563 }, cpuRatios: { c1: 4.56, c32: 4.22 },
  prefilled: 0, historyKb: 0, missRequestBytes: 488, proxyRssMb: 159.5, peers: [],
  scenarios: [{ target: 'proxy', concurrency: 1, stream: true, requests: 1000, p50Ms: 1.295, p99Ms: 4.301, ttfbP50Ms: 1.012, ttfbP99Ms: 4.2, throughputRps: 670.5, cpuMsPerRequest: 1.456 }],
};

/** The value on the headline row named `figure`. */
function row(table: string, figure: string): string {
  const line = table.split('\n').find((candidate) => candidate.startsWith(`${figure} `));
  assert.ok(line, `no row "${figure}" in:\n${table}`);
  return line.slice(figure.length).trim();
}

test('the overhead table gives each headline figure against direct and against the bare pass-through', () => {
  const table = formatOverhead(report);
  assert.equal(row(table, 'miss p50 added (vs direct)'), '0.605 ms');
  assert.equal(row(table, 'miss p50 added (vs pass-through)'), '0.409 ms');
  assert.equal(row(table, 'stream TTFB p50 added (vs direct)'), '0.780 ms');
  assert.equal(row(table, 'stream TTFB p50 added (vs pass-through)'), '0.236 ms');
  assert.equal(row(table, 'throughput, proxy / pass-through'), 'c1 0.398x, c32 0.563x');
  assert.equal(row(table, 'CPU per miss, proxy / pass-through (plain)'), 'c1 4.56x, c32 4.22x');
});
