// Runs the test tiers with Node's own test runner (TypeScript through tsx).
// `node scripts/test.mjs` runs unit, integration and e2e; pass tier names to run fewer.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

/** True when `command` is on PATH. */
function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// Debian packages the integration tests start: redis-server (the shared-cache tests run their own on
// a free loopback port) and Chromium (the browser-attack, savings page and panel tests). As root on
// Debian (CI, a fresh machine) they are installed here, so `npm ci && npm test` stays the whole
// set-up for a user as for CI; otherwise the message says what to install. (The e2e tier's own
// packages are test/e2e/setup.sh's.)
const INTEGRATION_PACKAGES = [
  { name: 'redis-server', present: () => has('redis-server') },
  { name: 'chromium', present: () => existsSync('/usr/bin/chromium') },
];

function ensureDebianPackages(packages) {
  const missing = () => packages.filter((pkg) => !pkg.present()).map((pkg) => pkg.name);
  if (missing().length === 0) return true;
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log(`[integration setup] installing Debian packages: ${missing().join(' ')}`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-qq'], env) === 0) run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing()], env);
    if (missing().length === 0) return true;
  }
  console.error(`[integration setup] missing Debian packages: apt-get update && apt-get install -y --no-install-recommends ${missing().join(' ')}`);
  return false;
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
  if (tier === 'integration' && !ensureDebianPackages(INTEGRATION_PACKAGES)) process.exit(1);
  const files = testFiles(join('test', tier));
  if (files.length === 0) continue;
  console.log(`\n=== ${tier} tests (${files.length} files) ===`);
  const concurrency = tier === 'unit' ? [] : ['--test-concurrency=1'];
  const status = run('node', ['--import', 'tsx', '--test', ...concurrency, '--test-reporter=spec', ...files]);
  if (status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
