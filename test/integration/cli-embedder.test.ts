/**
 * `isartor model download --embedder` and `model status` as a user runs them, against a fake
 * Hugging Face hub on loopback (HF_ENDPOINT) serving a tiny BERT generated at test time: the model
 * lands where `semantic.model` finds it, Ctrl-C keeps nothing, and offline says what to do.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinyBert } from '../fixtures/tinyBert';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
let server: Server;
let hubUrl: string;
let root: string;
let modelDir: string;
const requested: string[] = [];
/** Resolves when the stalling model's weights have started to flow. */
let stallStarted: Promise<void>;
let markStallStarted: () => void = () => {};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-cli-embedder-'));
  modelDir = await writeTinyBert(join(root, 'tiny-bert'));
  stallStarted = new Promise((resolve) => (markStallStarted = resolve));
  // The hub's layout: /<org>/<name>/resolve/<revision>/<file>. "stall-bert" never finishes its weights.
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requested.push(url);
    const match = /^\/test-org\/(tiny-bert|stall-bert)\/resolve\/main\/(.+)$/.exec(url);
    if (!match) return void res.writeHead(404).end('not found');
    const [, name, file] = match as unknown as [string, string, string];
    void readFile(join(modelDir, file)).then(
      (bytes) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
        if (name === 'stall-bert' && file === 'onnx/model.onnx') res.write(bytes.subarray(0, bytes.length >> 1), () => markStallStarted());
        else res.end(bytes);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of ['ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_MODEL_URL', 'ISARTOR_MODEL_SHA256', 'HF_ENDPOINT']) delete clean[name];
  return { ...clean, ...extra };
}

/** Runs the CLI (`bin`, default this checkout's) as a child process; asynchronous, since the hub lives in this process. */
async function isartor(args: string[], extra: Record<string, string> = {}, bin = BIN): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

test('download --embedder fetches the model into the data dir; status then reports the transformers embedder', async () => {
  const dataDir = join(root, 'ok');
  const config = join(root, 'transformers.json');
  await writeFile(config, JSON.stringify({ semantic: { embedder: 'transformers', model: 'test-org/tiny-bert' } }));
  const folder = join(dataDir, 'models', 'test-org', 'tiny-bert');

  const before = await isartor(['model', 'status', '--data-dir', dataDir, '--config', config, '--json']);
  assert.equal(before.status, 0, before.stderr);
  const planned = JSON.parse(before.stdout).embedder;
  assert.equal(planned.kind, 'lexical');
  assert.match(planned.fallbackReason, /isartor model download --embedder --model test-org\/tiny-bert/);

  const run = await isartor(['model', 'download', '--embedder', '--model', 'test-org/tiny-bert', '--data-dir', dataDir], { HF_ENDPOINT: hubUrl });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(requested.includes('/test-org/tiny-bert/resolve/main/onnx/model.onnx'), requested.join('\n'));
  assert.deepEqual(await readFile(join(folder, 'onnx', 'model.onnx')), await readFile(join(modelDir, 'onnx', 'model.onnx')));
  assert.ok(run.stderr.includes(`from ${hubUrl}`), run.stderr);
  assert.ok(run.stdout.includes(`Downloaded embedding model test-org/tiny-bert: ${folder}`), run.stdout);
  assert.ok(run.stdout.includes('{ "semantic": { "embedder": "transformers", "model": "test-org/tiny-bert" } }'), run.stdout);

  const after = await isartor(['model', 'status', '--data-dir', dataDir, '--config', config, '--json']);
  assert.deepEqual(JSON.parse(after.stdout).embedder, { kind: 'transformers', modelDir: folder });
  const text = await isartor(['model', 'status', '--data-dir', dataDir, '--config', config]);
  assert.ok(text.stdout.includes(`L1b embedder: transformers.js model ${folder}`), text.stdout);
  const lexical = await isartor(['model', 'status', '--data-dir', dataDir]);
  assert.match(lexical.stdout, /L1b embedder: built-in lexical; `isartor model download --embedder` fetches a neural one/);

  const served = requested.length;
  const again = await isartor(['model', 'download', '--embedder', '--model', 'test-org/tiny-bert', '--data-dir', dataDir, '--config', config], { HF_ENDPOINT: hubUrl });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /already downloaded/);
  assert.match(again.stdout, /already uses it/);
  assert.equal(requested.length, served, 'nothing fetched twice');
});

test('Ctrl-C cancels an embedder download: exit 130 and no model folder left', async () => {
  const dataDir = join(root, 'cancel');
  const child = spawn(process.execPath, [BIN, 'model', 'download', '--embedder', '--model', 'test-org/stall-bert', '--data-dir', dataDir], {
    env: env({ HF_ENDPOINT: hubUrl }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  await stallStarted;
  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled; no partial file was kept/);
  assert.equal(existsSync(join(dataDir, 'models', 'test-org', 'stall-bert')), false);
});

test('offline, the download fails with a clear message and exit 1; bad flags are usage errors', async () => {
  const dataDir = join(root, 'offline');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const run = await isartor(['model', 'download', '--embedder', '--data-dir', dataDir], { HF_ENDPOINT: deadUrl });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /could not download the embedding model "Xenova\/all-MiniLM-L6-v2"/);
  assert.match(run.stderr, /offline\? point semantic\.model at a local model folder/);
  assert.ok(!existsSync(join(dataDir, 'models', 'Xenova', 'all-MiniLM-L6-v2', 'onnx')), 'nothing half-downloaded');

  assert.equal((await isartor(['model', 'download', '--model', 'x/y', '--data-dir', dataDir])).status, 2, '--model without --embedder');
  assert.equal((await isartor(['model', 'download', '--embedder', '--model', ' ', '--data-dir', dataDir])).status, 2);
  await assert.rejects(stat(join(dataDir, 'models', 'x')));
});

test('without the optional @huggingface/transformers package, download --embedder names it and says what to do', async () => {
  // The command as npm installs it when the optional dependency failed to install: bin/ and the
  // bundle beside a package.json, with no node_modules anywhere above.
  const install = join(root, 'no-optional');
  await mkdir(join(install, 'bin'), { recursive: true });
  await mkdir(join(install, 'dist'), { recursive: true });
  const checkout = join(__dirname, '..', '..');
  for (const file of ['bin/isartor.js', 'bin/codeCache.js', 'dist/cli.js', 'package.json']) await copyFile(join(checkout, file), join(install, file));

  const run = await isartor(['model', 'download', '--embedder', '--data-dir', join(root, 'no-optional-data')], { HF_ENDPOINT: hubUrl, XDG_CACHE_HOME: join(root, 'no-optional-cache') }, join(install, 'bin', 'isartor.js'));
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /isartor model download: the neural embedder's optional package @huggingface\/transformers is not installed \(npm leaves it out when its install fails, e\.g\. offline\); reinstall isartor with network access to use it/);
  assert.doesNotMatch(run.stderr, /Cannot find package/);
  assert.ok(!requested.some((url) => url.includes('all-MiniLM')), 'nothing requested from the hub');
});
