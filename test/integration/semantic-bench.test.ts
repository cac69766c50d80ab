// `isartor bench pairs` as an external check calls it: the built CLI, a pairs file, JSON on stdout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-bench-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/isartor.js', 'bench', 'pairs', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

it('prints the contract JSON and exits 0, or exits 2 for an unreadable file', async () => {
  const file = join(dir, 'pairs.jsonl');
  const rows = [
    { text_a: 'Purchase?', text_b: 'Buy?', label: 1 },
    { text_a: 'How do I sort a list in Python?', text_b: 'How do I sort a list in Rust?', label: 0 },
  ];
  await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n'));
  const ok = await cli(['--file', file, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as Record<string, number | string>;
  assert.equal(report.pairs, 2);
  assert.equal(report.positives, 1);
  assert.equal(report.trueHits, 1);
  assert.equal(report.falseHits, 0);
  assert.equal(report.recall, 1);
  assert.equal(report.precision, 1);
  const missing = await cli(['--file', join(dir, 'missing.jsonl'), '--json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read/);
});
