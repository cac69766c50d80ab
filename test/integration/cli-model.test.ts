/**
 * `isartor model download | status` as a user runs them, against a model server on loopback
 * (ISARTOR_MODEL_URL + ISARTOR_MODEL_SHA256 stand in for Hugging Face): the file lands in the data
 * dir only once its checksum matched, Ctrl-C leaves nothing behind, and status names what L2 uses.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RECOMMENDED_MODEL } from '../../src/core/local/modelDownload';

const BIN = join(__dirname, '..', '..', 'bin', 'isartor.js');
const payload = randomBytes(600_000);
const payloadSha = createHash('sha256').update(payload).digest('hex');
let server: Server;
let base: string;
let root: string;
/** Resolves when the stalling route has sent its first bytes. */
let stallStarted: Promise<void>;
let markStallStarted: () => void = () => {};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-cli-model-'));
  stallStarted = new Promise((resolve) => (markStallStarted = resolve));
  server = createServer((req, res) => {
    if (req.url === '/model.gguf') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(payload.length) });
      for (let offset = 0; offset < payload.length; offset += 64 * 1024) res.write(payload.subarray(offset, offset + 64 * 1024));
      res.end();
    } else if (req.url === '/stall.gguf') {
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.write(payload.subarray(0, 10_000), () => markStallStarted());
      // Never ends: the test presses Ctrl-C.
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(root, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of ['ISARTOR_DATA_DIR', 'ISARTOR_CONFIG', 'ISARTOR_MODEL_URL', 'ISARTOR_MODEL_SHA256']) delete clean[name];
  return { ...clean, ...extra };
}

/** Runs the CLI as a child process; asynchronous, since the model server lives in this process. */
async function isartor(args: string[], extra: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

/** Resolves once `dir/name` exists: the watcher starts before the first check, so no creation is missed. */
async function whenExists(dir: string, name: string): Promise<void> {
  let watcher: FSWatcher | undefined;
  try {
    await new Promise<void>((resolve) => {
      watcher = watch(dir, () => existsSync(join(dir, name)) && resolve());
      if (existsSync(join(dir, name))) resolve();
    });
  } finally {
    watcher?.close();
  }
}

test('model download fetches, verifies and keeps the model where L2 finds it; status and a second download say so', async () => {
  const dataDir = join(root, 'ok');
  const mirror = { ISARTOR_MODEL_URL: `${base}/model.gguf`, ISARTOR_MODEL_SHA256: payloadSha.toUpperCase() };
  const before = await isartor(['model', 'status', '--data-dir', dataDir, '--json']);
  assert.equal(before.status, 0, before.stderr);
  assert.equal(JSON.parse(before.stdout).source.kind, 'none');
  assert.ok(!existsSync(dataDir), 'status creates nothing');

  const run = await isartor(['model', 'download', '--data-dir', dataDir], mirror);
  assert.equal(run.status, 0, run.stderr);
  const path = join(dataDir, 'models', RECOMMENDED_MODEL.fileName);
  assert.deepEqual(await readFile(path), payload);
  assert.deepEqual(await readdir(join(dataDir, 'models')), [RECOMMENDED_MODEL.fileName], 'no partial file left');
  assert.match(run.stderr, new RegExp(`Downloading model from 127\\.0\\.0\\.1:\\d+`));
  assert.ok(run.stdout.includes(`sha256 verified): ${path}`), run.stdout);
  assert.match(run.stdout, /uses it automatically/);
  assert.ok(run.stdout.includes(`{ "local": { "modelPath": ${JSON.stringify(path)} } }`), run.stdout);

  const status = await isartor(['model', 'status', '--data-dir', dataDir, '--json']);
  assert.deepEqual(JSON.parse(status.stdout), { enabled: true, source: { kind: 'llama', modelPath: path }, dataDir, downloaded: path, embedder: { kind: 'lexical' } });
  const text = await isartor(['model', 'status', '--data-dir', dataDir]);
  assert.ok(text.stdout.includes(`model: llama.cpp model ${path}`), text.stdout);

  const again = await isartor(['model', 'download', '--data-dir', dataDir], mirror);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already downloaded/);
});

test('Ctrl-C cancels a download: exit 130 and no partial file', async () => {
  const dataDir = join(root, 'cancel');
  const child = spawn(process.execPath, [BIN, 'model', 'download', '--data-dir', dataDir], {
    env: env({ ISARTOR_MODEL_URL: `${base}/stall.gguf`, ISARTOR_MODEL_SHA256: payloadSha }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  await stallStarted;
  const models = join(dataDir, 'models');
  await whenExists(models, `${RECOMMENDED_MODEL.fileName}.part`);
  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled; no partial file was kept/);
  assert.deepEqual(await readdir(models), []);
});

test('a checksum mismatch exits 1 and keeps nothing; a mirror URL without its sha256 is a usage error', async () => {
  const dataDir = join(root, 'bad');
  const run = await isartor(['model', 'download', '--data-dir', dataDir], { ISARTOR_MODEL_URL: `${base}/model.gguf`, ISARTOR_MODEL_SHA256: '0'.repeat(64) });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /failed its checksum/);
  assert.deepEqual(existsSync(join(dataDir, 'models')) ? await readdir(join(dataDir, 'models')) : [], []);

  const usage = await isartor(['model', 'download', '--data-dir', dataDir], { ISARTOR_MODEL_URL: `${base}/model.gguf` });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /ISARTOR_MODEL_URL needs ISARTOR_MODEL_SHA256/);
  assert.equal((await isartor(['model', 'fetch'])).status, 2);
});

test('model status follows local.modelPath from a --config file', async () => {
  const model = join(root, 'mine.gguf');
  await writeFile(model, 'GGUF');
  const config = join(root, 'isartor.json');
  await writeFile(config, JSON.stringify({ local: { modelPath: model } }));
  const status = await isartor(['model', 'status', '--data-dir', join(root, 'cfg'), '--config', config, '--json']);
  assert.equal(status.status, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout).source, { kind: 'llama', modelPath: model });
});

test('offline, a download says why it failed and what to do, not just "fetch failed", and leaves no empty folder', async () => {
  const dataDir = join(root, 'offline');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const run = await isartor(['model', 'download', '--data-dir', dataDir], { ISARTOR_MODEL_URL: `http://${host}/model.gguf`, ISARTOR_MODEL_SHA256: payloadSha });
  assert.equal(run.status, 1, run.stderr);
  assert.ok(run.stderr.includes(`isartor model download: Could not reach ${host} (connection refused). Check your network connection, or set ISARTOR_MODEL_URL and ISARTOR_MODEL_SHA256 to a mirror.`), run.stderr);
  assert.doesNotMatch(run.stderr, /^isartor model download: fetch failed$/m);
  assert.equal(existsSync(join(dataDir, 'models')), false, 'the failed download leaves no empty models folder');
});
