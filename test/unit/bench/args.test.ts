// Flags of `bench overhead`, `bench scale` and `bench all`: defaults, values, and the errors that exit 2.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllArgs } from '../../../src/bench/all';
import { BenchArgsError, integerList, positiveInteger } from '../../../src/bench/args';
import { DEFAULT_OVERHEAD_REQUESTS, parseOverheadArgs } from '../../../src/bench/overheadCommand';
import { DEFAULT_SCALE_ENTRIES, DEFAULT_STORE_ENTRIES, DEFAULT_STORE_REQUESTS, parseScaleArgs } from '../../../src/bench/scaleCommand';

describe('number flags', () => {
  it('reads whole numbers and lists of them', () => {
    assert.equal(positiveInteger('2000', '--requests'), 2000);
    assert.deepEqual(integerList('10000, 100000', '--entries'), [10_000, 100_000]);
  });

  it('refuses fractions, signs, words, zero and empty list items, naming the flag', () => {
    for (const raw of ['1.5', '-3', 'ten', '0', '', '1e3']) {
      assert.throws(() => positiveInteger(raw, '--requests'), (error: unknown) => error instanceof BenchArgsError && error.message.includes('--requests'), raw);
    }
    assert.throws(() => integerList('10,,20', '--entries'), BenchArgsError);
  });
});

describe('bench overhead flags', () => {
  it('defaults to the sized request count and table output', () => {
    assert.deepEqual(parseOverheadArgs([]), { requests: DEFAULT_OVERHEAD_REQUESTS, json: false, concurrencies: [1, 32], prefill: 0, fullCache: 0, historyKb: 0, peers: [] });
    assert.deepEqual(parseOverheadArgs(['--requests', '50', '--json']), { requests: 50, json: true, concurrencies: [1, 32], prefill: 0, fullCache: 0, historyKb: 0, peers: [] });
  });

  it('adds concurrencies to the headline 1 and 32, and takes a prefill count', () => {
    assert.deepEqual(parseOverheadArgs(['--concurrency', '128,32', '--prefill', '1000']), { requests: DEFAULT_OVERHEAD_REQUESTS, json: false, concurrencies: [1, 32, 128], prefill: 1000, fullCache: 0, historyKb: 0, peers: [] });
    assert.deepEqual(parseOverheadArgs(['--peers', 'gw-a --port {port}', '--peers', 'gw-b']).peers, ['gw-a --port {port}', 'gw-b']);
    assert.throws(() => parseOverheadArgs(['--concurrency', '0']), BenchArgsError);
    assert.throws(() => parseOverheadArgs(['--prefill', 'many']), BenchArgsError);
    assert.equal(parseOverheadArgs(['--full-cache', '100000']).fullCache, 100_000);
    assert.throws(() => parseOverheadArgs(['--full-cache', 'full']), BenchArgsError);
    // The full proxy is compared with the first one, which must start empty.
    assert.throws(() => parseOverheadArgs(['--full-cache', '10', '--prefill', '10']), /cannot be combined/);
  });

  it('takes the kilobytes of agent context each miss resends', () => {
    assert.equal(parseOverheadArgs(['--history-kb', '100']).historyKb, 100);
    assert.equal(parseOverheadArgs(['--history-kb', '0']).historyKb, 0);
    assert.throws(() => parseOverheadArgs(['--history-kb', 'big']), BenchArgsError);
  });

  it('takes a warm-up count, zero included, and leaves the default to the benchmark', () => {
    assert.equal(parseOverheadArgs([]).warmup, undefined);
    assert.equal(parseOverheadArgs(['--warmup', '3000']).warmup, 3000);
    assert.equal(parseOverheadArgs(['--warmup', '0']).warmup, 0);
    assert.throws(() => parseOverheadArgs(['--warmup', '-1']), BenchArgsError);
    assert.equal(parseOverheadArgs([]).startWarmup, undefined);
    assert.equal(parseOverheadArgs(['--start-warmup', '5000']).startWarmup, 5000);
    assert.equal(parseOverheadArgs(['--start-warmup', '0']).startWarmup, 0);
    assert.throws(() => parseOverheadArgs(['--start-warmup', '-1']), BenchArgsError);
  });

  it('refuses unknown flags, positionals, and a pass-through child without an upstream', () => {
    assert.throws(() => parseOverheadArgs(['--request', '5']), BenchArgsError);
    assert.throws(() => parseOverheadArgs(['extra']), BenchArgsError);
    assert.throws(() => parseOverheadArgs(['--child', 'pass-through']), BenchArgsError);
    assert.throws(() => parseOverheadArgs(['--child', 'other']), BenchArgsError);
  });
});

