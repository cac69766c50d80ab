/**
 * `isartor bench traces` end to end: real trajectories replayed through the full proxy against the
 * fake upstream, the contract's JSON fields, a rerun served from L1a without false hits, and exit
 * status 2 for bad arguments.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runTracesBench } from '../../src/bench/traces';
import { benchTracesCommand } from '../../src/bench/tracesCommand';

const TRACES = join(__dirname, '../../../shared/eval/agent-traces');
const SHORT_TASK = 'django__django-14752';
const SHORT_FILE = join(TRACES, 'swebench-test-run', SHORT_TASK, `${SHORT_TASK}.traj.json.gz`);
let folder: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'isartor-traces-it-'));
});
after(() => rm(folder, { recursive: true, force: true }));

test('Anthropic replay without client markers: at least 80% less billed input, prefix-stable ratio 1', async () => {
  const dir = join(folder, 'one');
  await mkdir(join(dir, SHORT_TASK), { recursive: true });
  await copyFile(SHORT_FILE, join(dir, SHORT_TASK, `${SHORT_TASK}.traj.json.gz`));
  const report = await runTracesBench({ dir, api: 'anthropic' });
  assert.deepEqual(Object.keys(report), ['trajectories', 'requests', 'deflected', 'falseHits', 'l1bPairs', 'inputTokens', 'forwardedInputTokens', 'prefixStableRatio', 'billedInputTokens', 'p50Ms', 'p99Ms']);
  assert.equal(report.trajectories, 1);
  assert.equal(report.requests, 31, 'one request per recorded assistant turn');
  assert.equal(report.falseHits, 0);
  assert.equal(report.prefixStableRatio, 1);
  assert.equal(report.billedInputTokens.original, report.inputTokens, 'without markers Anthropic caches nothing');
  assert.ok(report.billedInputTokens.forwarded <= 0.2 * report.billedInputTokens.original, JSON.stringify(report.billedInputTokens));
});

test('a folder holding the same run twice: the rerun is served from L1a, without false hits', async () => {
  const dir = join(folder, 'twice');
  for (const run of ['run-a', 'run-b']) {
    await mkdir(join(dir, run), { recursive: true });
    await copyFile(SHORT_FILE, join(dir, run, `${SHORT_TASK}.traj.json.gz`));
  }
  const report = await runTracesBench({ dir, api: 'openai' });
  assert.equal(report.trajectories, 2);
  assert.equal(report.requests, 62);
  assert.equal(report.deflected.l1a, 31);
  assert.equal(report.falseHits, 0);
  assert.equal(report.forwardedInputTokens * 2, report.inputTokens, 'only the first run reached the upstream');
  assert.ok(report.billedInputTokens.forwarded < report.billedInputTokens.original);
});

test('the command: JSON on stdout with --json, exit 2 for bad arguments or unreadable input', async () => {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const quiet = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await benchTracesCommand(['--json']), 2, '--dir is required');
    assert.equal(await benchTracesCommand(['--dir', join(folder, 'missing'), '--json']), 2);
    assert.equal(await benchTracesCommand(['--dir', folder, '--api', 'gemini']), 2);
    assert.equal(await benchTracesCommand(['--dir', folder, '--limit', '0']), 2);
    const broken = join(folder, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'x.traj.json.gz'), 'not gzip');
    assert.equal(await benchTracesCommand(['--dir', broken, '--json']), 2);
    process.stdout.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stdout.write;
    assert.equal(await benchTracesCommand(['--dir', join(folder, 'one'), '--limit', '1', '--api', 'anthropic', '--json']), 0);
  } finally {
    process.stdout.write = write;
    process.stderr.write = quiet;
  }
  const report = JSON.parse(written.join('')) as { requests: number; prefixStableRatio: number };
  assert.equal(report.requests, 31);
  assert.equal(report.prefixStableRatio, 1);
});
