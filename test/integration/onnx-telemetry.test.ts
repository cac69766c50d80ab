/**
 * onnxruntime-node 1.30 (what transformers.js runs a neural embedder on) reports usage to Microsoft
 * by default on Linux and macOS: a device id and queued events under
 * $XDG_CACHE_HOME/Microsoft/DeveloperTools, `.ses` and `mat-debug-<pid>.log` in the temp dir, and
 * uploads. The built `isartor serve`, with L1b on a real (tiny) ONNX model in its worker thread and
 * no opt-out or CI variable in its environment, must leave none of that behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { startFakeUpstream, type FakeUpstream } from '../../src/bench/fakeUpstream';
import { ORT_TELEMETRY_OPT_OUTS } from '../../src/core/embed/onnxTelemetry';
import { tempDirUntilExit } from '../fixtures/tempDir';
import { writeTinyBert } from '../fixtures/tinyBert';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
/** What onnxruntime reads as "running in CI" (it then sends nothing): a user's shell has none of them. */
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI', 'ORT_RUNNING_UNIT_TESTS'];

let fake: FakeUpstream;
let root: string;

before(async () => {
  fake = await startFakeUpstream();
  root = tempDirUntilExit('isartor-ort-telemetry-');
});
after(() => fake.close());

/** Every path under `dir`, relative to it. */
function listAll(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

test('a neural embedder in serve writes no telemetry id, queue or session file', async () => {
  const modelDir = await writeTinyBert(join(root, 'tiny-bert'), { words: ['i', 'need', 'an', 'example', 'of', 'closures'] });
  const home = join(root, 'home');
  const cache = join(root, 'cache');
  const temp = join(root, 'tmp');
  for (const dir of [home, cache, temp]) mkdirSync(dir);
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify({ semantic: { embedder: 'transformers', model: modelDir } }));

  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: cache, TMPDIR: temp };
  for (const name of [...CI_VARIABLES, ...ORT_TELEMETRY_OPT_OUTS, 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'ISARTOR_PORT', 'ISARTOR_DATA_DIR', 'ISARTOR_CONFIG']) delete env[name];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(root, 'data'), '--config', configFile, '--upstream', fake.openaiBase], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    const [line] = (await Promise.race([once(createInterface({ input: child.stdout }), 'line'), exited.then(() => assert.fail(`serve exited: ${stderr}`))])) as [string];
    const url = /^isartor listening on (http:\S+) /.exec(line)?.[1];
    assert.ok(url, line);
    // A miss looks the turn up (waiting for the worker to open the model) and stores it, embedded.
    for (const content of ['I need an example of closures', 'I need an example of closures, please']) {
      const response: Response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ort-telemetry-test' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    const stats = (await (await fetch(`${url}/isartor/stats`)).json()) as { layers: Record<string, { detail: string }> };
    // The model ran in onnxruntime: without the opt-out, this is when it writes its files.
    assert.match(stats.layers.semantic?.detail ?? '', /^transformers:dir:/, stderr);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  // The CLI keeps its own V8 code cache there (bin/codeCache.js); nothing else may appear.
  assert.deepEqual(listAll(cache).filter((path) => !path.startsWith('isartor')), []);
  assert.deepEqual(listAll(home), []);
  assert.deepEqual(listAll(temp), []);
});
