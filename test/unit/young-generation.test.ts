import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SERVE_NEW_SPACE_MB, growthFactorTowards, userSizedYoungGeneration } from '../../src/cli/youngGeneration';

const MB = 1024 * 1024;
const run = promisify(execFile);

test('a young generation the user sized is found in node\'s arguments and in NODE_OPTIONS, in either spelling', () => {
  assert.equal(userSizedYoungGeneration(['--max-semi-space-size=4'], undefined), true);
  assert.equal(userSizedYoungGeneration(['--max_semi_space_size=64'], undefined), true);
  assert.equal(userSizedYoungGeneration([], '--expose-gc --min-semi-space-size=2'), true);
  assert.equal(userSizedYoungGeneration([], '--semi-space-growth-factor=1'), true);
});

test('other flags do not size the young generation', () => {
  assert.equal(userSizedYoungGeneration([], undefined), false);
  assert.equal(userSizedYoungGeneration(['--heap-growing-percent=30', '--max-old-space-size=512'], '  --enable-source-maps  '), false);
  assert.equal(userSizedYoungGeneration(['--max-semi-space-sizes=4'], undefined), false);
});

test('the growth factor reaches the cap in one step and stops there', () => {
  assert.equal(growthFactorTowards(2 * MB, 8 * MB), 4);
  assert.equal(growthFactorTowards(4 * MB, 8 * MB), 2);
  // Never past the cap: 3 MB grows to 6, not 9.
  assert.equal(growthFactorTowards(3 * MB, 8 * MB), 2);
  assert.equal(growthFactorTowards(8 * MB, 8 * MB), 1);
  assert.equal(growthFactorTowards(32 * MB, 8 * MB), 1);
  assert.equal(growthFactorTowards(0, 8 * MB), 1);
});

/**
 * Runs the child that allocates like a busy proxy (young-generation-child.ts) and returns the
 * largest young generation it saw, in MB.
 */
async function largestYoungGeneration(mode: 'cap' | 'default', nodeOptions = ''): Promise<number> {
  const child = join(__dirname, 'fixtures', 'young-generation-child.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, mode], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  return Number(JSON.parse(stdout).largestMb);
}

test(`serve's cap holds a busy main thread's young generation at ${SERVE_NEW_SPACE_MB} MB, where V8 alone grows it further`, async () => {
  const [capped, uncapped] = await Promise.all([largestYoungGeneration('cap'), largestYoungGeneration('default')]);
  assert.ok(uncapped > SERVE_NEW_SPACE_MB, `without the cap the young generation grew to ${uncapped} MB`);
  assert.ok(capped <= SERVE_NEW_SPACE_MB, `with the cap it reached ${capped} MB`);
});

test('the cap leaves a young generation the user sized in NODE_OPTIONS alone', async () => {
  const largest = await largestYoungGeneration('cap', '--max-semi-space-size=16');
  assert.ok(largest > SERVE_NEW_SPACE_MB, `two 16 MB semi-spaces the user asked for were held at ${largest} MB`);
});
