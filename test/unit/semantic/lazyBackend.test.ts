// An empty L1b cache starts its worker on first use: lookups before anything was stored are
// misses without it, and once an answer has been stored every call goes to the started worker.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/core/config';
import { semanticLayerFactory } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import { runLayers, type Layer } from '../../../src/core/pipeline';
import { openSemanticBackend, type SemanticBackend } from '../../../src/core/semantic/backend';
import { lazyBackend, semanticStoreIsEmpty } from '../../../src/core/semantic/lazyBackend';
import { LOG_MAGIC } from '../../../src/core/store/recordLog';
import { answerFor, chatBody, context, drain, fakeUpstream, proxyRequest, tempDir } from './helpers';

const ANSWER = answerFor(proxyRequest({ body: chatBody('How do I reverse a list in Python?') }), 1);

describe('lazyBackend', () => {
  it('tells an empty store from one with records', async () => {
    const temp = await tempDir('l1b-empty');
    try {
      assert.equal(semanticStoreIsEmpty(temp.dir), true, 'no folder yet');
      await mkdir(join(temp.dir, 'semantic'), { recursive: true });
      await writeFile(join(temp.dir, 'semantic', 'semantic.log'), LOG_MAGIC);
      assert.equal(semanticStoreIsEmpty(temp.dir), true, 'only the header');
      await writeFile(join(temp.dir, 'semantic', 'semantic.log'), Buffer.concat([LOG_MAGIC, Buffer.from([1])]));
      assert.equal(semanticStoreIsEmpty(temp.dir), false, 'a record (even a torn one)');
    } finally {
      await temp.cleanup();
    }
  });

  it('misses without starting the backend until the first insert, then asks the started one', async () => {
    const temp = await tempDir('l1b-lazy');
    let starts = 0;
    let real: SemanticBackend | undefined;
    const backend = lazyBackend({
      start: async () => {
        starts++;
        real = await openSemanticBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, silentLogger);
        return real;
      },
      logger: silentLogger,
      idleDescription: 'idle',
    });
    try {
      assert.equal(backend.describe(), 'idle');
      assert.deepEqual(backend.stats(), { entries: 0, bytes: 0 });
      await backend.clear();
      assert.equal(starts, 0, 'clearing an unstarted cache starts nothing');
      assert.deepEqual(await backend.lookup('p', 'How do I reverse a list in Python?'), { hit: false });
      assert.equal(starts, 1, 'the first lookup starts the backend');
      await backend.insert('p', 'How do I reverse a list in Python?', ANSWER);
      const again = await backend.lookup('p', 'how do I reverse a list in python');
      assert.equal(again.hit, true, 'after an insert the lookup reaches the started backend');
      assert.equal(starts, 1);
      assert.equal(backend.stats().entries, 1);
      assert.match(backend.describe(), /lexical/);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('the proxy layer over an empty data dir has no worker until a request comes, and then caches', async () => {
    const temp = await tempDir('l1b-lazy-layer');
    const config = defaultConfig(temp.dir);
    const layer = (await semanticLayerFactory({ config, logger: silentLogger, dataDir: temp.dir })) as Layer & { settled(): Promise<void>; entries(): number; close(): Promise<void> };
    try {
      assert.match(layer.describe?.() ?? '', /^lexical-v1-\S+, threshold [\d.]+, 0 entries$/);
      // The worker opens the store as it starts: no store file means no worker yet.
      assert.equal(existsSync(join(temp.dir, 'semantic', 'semantic.log')), false, 'no worker before the first request');
      const first = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody('How do I reverse a linked list in place?') })), () => true);
      assert.equal(first.kind, 'upstream');
      await drain(first);
      await layer.settled();
      assert.equal(layer.entries(), 1);
      const again = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody('how do I reverse a linked list in place') })), () => true);
      assert.equal(again.kind, 'stored');
    } finally {
      await layer.close();
      await temp.cleanup();
    }
  });
});
