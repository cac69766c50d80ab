// Runs the test tiers with Node's own test runner (TypeScript through tsx).
// `node scripts/test.mjs` runs unit, integration and e2e; pass tier names to run fewer.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ALL_TIERS = ['unit', 'integration', 'e2e'];
const tiers = process.argv.slice(2).length ? process.argv.slice(2) : ALL_TIERS;

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function run(cmd, args, env = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

let failed = false;
// The whole suite starts with the static checks: types, and the lint rules that keep `vscode` out
// of the engine and promises from being dropped.
if (process.argv.slice(2).length === 0) {
  console.log('\n=== static checks: tsc, eslint ===');
  if (run('npx', ['tsc', '-p', '.', '--noEmit']) !== 0) failed = true;
  if (run('npx', ['eslint', '.']) !== 0) failed = true;
}
for (const tier of tiers) {
  if (!ALL_TIERS.includes(tier)) {
    console.error(`unknown test tier "${tier}" (expected ${ALL_TIERS.join(', ')})`);
    process.exit(2);
  }
  if (tier !== 'unit' && run('node', ['scripts/build.mjs']) !== 0) process.exit(1);
  if (tier === 'e2e' && run('bash', ['test/e2e/setup.sh']) !== 0) process.exit(1);
  const files = testFiles(join('test', tier));
  if (files.length === 0) continue;
  console.log(`\n=== ${tier} tests (${files.length} files) ===`);
  const concurrency = tier === 'unit' ? [] : ['--test-concurrency=1'];
  const status = run('node', ['--import', 'tsx', '--test', ...concurrency, '--test-reporter=spec', ...files]);
  if (status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
