// "Isartor: Download Local Model" without the editor: consent first, real download from a loopback
// server with progress, the setting pointed at the verified file, and a cancel that keeps nothing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../../../src/core/logger';
import type { DownloadableModel, DownloadProgress } from '../../../src/core/local/modelDownload';
import type { ModelDownloadDeps } from '../../../src/extension/lifecycle/modelDownloadFlow';
import { runModelDownload } from '../../../src/extension/lifecycle/modelDownloadFlow';

const payload = randomBytes(400_000);
let server: Server;
let base: string;
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'content-length': String(payload.length) });
    if (req.url === '/stall.gguf') {
      res.write(payload.subarray(0, 65_536)); // never ends: the user cancels
      return;
    }
    for (let offset = 0; offset < payload.length; offset += 65_536) res.write(payload.subarray(offset, offset + 65_536));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** A user who answers the consent modal with `consent` and may press Cancel on the first progress report. */
function harness(storageDir: string, options: { consent: boolean; cancelOnProgress?: boolean; path?: string; modelPath?: string }) {
  const model: DownloadableModel = { name: 'Tiny Test Model', url: `${base}${options.path ?? '/model.gguf'}`, sha256: createHash('sha256').update(payload).digest('hex'), bytes: payload.length, fileName: 'tiny.gguf' };
  const seen = { confirms: [] as string[], progress: [] as DownloadProgress[], infos: [] as string[], errors: [] as string[], settings: [] as string[], restarts: 0 };
  let modelPath = options.modelPath;
  const deps: ModelDownloadDeps = {
    model,
    storageDir,
    currentModelPath: () => modelPath,
    setModelPath: async (path) => {
      seen.settings.push(path);
      modelPath = path;
    },
    restart: async () => void seen.restarts++,
    ui: {
      confirm: async (asked, target) => {
        seen.confirms.push(`${asked.name} ${asked.bytes} ${asked.url} -> ${target}`);
        return options.consent;
      },
      withProgress: async (_title, task) => {
        const cancel = new AbortController();
        return task((progress) => {
          seen.progress.push(progress);
          if (options.cancelOnProgress) cancel.abort(new Error('Cancel pressed'));
        }, cancel.signal);
      },
      info: (message) => seen.infos.push(message),
      error: (message) => seen.errors.push(message),
    },
    logger: silentLogger,
  };
  return { deps, seen, target: join(storageDir, 'models', 'tiny.gguf') };
}

describe('runModelDownload', () => {
  let storage: string;
  beforeEach(async () => {
    storage = await mkdtemp(join(tmpdir(), 'isartor-model-flow-'));
    requests = 0;
  });
  afterEach(async () => {
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it('downloads nothing when the user declines', async () => {
    const { deps, seen, target } = harness(storage, { consent: false });
    assert.equal(await runModelDownload(deps), 'declined');
    assert.deepEqual(seen.confirms, [`Tiny Test Model ${payload.length} ${base}/model.gguf -> ${target}`]);
    assert.equal(requests, 0);
    assert.equal(existsSync(target), false);
    assert.deepEqual(seen.settings, []);
  });

  it('after consent, downloads with growing progress and points the setting at the verified file', async () => {
    const { deps, seen, target } = harness(storage, { consent: true, modelPath: '/old/model.gguf' });
    assert.equal(await runModelDownload(deps), 'downloaded');
    assert.deepEqual(readFileSync(target), payload);
    assert.ok(seen.progress.length > 1);
    assert.deepEqual(seen.progress.at(-1), { receivedBytes: payload.length, totalBytes: payload.length });
    assert.deepEqual(seen.settings, [target]);
    assert.equal(seen.restarts, 0, 'the setting change restarts the engine');
    assert.deepEqual(seen.errors, []);

    // Again: no question, no download; the setting already holds the path, so the engine restarts.
    const again = harness(storage, { consent: false, modelPath: target });
    assert.equal(await runModelDownload(again.deps), 'already-present');
    assert.deepEqual(again.seen.confirms, []);
    assert.equal(again.seen.restarts, 1);
    assert.equal(requests, 1);
  });

  it('Cancel stops the download, keeps no file and leaves the setting alone', async () => {
    const { deps, seen } = harness(storage, { consent: true, cancelOnProgress: true, path: '/stall.gguf' });
    assert.equal(await runModelDownload(deps), 'cancelled');
    assert.deepEqual(readdirSync(join(storage, 'models')), []);
    assert.deepEqual(seen.settings, []);
    assert.match(seen.infos.join('\n'), /cancelled; nothing was kept/);
    assert.deepEqual(seen.errors, []);
  });

  it('a failed checksum is an error the user sees, with nothing kept', async () => {
    const { deps, seen } = harness(storage, { consent: true });
    deps.model = { ...deps.model, sha256: '0'.repeat(64) };
    assert.equal(await runModelDownload(deps), 'failed');
    assert.match(seen.errors.join('\n'), /was not the expected model \(its checksum did not match\), so it was not kept/);
    assert.equal(existsSync(join(storage, 'models')), false, 'no empty folder left behind');
    assert.deepEqual(seen.settings, []);
  });
});
