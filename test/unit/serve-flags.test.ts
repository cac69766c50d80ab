import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHILD = join(__dirname, 'fixtures', 'serve-flags-child.ts');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isartor-serve-flags-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a stand-in for serve (`make-serve` or `make-plain`) that makes a code cache at exit, then a start that compiles with it. */
async function nextStartRejects(make: 'make-serve' | 'make-plain'): Promise<boolean> {
  const file = join(dir, `${make}.cache`);
  const env = { ...process.env, NODE_OPTIONS: '' };
  await run(process.execPath, ['--import', 'tsx', CHILD, make, file], { env });
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, 'check', file], { env });
  return (JSON.parse(stdout) as { rejected: boolean }).rejected;
}

test('a code cache made at exit under changed V8 flags is rejected by the next start: the hazard serveFlags.ts exists for', async () => {
  assert.equal(await nextStartRejects('make-plain'), true);
});

test('serve puts the flags it changed back before the code cache is made at exit, and the next start accepts the cache', async () => {
  assert.equal(await nextStartRejects('make-serve'), false);
});
