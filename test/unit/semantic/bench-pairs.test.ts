// `isartor bench pairs` as DESIGN.md specifies it: judging rules, JSON fields, exit statuses.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { benchPairsCommand, wilsonInterval } from '../../../src/bench/pairs';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('l1b-bench'));
});
after(async () => {
  await cleanup();
});

async function run(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await benchPairsCommand(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { status, out, err };
}

const rows = [
  // True: a paraphrase on a duplicate pair returns the pair's own text_a.
  { text_a: 'Purchase?', text_b: 'Buy?', label: 1 },
  // False: the same kind of paraphrase on a pair labelled "not duplicate" returns its own text_a.
  { text_a: 'How do I purchase the pro plan?', text_b: 'How do I buy the pro plan?', label: 0 },
  // True by the first rule: text_b is (after folding) another pair's text_a.
  { text_a: 'How do I learn Rust quickly?', text_b: 'HOW do I rename a   branch in git?', label: 0 },
  { text_a: 'How do I rename a branch in git?', text_b: 'Which shell should I use?', label: 1 },
  // Unjudged: the hit returns some other pair's text_a that is neither text_b nor this pair's text_a.
  { text_a: 'Where do penguins live?', text_b: 'How do I rename a branch in git ?', label: 1 },
  // True but trivial: the very same bytes, which the exact cache answers anyway.
  { text_a: 'Is Rust memory safe?', text_b: 'Is Rust memory safe?', label: 1 },
  // A duplicate text_a (after folding) is loaded once.
  { text_a: 'purchase?', text_b: 'What is a monad?', label: 0 },
];

describe('isartor bench pairs', () => {
  it('judges hits as true, false or unjudged and prints the contract fields', async () => {
    const file = join(dir, 'pairs.jsonl');
    await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const { status, out } = await run(['--file', file, '--json']);
    assert.equal(status, 0);
    const report = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(report).sort(),
      ['embedder', 'falseHits', 'hits', 'lookupP50Ms', 'lookupP99Ms', 'nontrivialHits', 'nontrivialRecall', 'pairs', 'positives', 'precision', 'precisionCi95', 'recall', 'threshold', 'trueHits', 'unjudgedHits'].sort(),
    );
    assert.equal(report.pairs, 7);
    assert.equal(report.positives, 4);
    assert.equal(report.hits, 5);
    assert.equal(report.trueHits, 3);
    assert.equal(report.falseHits, 1);
    assert.equal(report.unjudgedHits, 1);
    assert.equal(report.precision, 0.6);
    assert.equal(report.recall, 0.5);
    // Purchase?→Buy? and the "HOW do I rename…" repeat add over L1a; the identical repeat does not.
    assert.equal(report.nontrivialHits, 2);
    assert.equal(report.nontrivialRecall, 0.25);
    assert.deepEqual(report.precisionCi95, wilsonInterval(3, 5));
    assert.match(String(report.embedder), /^lexical/);
    assert.equal(typeof report.threshold, 'number');
  });

  it('uses the threshold it is given and prints a readable summary without --json', async () => {
    const file = join(dir, 'pairs.jsonl');
    const strict = await run(['--file', file, '--threshold', '1.01']);
    assert.equal(strict.status, 2, 'a threshold above 1 is a bad argument');
    const human = await run(['--file', file, '--threshold', '0.99']);
    assert.equal(human.status, 0);
    assert.match(human.out, /precision\s+60\.00% \(95% interval/);
    assert.match(human.out, /non-trivial/);
    assert.match(human.out, /threshold 0\.99/);
  });

  it('computes the Wilson score interval', () => {
    // Reference values: Wilson (1927) / Newcombe (1998), z = 1.96.
    assert.deepEqual(wilsonInterval(99, 100), [0.9455, 0.9982]);
    assert.deepEqual(wilsonInterval(0, 10), [0, 0.2775]);
    assert.deepEqual(wilsonInterval(10, 10), [0.7225, 1]);
    assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
  });

  it('exits 2 for bad arguments and unreadable files', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text_a": "x", "text_b": "y", "label": 1}\nnot json\n');
    for (const argv of [[], ['--file'], ['--file', join(dir, 'missing.jsonl')], ['--file', bad], ['--file', bad, '--embedder', 'magic'], ['--frobnicate']]) {
      const result = await run(argv);
      assert.equal(result.status, 2, `argv ${JSON.stringify(argv)}`);
      assert.match(result.err, /usage: isartor bench pairs/);
    }
    assert.match((await run(['--file', bad])).err, /bad\.jsonl:2: not valid JSON/);
  });
});
