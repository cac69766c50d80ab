/**
 * `isartor --version` names the installed package's version and `--help` works on every command
 * (exit 0, the command's own usage on stdout), as a user types them against the built CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'isartor.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('--version prints the version of package.json', () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const result = run(flag);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${version}\n`);
  }
});

test('--help on every command prints that command\'s usage and exits 0', () => {
  const overview = run('--help');
  assert.equal(overview.status, 0);
  for (const command of ['serve', 'stats', 'model', 'bench']) assert.match(overview.stdout, new RegExp(`^  ${command} `, 'm'));
  const expected: Record<string, RegExp> = { serve: /isartor serve .*--open/, stats: /isartor stats \[--data-dir DIR\] \[--json\]/, model: /isartor model status/, bench: /isartor bench pairs/ };
  for (const [command, usage] of Object.entries(expected)) {
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const result = run(...args);
      assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, usage, args.join(' '));
    }
  }
  // Help wins over the rest of the line, even an incomplete one.
  const nested = run('bench', 'pairs', '--help');
  assert.equal(nested.status, 0, nested.stderr);
  assert.match(nested.stdout, /isartor bench traces/);
  assert.match(nested.stdout, /--full-cache N/, 'every bench mode\'s flags are listed');
  // Help on a command that does not exist is an error, not the overview.
  const unknown = run('help', 'frob');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frob"/);
});

test('a missing or unknown bench mode prints the same usage as bench --help, and exits 2', () => {
  const help = run('bench', '--help').stdout;
  for (const args of [['bench'], ['bench', 'nope']]) {
    const result = run(...args);
    assert.equal(result.status, 2, args.join(' '));
    assert.ok(result.stderr.endsWith(`${help}`), `${args.join(' ')}: ${result.stderr}`);
  }
});
