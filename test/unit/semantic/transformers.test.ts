// The transformers.js embedder through the real @huggingface/transformers + onnxruntime-node path,
// on a tiny BERT-shaped model generated at test time; downloads come from a fake hub on loopback.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadModel, loadTransformers, ModelDownloadError, type DownloadProgress } from '../../../src/core/embed/download';
import { dot } from '../../../src/core/embed/embedder';
import { createEmbedder } from '../../../src/core/embed/select';
import { createTransformersEmbedder, ModelNotAvailableError } from '../../../src/core/embed/transformers';
import { silentLogger } from '../../../src/core/logger';
import { writeTinyBert } from '../../fixtures/tinyBert';
import { tempDir } from './helpers';

let root: string;
let cleanup: () => Promise<void>;
let modelDir: string;
let env: Awaited<ReturnType<typeof loadTransformers>>['env'];

before(async () => {
  ({ dir: root, cleanup } = await tempDir('l1b-transformers'));
  ({ env } = await loadTransformers());
  modelDir = await writeTinyBert(join(root, 'tiny-bert'), { sameMeaning: [['price', 'cost']] });
});
after(async () => {
  await cleanup();
});

/** Serves `modelDir` the way the hub does: /<org>/<name>/resolve/<revision>/<file>. */
async function fakeHub(): Promise<{ server: Server; url: string; requested: string[] }> {
  const requested: string[] = [];
  const server = createServer((req, res) => {
    const match = /^\/test-org\/tiny-bert\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
    requested.push(req.url ?? '');
    const file = match ? join(modelDir, match[1]!) : undefined;
    void (file ? stat(file) : Promise.reject(new Error('no route'))).then(
      (info) => {
        res.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
        createReadStream(file!).pipe(res);
      },
      () => {
        res.writeHead(404).end('not found');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requested };
}

describe('transformers.js embedder', () => {
  it('loads a local model folder with remote models disabled and embeds by meaning', async () => {
    const embedder = await createTransformersEmbedder({ model: modelDir, dataDir: join(root, 'data') });
    try {
      assert.equal(env.allowRemoteModels, false);
      assert.equal(embedder.dimensions, 16);
      const price = await embedder.embed('What is the price of the pro plan?');
      const cost = await embedder.embed('what is the COST of the pro plan');
      const other = await embedder.embed('How do I sort a list in Python?');
      assert.ok(Math.abs(dot(price, price) - 1) < 1e-5, 'vectors are unit length');
      assert.ok(dot(price, cost) > 0.999, 'the model treats price and cost as one word');
      assert.ok(dot(price, other) < 0.9);
    } finally {
      await embedder.close?.();
    }
  });

  it('says clearly when a folder holds no model, and the selection falls back to lexical', async () => {
    await assert.rejects(createTransformersEmbedder({ model: join(root, 'data'), dataDir: join(root, 'data') }), ModelNotAvailableError);
    await assert.rejects(createTransformersEmbedder({ model: 'test-org/not-downloaded', dataDir: join(root, 'data') }), /not downloaded yet/);
    const selected = await createEmbedder({ choice: 'transformers', model: 'test-org/not-downloaded', dataDir: join(root, 'data'), logger: silentLogger });
    assert.match(selected.embedder.id, /^lexical/);
    assert.match(selected.fellBack ?? '', /not downloaded yet/);
  });

  it('downloads a hub model once with progress, then loads it offline from the data dir', async () => {
    const hub = await fakeHub();
    const previousHost = env.remoteHost;
    env.remoteHost = hub.url;
    const dataDir = join(root, 'download');
    try {
      const progress: DownloadProgress[] = [];
      await downloadModel('test-org/tiny-bert', dataDir, (p) => progress.push(p));
      assert.ok(hub.requested.some((url) => url.endsWith('/onnx/model.onnx')));
      const modelProgress = progress.filter((p) => p.file.endsWith('model.onnx'));
      assert.ok(modelProgress.length > 0, 'progress was reported for the weights');
      assert.ok(modelProgress.some((p) => p.totalBytes > 0 && p.loadedBytes === p.totalBytes));
      await new Promise<void>((resolve) => hub.server.close(() => resolve()));
      const embedder = await createTransformersEmbedder({ model: 'test-org/tiny-bert', dataDir });
      try {
        assert.equal(embedder.id, 'transformers:test-org/tiny-bert');
        assert.ok(dot(await embedder.embed('price'), await embedder.embed('cost')) > 0.999);
      } finally {
        await embedder.close?.();
      }
      // The hub is gone now: a new download fails with a clear error instead of hanging.
      await assert.rejects(downloadModel('test-org/other-model', join(root, 'offline')), (error: unknown) => {
        assert.ok(error instanceof ModelDownloadError);
        assert.match(error.message, /could not download the embedding model "test-org\/other-model"/);
        return true;
      });
    } finally {
      env.remoteHost = previousHost;
      hub.server.close();
    }
  });
});
