// The L1b worker started ahead of the engine (`isartor serve`): the engine's backend claims it and
// it opens what the claim says; one nobody claims opens nothing and is ended; an empty cache
// (which starts its worker on first use) gets no spare.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/core/config';
import { silentLogger } from '../../../src/core/logger';
import { startSemanticWorkerEarly } from '../../../src/core/semantic/placement';
import { endSpareWorker, startSpareWorker, takeSpareWorker } from '../../../src/core/semantic/spareWorker';
import { semanticWorkerScript, startWorkerBackend } from '../../../src/core/semantic/workerBackend';
import { semanticWorkerLimits } from '../../../src/core/semantic/workerLimits';
import { answerFor, chatBody, proxyRequest, tempDir } from './helpers';

describe('the spare L1b worker', () => {
  it('is claimed by the backend, opens the data dir the claim names, and finds what it stored after a restart', async () => {
    const temp = await tempDir('l1b-spare');
    const config = defaultConfig(temp.dir);
    const spec = { config: config.semantic, dataDir: temp.dir };
    const script = semanticWorkerScript()!;
    const limits = semanticWorkerLimits(config.semantic.maxEntries);
    const answer = answerFor(proxyRequest({ body: chatBody('How do I reverse a linked list in place?') }), 1);
    // Stored by a worker started the usual way, then looked up through a spare after a restart.
    const first = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
    await first.insert('p', 'How do I reverse a linked list in place?', answer);
    await first.close();
    startSpareWorker(script, limits);
    const backend = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
    try {
      assert.equal(takeSpareWorker(script, limits), undefined, 'the backend took the spare');
      const found = await backend.lookup('p', 'how do i reverse a linked list in place');
      assert.equal(found.hit, true);
      assert.deepEqual(found.hit && found.answer.body, answer.body);
    } finally {
      await backend.close();
      await endSpareWorker();
      await temp.cleanup();
    }
  });

  it('hands the claim its spec in the first message', async () => {
    const temp = await tempDir('l1b-spare-spec');
    const script = join(temp.dir, 'echo-worker.js');
    await writeFile(script, `const { parentPort, workerData } = require('node:worker_threads');
const say = (dataDir) => parentPort.postMessage({ kind: 'ready', stats: { entries: 0, bytes: 0 }, describe: 'opened ' + dataDir + (workerData.open ? ' from workerData' : ' from a message') });
if (workerData.open) say(workerData.open.dataDir); else parentPort.once('message', (message) => say(message.open.dataDir));
setTimeout(() => {}, 60_000);`);
    const config = defaultConfig(temp.dir);
    const limits = semanticWorkerLimits(config.semantic.maxEntries);
    startSpareWorker(script, limits);
    const backend = await startWorkerBackend({ config: config.semantic, dataDir: temp.dir }, { logger: silentLogger, script, closeTimeoutMs: 50 });
    try {
      assert.equal(backend.describe(), `opened ${temp.dir} from a message`);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('is not claimed for other limits, and is ended when nobody claims it in time', async () => {
    const temp = await tempDir('l1b-spare-unclaimed');
    const script = semanticWorkerScript()!;
    try {
      startSpareWorker(script, semanticWorkerLimits(100_000), 100);
      assert.equal(takeSpareWorker(script, semanticWorkerLimits(1_000_000)), undefined, 'other limits');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(takeSpareWorker(script, semanticWorkerLimits(100_000)), undefined, 'ended after its window');
    } finally {
      await endSpareWorker();
      await temp.cleanup();
    }
  });

  it('is started by `isartor serve` for a cache with entries, not for an empty one (its worker starts on first use)', async () => {
    const temp = await tempDir('l1b-spare-early');
    const config = defaultConfig(temp.dir);
    const script = semanticWorkerScript()!;
    const limits = semanticWorkerLimits(config.semantic.maxEntries);
    try {
      startSemanticWorkerEarly(config);
      assert.equal(takeSpareWorker(script, limits), undefined, 'empty cache: no spare');
      const backend = await startWorkerBackend({ config: config.semantic, dataDir: temp.dir }, { logger: silentLogger });
      await backend.insert('p', 'How do I reverse a linked list in place?', answerFor(proxyRequest({ body: chatBody('How do I reverse a linked list in place?') }), 1));
      await backend.close();
      startSemanticWorkerEarly(config);
      const spare = takeSpareWorker(script, limits);
      assert.ok(spare, 'a cache with entries gets its worker ahead');
      await spare.terminate();
    } finally {
      await endSpareWorker();
      await temp.cleanup();
    }
  });
});
