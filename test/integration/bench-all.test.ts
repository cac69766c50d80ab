/**
 * `isartor bench all` (what `npm run bench` runs) on a small evaluation folder made here: every
 * mode runs as its own command, latest.json and latest.md are written and agree, and a missing
 * evaluation folder exits 2. Nothing here judges a timing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { BenchResults } from '../../src/bench/allReport';
import { runCli } from './bench-helpers';

let root: string;
let evalDir: string;

/** A two-call agent trajectory in the mini-swe-agent format the traces mode reads. */
function trajectory(task: string): Buffer {
  const usage = (prompt: number) => ({ usage: { prompt_tokens: prompt, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 0 } } });
  const messages = [
    { role: 'system', content: 'You are a helpful assistant that can run bash commands.' },
    { role: 'user', content: `Please solve this task: ${task}` },
    {
      role: 'assistant', content: 'Let me look at the files first.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }],
      extra: { response: { ...usage(60), choices: [{ finish_reason: 'tool_calls' }] } },
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'main.py\nREADME.md' },
    { role: 'assistant', content: 'The task is done.', extra: { response: { ...usage(90), choices: [{ finish_reason: 'stop' }] } } },
  ];
  return gzipSync(JSON.stringify({ info: { config: { model: { model_name: 'deepseek-chat' } } }, messages, trajectory_format: 'test', instance_id: task }));
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-bench-all-'));
  evalDir = join(root, 'eval');
  const pairs = [
    { text_a: 'How do I learn Python quickly?', text_b: 'How can I learn Python fast?', label: 1 },
    { text_a: 'What is the capital of France?', text_b: 'What is the capital of Germany?', label: 0 },
    { text_a: 'How do I sort a list in Python?', text_b: 'How do I sort a list in Python?', label: 1 },
  ];
  await mkdir(evalDir, { recursive: true });
  await writeFile(join(evalDir, 'qqp-dev.jsonl'), pairs.map((pair) => JSON.stringify(pair)).join('\n'));
  // The same task in two runs: the second run's requests repeat the first's exactly.
  for (const run of ['run-1', 'run-2']) {
    await mkdir(join(evalDir, 'agent-traces', run, 'task-a'), { recursive: true });
    await writeFile(join(evalDir, 'agent-traces', run, 'task-a', 'task-a.traj.json.gz'), trajectory('rename a variable'));
  }
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bench all', () => {
  it('runs every mode, writes latest.json and latest.md, and judges every target', async () => {
    const out = join(root, 'results');
    const { status, stdout, stderr } = await runCli(['bench', 'all', '--eval-dir', evalDir, '--out', out, '--requests', '6', '--entries', '120', '--json']);
    assert.equal(status, 0, stderr);
    const printed = JSON.parse(stdout) as BenchResults;
    const written = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchResults;
    assert.deepEqual(written, printed);

    assert.deepEqual(written.steps.map((step) => step.name), ['pairs', 'traces (OpenAI)', 'traces (Anthropic)', 'overhead', 'overhead, full caches', 'scale']);
    for (const step of written.steps) {
      assert.match(step.command, /^node bin\/isartor\.js bench \w+ .*--json$/);
      assert.ok(step.seconds > 0);
    }
    // The recorded command runs from the repository root; its file may be written relative to it.
    const pairsFile = /--file (\S+)/.exec(written.steps[0]!.command)?.[1];
    assert.equal(pairsFile && resolve(join(__dirname, '..', '..'), pairsFile), join(evalDir, 'qqp-dev.jsonl'));
    // The two trace replays run side by side; every other step runs alone, one after the other.
    const [pairsStep, openaiStep, anthropicStep, ...rest] = written.steps;
    const sequential = pairsStep!.seconds + Math.max(openaiStep!.seconds, anthropicStep!.seconds) + rest.reduce((sum, step) => sum + step.seconds, 0);
    assert.ok(written.totalSeconds >= sequential - 0.5, `${written.totalSeconds} s in total, steps ${sequential} s`);

    assert.equal(written.pairs.pairs, 3);
    assert.ok(written.pairs.hits <= written.pairs.pairs && written.pairs.trueHits + written.pairs.falseHits + written.pairs.unjudgedHits === written.pairs.hits);
    for (const api of ['openai', 'anthropic'] as const) {
      const traces = written.traces[api];
      assert.equal(traces.trajectories, 2);
      assert.equal(traces.requests, 4);
      const deflected = traces.deflected.l1a + traces.deflected.l1b + traces.deflected.l2;
      assert.ok(deflected <= traces.requests);
      assert.ok(traces.deflected.l1a >= 1, `${api}: the repeated run is answered from L1a`);
      assert.equal(traces.falseHits, 0);
    }
    assert.equal(written.overhead.requests, 6);
    assert.deepEqual(Object.keys(written.overhead.throughputRatios), ['c1', 'c32', 'c128']);
    assert.equal(written.overheadFull.fullCache?.entries, 120, 'the full-cache run fills a second proxy\'s caches to the largest scale size');
    assert.equal(written.overheadFull.prefilled, 0, 'and compares it with a proxy on empty caches in the same run');
    assert.equal(written.overheadFull.requests, 24, 'with four times the requests per cell');
    assert.ok(written.scale.emptyIdleRssMb === null || written.scale.emptyIdleRssMb > 0);
    assert.deepEqual(written.scale.sizes.map((run) => run.entries), [120]);
    assert.deepEqual(written.scale.sizes.map((run) => [run.grown.exactEntries, run.grown.semanticEntries]), [[120, 120]], 'serve grown over HTTP to the same size');

    assert.equal(written.targets.length, 17);
    assert.ok(written.targets.every((t) => t.status === 'met' || t.status === 'open'));
    // No 100k run: the five targets at 100k entries and the full-cache miss p99 stay open.
    assert.equal(written.targets.filter((t) => t.measured.startsWith('not measured')).length, 6);
    assert.equal(written.machine.node, process.version);
    assert.ok(written.machine.cores >= 1 && written.machine.cpu.length > 0);

    const page = await readFile(join(out, 'latest.md'), 'utf8');
    for (const target of written.targets) assert.ok(page.includes(`| ${target.issue} | ${target.figure} | ${target.measured} | ${target.target} | ${target.status} |`), target.figure);
    for (const step of written.steps) assert.ok(page.includes(`\`${step.command}\``));
    assert.ok(page.includes(written.machine.cpu));
  });

  it('exits 2 when the evaluation data is missing, writing nothing', async () => {
    const out = join(root, 'never');
    const { status, stderr } = await runCli(['bench', 'all', '--eval-dir', join(root, 'nowhere'), '--out', out]);
    assert.equal(status, 2);
    assert.match(stderr, /cannot read .*qqp-dev\.jsonl/);
    await assert.rejects(readFile(join(out, 'latest.json')), { code: 'ENOENT' });
  });

  it('exits 2 on an unknown flag', async () => {
    const { status, stderr } = await runCli(['bench', 'all', '--eval', evalDir]);
    assert.equal(status, 2);
    assert.match(stderr, /usage: isartor bench all/);
  });
});