describe('bench scale flags', () => {
  it('defaults to 10k and 100k entries', () => {
    assert.deepEqual(parseScaleArgs([]), { entries: DEFAULT_SCALE_ENTRIES, json: false });
    assert.deepEqual(DEFAULT_SCALE_ENTRIES, [10_000, 100_000]);
    assert.deepEqual(parseScaleArgs(['--entries', '500', '--json']).entries, [500]);
  });

  it('compares against a Redis with --store, at 10k entries and 2000 timed hits unless told otherwise', () => {
    assert.deepEqual(parseScaleArgs(['--store', 'redis://127.0.0.1:6379']), { entries: DEFAULT_STORE_ENTRIES, json: false, store: { url: 'redis://127.0.0.1:6379', requests: DEFAULT_STORE_REQUESTS } });
    assert.deepEqual(DEFAULT_STORE_ENTRIES, [10_000]);
    assert.deepEqual(parseScaleArgs(['--store', 'rediss://u:p@h:6380/1', '--entries', '500,1000', '--requests', '50', '--json']), {
      entries: [500, 1000],
      json: true,
      store: { url: 'rediss://u:p@h:6380/1', requests: 50 },
    });
  });

  it('refuses a --store that is not a Redis URL, --requests without --store, and --store on the fill child', () => {
    for (const argv of [['--store', 'http://h:6379'], ['--store', 'not a url'], ['--store'], ['--requests', '10'], ['--store', 'redis://h', '--requests', '0'], ['--child', 'fill', '--entries', '3', '--data-dir', 'd', '--store', 'redis://h']]) {
      assert.throws(() => parseScaleArgs(argv), BenchArgsError, argv.join(' '));
    }
  });

  it('takes how long serve idles before its last RSS reading, only for the in-process fill', () => {
    assert.equal(parseScaleArgs(['--idle-seconds', '5']).idleSeconds, 5);
    for (const argv of [['--idle-seconds', '0'], ['--idle-seconds', 'soon'], ['--store', 'redis://h', '--idle-seconds', '5'], ['--child', 'fill', '--entries', '3', '--data-dir', 'd', '--idle-seconds', '5']]) {
      assert.throws(() => parseScaleArgs(argv), BenchArgsError, argv.join(' '));
    }
  });

  it('parses the fill child and refuses it without its folder', () => {
    const args = parseScaleArgs(['--child', 'fill', '--entries', '300', '--data-dir', 'some/dir']);
    assert.deepEqual(args.child, { entries: 300, dataDir: resolve('some/dir') });
    assert.throws(() => parseScaleArgs(['--child', 'fill', '--entries', '300']), BenchArgsError);
  });
});

describe('bench all flags', () => {
  it('looks for ../shared/eval beside the repository and writes to bench/results by default', () => {
    const args = parseAllArgs([], '/repo/main');
    assert.equal(args.evalDir, resolve('/repo/shared/eval'));
    assert.equal(args.outDir, join('/repo/main', 'bench', 'results'));
    assert.equal(args.tracesLimit, undefined);
  });

  it('takes another eval folder, output folder, sizes and a trace limit', () => {
    const args = parseAllArgs(['--eval-dir', '/data/eval', '--out', '/tmp/out', '--requests', '30', '--entries', '100,200', '--traces-limit', '2', '--json'], '/repo/main');
    assert.deepEqual(args, { evalDir: '/data/eval', outDir: '/tmp/out', requests: 30, entries: [100, 200], tracesLimit: 2, json: true });
  });

  it('refuses unknown flags', () => {
    assert.throws(() => parseAllArgs(['--evaldir', 'x'], '/repo/main'), BenchArgsError);
  });
});
