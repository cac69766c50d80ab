// Model downloads against a local HTTP server: progress, sha256 verification, failures leave nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChecksumMismatchError, downloadFile, downloadModel, downloadedModelPath, RECOMMENDED_MODEL } from '../../../src/core/local/modelDownload';
import { tempDirUntilExit } from '../../fixtures/tempDir';

const payload = randomBytes(300_000);
const payloadSha = createHash('sha256').update(payload).digest('hex');
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/model.gguf') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(payload.length) });
      // Several writes so the client sees more than one progress step.
      for (let offset = 0; offset < payload.length; offset += 64 * 1024) res.write(payload.subarray(offset, offset + 64 * 1024));
      res.end();
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/model.gguf' }).end();
    } else if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': String(payload.length) });
      res.write(payload.subarray(0, 1000));
      // Never ends: the test cancels.
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const freshDir = (): string => tempDirUntilExit('isartor-download-');

void test('a download reports progress, verifies the checksum and keeps the file under its final name', async () => {
  const dir = freshDir();
  const progress: Array<[number, number | undefined]> = [];
  const destination = join(dir, 'models', 'm.gguf');
  const path = await downloadFile({ url: `${base}/redirect`, sha256: payloadSha.toUpperCase(), destination, onProgress: (p) => progress.push([p.receivedBytes, p.totalBytes]) });
  assert.equal(path, destination);
  assert.deepEqual(readFileSync(destination), payload);
  assert.ok(progress.length > 1, 'more than one progress step');
  assert.deepEqual(progress.at(-1), [payload.length, payload.length]);
  assert.ok(progress.every(([received], i) => i === 0 || received > progress[i - 1]![0]), 'progress only grows');
  assert.deepEqual(readdirSync(join(dir, 'models')), ['m.gguf']);
});

void test('a checksum mismatch throws and leaves no file, partial or final', async () => {
  const dir = freshDir();
  const destination = join(dir, 'm.gguf');
  await assert.rejects(downloadFile({ url: `${base}/model.gguf`, sha256: '0'.repeat(64), destination }), (error: unknown) => {
    assert.ok(error instanceof ChecksumMismatchError);
    assert.equal(error.actual, payloadSha);
    return true;
  });
  assert.deepEqual(readdirSync(dir), []);
});

void test('an HTTP error and a cancelled download leave nothing behind', async () => {
  const dir = freshDir();
  await assert.rejects(downloadFile({ url: `${base}/missing`, sha256: payloadSha, destination: join(dir, 'a.gguf') }), /answered 404/);
  const cancel = new AbortController();
  const stalled = downloadFile({
    url: `${base}/stall`,
    sha256: payloadSha,
    destination: join(dir, 'b.gguf'),
    signal: cancel.signal,
    onProgress: () => cancel.abort(new Error('user cancelled')),
  });
  await assert.rejects(stalled);
  assert.deepEqual(readdirSync(dir), []);
});

void test('the recommended model is pinned to a revision with its checksum, and lands in <dataDir>/models', async () => {
  assert.match(RECOMMENDED_MODEL.url, /^https:\/\/huggingface\.co\/.+\/resolve\/[0-9a-f]{40}\/.+\.gguf$/);
  assert.match(RECOMMENDED_MODEL.sha256, /^[0-9a-f]{64}$/);
  const dir = freshDir();
  const model = { ...RECOMMENDED_MODEL, url: `${base}/model.gguf`, sha256: payloadSha, bytes: payload.length, fileName: 'local-test.gguf' };
  const path = await downloadModel(dir, { model });
  assert.equal(path, downloadedModelPath(dir, model));
  assert.ok(existsSync(join(dir, 'models', 'local-test.gguf')));
});
