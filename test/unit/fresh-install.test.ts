// The README's plain `npm ci` works on a fresh machine with no environment variable (issue 11):
// onnxruntime-node's post-install download is skipped by the project's own .npmrc, and CI runs
// exactly what a user types, exporting nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';

const ROOT = join(__dirname, '..', '..');

/** The environment without any onnxruntime install setting, as on a user's machine. */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(ONNXRUNTIME_NODE_INSTALL|npm_config_onnxruntime)/i.test(name)) delete env[name];
  return env;
}

it('npm reads onnxruntime-node-install=skip from the project itself', () => {
  const result = spawnSync('npm', ['config', 'get', 'onnxruntime-node-install'], { cwd: ROOT, env: plainEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'skip');
});

it("onnxruntime-node's own install script, run by npm as `npm ci` runs it, skips its download and succeeds", () => {
  // Without the setting this script fetches GPU binaries from GitHub: offline it fails (exit 1).
  const result = spawnSync('npm', ['rebuild', 'onnxruntime-node', '--foreground-scripts'], { cwd: ROOT, env: plainEnv(), encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
});

it('.ci/run exports no environment variable: CI runs what a user types', () => {
  const script = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  const commands = script.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  for (const line of commands) {
    assert.doesNotMatch(line, /^\s*(export|declare\s+-x)\s/, `.ci/run exports: ${line}`);
    assert.doesNotMatch(line, /(^|[;&|]\s*)[A-Za-z_][A-Za-z0-9_]*=\S*\s+\S/, `.ci/run sets a variable for a command: ${line}`);
  }
  assert.ok(commands.some((line) => /\bnpm ci\b/.test(line)), '.ci/run runs npm ci');
});
