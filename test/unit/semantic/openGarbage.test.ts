/**
 * The L1b worker's one full collection after its open (src/core/semantic/openGarbage.ts): it frees
 * garbage that reached the old generation, leaves no `gc` to contexts made after it, and is asked
 * for only by `isartor serve`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { collectInWorkersAfterOpen, SECOND_COLLECTION_DELAY_MS, workersCollectAfterOpen, type OpenGarbageCollected } from '../../../src/core/semantic/openGarbage';

const MODULE = join(__dirname, '..', '..', '..', 'src', 'core', 'semantic', 'openGarbage.ts');

interface WorkerResult {
  collected: OpenGarbageCollected;
  /** `typeof gc` in a context the worker made after the collection. */
  gcLater: string;
}

/** A worker that keeps ~40 MB of objects long enough for them to be promoted, drops them, and collects. */
function collectInWorker(): Promise<WorkerResult> {
  const script = `
    require('tsx/cjs');
    const { parentPort } = require('node:worker_threads');
    const { runInNewContext } = require('node:vm');
    const { collectOpenGarbage } = require(${JSON.stringify(MODULE)});
    let held = [];
    for (let i = 0; i < 400000; i++) held.push({ key: 'entry-' + i, row: [i, i + 1, i + 2] });
    held = undefined;
    const collected = collectOpenGarbage();
    parentPort.postMessage({ collected, gcLater: runInNewContext('typeof gc') });
  `;
  const worker = new Worker(script, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: WorkerResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

test('the collection frees the dead objects of a worker started without gc', async () => {
  const { collected } = await collectInWorker();
  // ~40 MB of dead objects: far more than the noise of a heap reading.
  assert.ok(collected.beforeMb - collected.afterMb > 20, `heap ${collected.beforeMb} MB before, ${collected.afterMb} MB after`);
  assert.ok(collected.ms >= 0);
});

/** A worker that promotes ~40 MB of objects, keeps one in ten, collects, and collects again after the delay. */
function collectTwiceInWorker(): Promise<{ first: OpenGarbageCollected; second: OpenGarbageCollected }> {
  const script = `
    require('tsx/cjs');
    const { parentPort } = require('node:worker_threads');
    const { collectOpenGarbage } = require(${JSON.stringify(MODULE)});
    let held = [];
    for (let i = 0; i < 400000; i++) held.push({ key: 'entry-' + i, row: [i, i + 1, i + 2] });
    // What an open leaves: survivors spread thinly over many pages. (Collections run in later turns,
    // as the worker's do: a frame that held the dropped array could keep it alive through one.)
    held = held.filter((_, i) => i % 10 === 0);
    setImmediate(() => {
      const first = collectOpenGarbage();
      setTimeout(() => parentPort.postMessage({ first, second: collectOpenGarbage(), kept: held.length }), ${SECOND_COLLECTION_DELAY_MS});
    });
  `;
  const worker = new Worker(script, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: { first: OpenGarbageCollected; second: OpenGarbageCollected }) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

test('a second collection after the delay gives back the pages the first one freed', async () => {
  const { first, second } = await collectTwiceInWorker();
  // The first leaves ~50 MB committed for ~7 MB used; the second hands most of it back.
  assert.ok(first.committedMb - second.committedMb > 20, `committed ${first.committedMb} MB after the first collection, ${second.committedMb} MB after the second`);
});

test('contexts made after the collection get no gc, in that thread or another', async () => {
  const { gcLater } = await collectInWorker();
  assert.equal(gcLater, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});

test('workers collect after their open only once serve asks for it', () => {
  assert.equal(workersCollectAfterOpen(), false);
  collectInWorkersAfterOpen();
  assert.equal(workersCollectAfterOpen(), true);
});
