// "Isartor: Download Embedding Model" without the editor: consent first, a real transformers.js
// download from a fake hub on loopback with progress, the settings that select the model, a cancel
// that keeps nothing, and the settings' mapping onto the engine configuration.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createEmbedder } from '../../../src/core/embed/select';
import type { DownloadProgress } from '../../../src/core/local/modelDownload';
import { silentLogger } from '../../../src/core/logger';
import { readSettings, toEngineConfig } from '../../../src/extension/config';
import type { EmbedderSettings, EmbeddingDownloadDeps } from '../../../src/extension/lifecycle/embeddingDownloadFlow';
import { runEmbeddingDownload } from '../../../src/extension/lifecycle/embeddingDownloadFlow';
import { writeTinyBert } from '../../fixtures/tinyBert';

let root: string;
let modelDir: string;
let server: Server;
let hubUrl: string;
let requests: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'isartor-embedding-flow-'));
  modelDir = await writeTinyBert(join(root, 'tiny-bert'), { sameMeaning: [['price', 'cost']] });
  // The hub's layout; "stall-bert" sends half its weights and then nothing (the user cancels).
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const match = /^\/test-org\/(tiny-bert|stall-bert)\/resolve\/main\/(.+)$/.exec(url);
    if (!match) return void res.writeHead(404).end('not found');
    void readFile(join(modelDir, match[2]!)).then(
      (bytes) => {
        res.writeHead(200, { 'content-length': String(bytes.length) });
        if (match[1] === 'stall-bert' && match[2] === 'onnx/model.onnx') res.write(bytes.subarray(0, bytes.length >> 1));
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

/** A user who answers the consent modal with `consent` and may press Cancel once weights start to flow. */
function harness(storageDir: string, options: { consent: boolean; model?: string; cancelOnWeights?: boolean; settings?: EmbedderSettings }) {
  const seen = { confirms: [] as string[], progress: [] as DownloadProgress[], infos: [] as string[], errors: [] as string[], writes: [] as EmbedderSettings[], restarts: 0 };
  let settings: EmbedderSettings = options.settings ?? { embedder: 'lexical' };
  const deps: EmbeddingDownloadDeps = {
    model: options.model ?? 'test-org/tiny-bert',
    hubUrl,
    storageDir,
    currentSettings: () => settings,
    writeSettings: async (next) => {
      seen.writes.push(next);
      settings = next;
    },
    restart: async () => void seen.restarts++,
    ui: {
      confirm: async (model, source, target) => {
        seen.confirms.push(`${model} ${source} -> ${target}`);
        return options.consent;
      },
      withProgress: async (_title, task) => {
        const cancel = new AbortController();
        return task((progress) => {
          seen.progress.push(progress);
          if (options.cancelOnWeights && (progress.totalBytes ?? 0) > 0 && requests.some((url) => url.endsWith('stall-bert/resolve/main/onnx/model.onnx'))) cancel.abort(new Error('Cancel pressed'));
        }, cancel.signal);
      },
      info: (message) => seen.infos.push(message),
      error: (message) => seen.errors.push(message),
    },
    logger: silentLogger,
  };
  return { deps, seen };
}

describe('runEmbeddingDownload', () => {
  let storage: string;
  beforeEach(async () => {
    storage = await mkdtemp(join(root, 'storage-'));
    requests = [];
  });

  it('downloads nothing when the user declines', async () => {
    const { deps, seen } = harness(storage, { consent: false });
    assert.equal(await runEmbeddingDownload(deps), 'declined');
    assert.deepEqual(seen.confirms, [`test-org/tiny-bert ${hubUrl} -> ${join(storage, 'models', 'test-org', 'tiny-bert')}`]);
    assert.deepEqual(requests, []);
    assert.deepEqual(seen.writes, []);
  });

  it('after consent, downloads with progress and selects the transformers embedder on the model folder, which then loads', async () => {
    const folder = join(storage, 'models', 'test-org', 'tiny-bert');
    const { deps, seen } = harness(storage, { consent: true });
    assert.equal(await runEmbeddingDownload(deps), 'downloaded');
    assert.deepEqual(seen.errors, []);
    assert.ok(seen.progress.length > 0);
    const last = seen.progress.at(-1)!;
    assert.ok((last.totalBytes ?? 0) > 0 && last.receivedBytes === last.totalBytes, JSON.stringify(last));
    assert.deepEqual(seen.writes, [{ embedder: 'transformers', model: folder }]);
    assert.equal(seen.restarts, 0, 'the settings change restarts the engine');

    // What the engine does with those settings: the neural embedder, not the lexical fallback.
    const selected = await createEmbedder({ choice: 'transformers', model: folder, dataDir: join(root, 'workspace-data'), logger: silentLogger });
    try {
      assert.equal(selected.fellBack, undefined);
      assert.equal(selected.embedder.id, `transformers:dir:${folder}`);
    } finally {
      await selected.embedder.close?.();
    }

    // Again: no question, no download; the settings already hold the folder, so the engine restarts.
    const served = requests.length;
    const again = harness(storage, { consent: false, settings: { embedder: 'transformers', model: folder } });
    assert.equal(await runEmbeddingDownload(again.deps), 'already-present');
    assert.deepEqual(again.seen.confirms, []);
    assert.equal(again.seen.restarts, 1);
    assert.equal(requests.length, served);
  });

  it('Cancel stops the download, keeps no model folder and leaves the settings alone', async () => {
    const { deps, seen } = harness(storage, { consent: true, model: 'test-org/stall-bert', cancelOnWeights: true });
    assert.equal(await runEmbeddingDownload(deps), 'cancelled');
    assert.equal(existsSync(join(storage, 'models', 'test-org', 'stall-bert')), false);
    assert.deepEqual(seen.writes, []);
    assert.match(seen.infos.join('\n'), /cancelled; nothing was kept/);
    assert.deepEqual(seen.errors, []);
  });

  it('an unknown model is an error the user sees, saying the lexical embedder keeps serving', async () => {
    const { deps, seen } = harness(storage, { consent: true, model: 'test-org/missing' });
    assert.equal(await runEmbeddingDownload(deps), 'failed');
    assert.match(seen.errors.join('\n'), /could not download test-org\/missing\. 127\.0\.0\.1:\d+ does not have this model \(not found\)\..*lexical embedder keeps serving/);
    assert.deepEqual(seen.writes, []);
    assert.equal(existsSync(join(storage, 'models')), false, 'no empty model folder left behind');
  });

  it('a hub that cannot be reached says so in words, names HF_ENDPOINT, and leaves no folder', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { deps, seen } = harness(storage, { consent: true });
    deps.hubUrl = `http://127.0.0.1:${port}/`;
    assert.equal(await runEmbeddingDownload(deps), 'failed');
    const message = seen.errors.join('\n');
    assert.match(message, new RegExp(`Could not reach 127\\.0\\.0\\.1:${port} \\(connection refused\\)\\. Check your network connection, or set HF_ENDPOINT to a Hugging Face mirror\\.`));
    assert.doesNotMatch(message, /fetch failed/);
    assert.deepEqual(seen.writes, []);
    assert.equal(existsSync(join(storage, 'models')), false, 'no empty model folder left behind');
  });

  it('a hub name that does not resolve is reported as a failed DNS lookup', async () => {
    const { deps, seen } = harness(storage, { consent: true });
    deps.hubUrl = 'http://isartor-test-hub.invalid/';
    assert.equal(await runEmbeddingDownload(deps), 'failed');
    assert.match(seen.errors.join('\n'), /Could not reach isartor-test-hub\.invalid \(DNS lookup failed\)/);
    assert.equal(existsSync(join(storage, 'models')), false);
  });
});

describe('isartor.semantic.* settings', () => {
  const source = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });

  it('map onto the engine semantic config; a bad embedder falls back to lexical with a problem', () => {
    const settings = readSettings(source({ 'semantic.embedder': 'transformers', 'semantic.model': ' /models/minilm ' }));
    const config = toEngineConfig(settings, '/data', new Map());
    assert.equal(config.semantic.embedder, 'transformers');
    assert.equal(config.semantic.model, '/models/minilm');

    const bad = readSettings(source({ 'semantic.embedder': 'bert' }));
    assert.equal(bad.semantic.embedder, 'lexical');
    assert.equal(bad.semantic.model, undefined);
    assert.match(bad.problems.join('\n'), /isartor\.semantic\.embedder: expected one of lexical, transformers/);
  });
});
