/**
 * `isartor bench overhead` and `isartor bench scale` as a user runs them, on small sizes: the
 * JSON fields exist with sane types and agree with each other, and bad arguments exit 2. Nothing
 * here judges a timing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { OverheadReport } from '../../src/bench/overhead';
import type { ScaleReport } from '../../src/bench/scale';
import { runCli } from './bench-helpers';

const isMs = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

describe('bench overhead', () => {
  it('reports every contract field, with each scenario measured and every proxy request a miss, agent context included', async () => {
    const requests = 12;
    const { status, stdout, stderr } = await runCli(['bench', 'overhead', '--requests', String(requests), '--history-kb', '8', '--json']);
    assert.equal(status, 0, stderr);
    const report = JSON.parse(stdout) as OverheadReport;
    const contract = ['missP50AddedMs', 'missP99AddedMs', 'throughputRatio', 'ttfbAddedMs', 'hitP50Ms', 'hitP99Ms'];
    assert.deepEqual(Object.keys(report).slice(0, contract.length), contract, 'the contract fields come first, in order');
    for (const field of ['missP50AddedMs', 'missP99AddedMs', 'ttfbAddedMs', 'missP50AddedOverPassThroughMs']) {
      assert.ok(Number.isFinite(report[field as keyof OverheadReport]), `${field} is a number (it may be negative)`);
    }
    assert.ok(report.throughputRatio > 0 && Number.isFinite(report.throughputRatio));
    assert.ok(isMs(report.hitP50Ms) && report.hitP50Ms <= report.hitP99Ms);
    assert.equal(report.requests, requests);
    assert.equal(report.hitRequests, requests);
    // The resent context is the same on every request; the new question still makes each a miss.
    assert.equal(report.historyKb, 8);
    assert.ok(report.missRequestBytes >= 8 * 1024 && report.missRequestBytes < 12 * 1024, `${report.missRequestBytes} bytes`);
    // 2 concurrencies × plain/streamed, every one of them a miss answered upstream.
    assert.deepEqual(report.proxyLayers, { l3: 4 * requests });
    assert.equal(report.scenarios.length, 12);
    for (const target of ['proxy', 'passThrough', 'direct']) {
      for (const concurrency of [1, 32]) {
        for (const stream of [false, true]) {
          const cell = report.scenarios.filter((s) => s.target === target && s.concurrency === concurrency && s.stream === stream);
          assert.equal(cell.length, 1, `${target} c=${concurrency} stream=${stream}`);
          const s = cell[0]!;
          assert.equal(s.requests, requests);
          assert.ok(isMs(s.p50Ms) && s.p50Ms <= s.p99Ms && s.ttfbP50Ms <= s.p50Ms && s.ttfbP50Ms <= s.ttfbP99Ms, JSON.stringify(s));
          assert.ok(s.throughputRps > 0);
        }
      }
    }
  });

  it('measures a peer gateway given with --peers after the same warm-up, and skips one that is not installed, with a line saying so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isartor-peer-'));
    try {
      // The smallest OpenAI-compatible gateway: forwards every request to the upstream it is given,
      // and notes in a file whether each one asked for a stream.
      const gateway = join(dir, 'tiny-gateway.js');
      const seen = join(dir, 'seen.txt');
      await writeFile(gateway, `const http = require('node:http');
const { appendFileSync } = require('node:fs');
const upstream = new URL(process.env.UPSTREAM);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => appendFileSync(${JSON.stringify(seen)}, JSON.parse(body).stream === true ? 's' : 'p'));
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  req.pipe(out);
}).listen(Number(process.argv[2]), '127.0.0.1');`);
      const { status, stdout, stderr } = await runCli(['bench', 'overhead', '--requests', '3', '--json', '--peers', `"${process.execPath}" "${gateway}" {port}`, '--peers', 'isartor-no-such-gateway --port {port}']);
      assert.equal(status, 0, stderr);
      assert.match(stderr, /peer "isartor-no-such-gateway --port \{port\}" skipped: it exited \(not installed\)/);
      const report = JSON.parse(stdout) as OverheadReport;
      assert.equal(report.peers.length, 1);
      const [peer] = report.peers;
      assert.ok(peer!.throughputRatios.c32! > 0 && Number.isFinite(peer!.missP50AddedMs));
      // The gateway runs under a shell: its CPU is read from the whole process group, not the shell's pid.
      assert.ok(peer!.cpuRatios.c1! > 0 && peer!.cpuRatios.c32! > 0, `CPU ratios ${JSON.stringify(peer!.cpuRatios)}`);
      assert.equal(report.scenarios.filter((s) => s.target === peer!.name).length, 4, 'the peer ran every scenario');
      // Before the first cell, every target gets the start warm-up (10 per measured request here),
      // half of it streamed; then each of the 4 cells gets its own warm-up and its measured requests.
      assert.equal(report.warmupPerTarget, 30);
      const sent = await readFile(seen, 'utf8');
      const perMode = 2 * (report.warmupPerCell + 3);
      assert.equal([...sent].filter((c) => c === 'p').length, 15 + perMode, sent);
      assert.equal([...sent].filter((c) => c === 's').length, 15 + perMode, sent);
      assert.ok(sent.startsWith(`${'p'.repeat(15)}${'s'.repeat(15)}`), `the warm-up comes first: ${sent}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('measures a second proxy on filled caches in the same rounds with --full-cache, and reports it over the empty one', async () => {
    const { status, stdout, stderr } = await runCli(['bench', 'overhead', '--requests', '3', '--full-cache', '40', '--json']);
    assert.equal(status, 0, stderr);
    const report = JSON.parse(stdout) as OverheadReport;
    const full = report.fullCache!;
    assert.ok(full, 'a fullCache section');
    assert.equal(full.entries, 40);
    assert.equal(report.prefilled, 0, 'the first proxy started empty');
    for (const ratios of [full.p50Ratios, full.p99Ratios, full.cpuRatios, full.throughputRatios]) {
      assert.deepEqual(Object.keys(ratios), ['c1', 'c32']);
      assert.ok(Object.values(ratios).every((ratio) => ratio > 0 && Number.isFinite(ratio)), JSON.stringify(ratios));
    }
    // The fill's 40 entries in each cache, plus what the full proxy's own misses stored (the start
    // warm-up of 30 and each cell's warm-up and measured requests): it did start on the filled dir.
    const ownMisses = 30 + 4 * (report.warmupPerCell + 3);
    assert.equal(full.entriesAfter.exact, 40 + ownMisses, JSON.stringify(full.entriesAfter));
    assert.ok(full.rssMb > 0);
    assert.equal(report.scenarios.filter((s) => s.target === 'proxyFull' && s.requests === 3).length, 4, 'proxyFull ran every scenario');
    assert.deepEqual(report.proxyLayers, { l3: 12 }, 'the empty proxy\'s figures are its own');
  });

  it('prints tables without --json', async () => {
    const { status, stdout } = await runCli(['bench', 'overhead', '--requests', '3']);
    assert.equal(status, 0);
    assert.match(stdout, /miss p50 added \(vs direct\)/);
    assert.match(stdout, /passThrough\s+32\s+stream\s+3\b/);
    assert.match(stdout, /unmeasured warm-up requests per target: before the first cell; before each cell\s+30; 3\b/);
    assert.match(stdout, /agent context resent with each miss \(KB\); one miss request \(bytes\)\s+0; \d{3}\b/);
  });

  it('exits 2 on bad arguments, before starting anything', async () => {
    for (const args of [['--requests', '0'], ['--requests'], ['--bogus']]) {
      const { status, stderr, stdout } = await runCli(['bench', 'overhead', ...args]);
      assert.equal(status, 2, args.join(' '));
      assert.match(stderr, /usage: isartor bench overhead/);
      assert.equal(stdout, '');
    }
  });
});

describe('bench scale', () => {
  it('fills both caches, finds what it stored, never finds what it did not, serves the first hit from L1a and a reworded one from L1b, and grows a fresh serve to the same size', async () => {
    const { status, stdout, stderr } = await runCli(['bench', 'scale', '--entries', '150,300', '--idle-seconds', '1', '--json']);
    assert.equal(status, 0, stderr);
    const report = JSON.parse(stdout) as ScaleReport;
    assert.deepEqual(report.sizes.map((run) => run.entries), [150, 300]);
    // Reworded questions L1b does not find fail at the dead upstream: serve's warnings stay out of the output.
    assert.doesNotMatch(stderr, /ECONNREFUSED|WARN/);
    for (const run of report.sizes) {
      const { exact, semantic, startup } = run;
      assert.equal(exact.hit.count, run.entries);
      assert.equal(exact.hit.found, exact.hit.count, 'every stored request is an L1a hit');
      assert.equal(exact.miss.found, 0, 'no unseen request is an L1a hit');
      assert.ok(semantic.hit.found <= semantic.hit.count && semantic.hit.found > 0);
      assert.ok(semantic.miss.found <= semantic.miss.count);
      for (const cache of [exact, semantic]) {
        assert.ok(cache.insertsPerSecond > 0 && cache.diskMb > 0);
        for (const lookups of [cache.hit, cache.miss]) assert.ok(isMs(lookups.p50Ms) && lookups.p50Ms <= lookups.p99Ms, JSON.stringify(lookups));
      }
      assert.ok(semantic.diskMb > exact.diskMb, 'semantic entries carry a vector and an index snapshot besides the answer');
      assert.ok(run.rssMb > 0 && run.baselineRssMb > 0 && run.heapUsedMb > 0);
      assert.equal(startup.firstHitLayer, 'l1a');
      assert.ok(startup.readyMs <= startup.healthzMs && startup.healthzMs <= startup.firstHitMs, JSON.stringify(startup));
      assert.ok(startup.serveRssMb === null || startup.serveRssMb > 0);
      assert.equal(startup.firstL1bLayer, 'l1b', 'the reworded stored question is found once the L1b index is open');
      assert.ok(startup.firstHitMs <= startup.firstL1bMs, JSON.stringify(startup));
      assert.ok(startup.servingRssMb === null || startup.servingRssMb > 0);
      assert.equal(startup.idleSeconds, 1);
      assert.ok(startup.idleRssMb === null || startup.idleRssMb > 0);
      // Node's own start is measured (spawn to exit of `node -e ""`). It is not compared with serve's
      // ready time: two processes timed apart, with serve reading a V8 code cache, can come either way.
      assert.ok(Number.isFinite(startup.nodeAloneMs) && startup.nodeAloneMs > 0, JSON.stringify(startup));
      // Grown over HTTP, serve stored every miss in both caches before its memory was read.
      assert.deepEqual([run.grown.exactEntries, run.grown.semanticEntries], [run.entries, run.entries]);
      assert.ok(run.grown.missesPerSecond > 0 && (run.grown.rssMb === null || run.grown.rssMb > 0), JSON.stringify(run.grown));
    }
    assert.ok(report.sizes[1]!.exact.diskMb > report.sizes[0]!.exact.diskMb, 'twice the entries take more room');
    // Serve idle on an empty data dir (issue 15's idle target): read wherever /proc is.
    if (process.platform === 'linux') assert.ok(report.emptyIdleRssMb !== null && report.emptyIdleRssMb > 20, String(report.emptyIdleRssMb));
  });

  it('exits 2 on bad arguments', async () => {
    for (const args of [['--entries', '10,,20'], ['--entries', 'many'], ['--child', 'fill']]) {
      const { status, stderr } = await runCli(['bench', 'scale', ...args]);
      assert.equal(status, 2, args.join(' '));
      assert.match(stderr, /usage: isartor bench scale/);
    }
  });
});
