// The L1b cache in its worker thread: the engine's layer embeds, searches and stores off the main
// thread, finds what it stored across a restart, and never holds a request past its lookup budget.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/core/config';
import { semanticLayerFactory, semanticLayerOver } from '../../../src/core/layers/semantic';
import { silentLogger } from '../../../src/core/logger';
import { runLayers, type Layer } from '../../../src/core/pipeline';
import { startWorkerBackend } from '../../../src/core/semantic/workerBackend';
import { answerFor, chatBody, context, drain, fakeUpstream, proxyRequest, tempDir } from './helpers';

type CacheLayer = Layer & { settled(): Promise<void>; entries(): number; close(): Promise<void> };

describe('L1b in a worker thread', () => {
  it('stores a miss, answers the reworded question from the worker, and still does after a restart', async () => {
    const temp = await tempDir('l1b-worker');
    const config = defaultConfig(temp.dir);
    const open = async (): Promise<CacheLayer> => (await semanticLayerFactory({ config, logger: silentLogger, dataDir: temp.dir })) as CacheLayer;
    let layer = await open();
    try {
      assert.match(layer.describe?.() ?? '', /lexical/);
      const first = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody('How do I reverse a linked list in place?') })), () => true);
      assert.equal(first.kind, 'upstream');
      await drain(first);
      await layer.settled();
      assert.equal(layer.entries(), 1, 'the worker reports what it holds');
      const again = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody('how do I reverse a linked list in place') })), () => true);
      assert.equal(again.kind, 'stored');
      assert.equal(again.layer, 'l1b');
      await layer.close();
      layer = await open();
      const afterRestart = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody('How do I reverse a linked list in place?') })), () => true);
      assert.equal(afterRestart.kind, 'stored', 'the entry and its vector survived the restart');
    } finally {
      await layer.close();
      await temp.cleanup();
    }
  });

  it('stores inserts made at once, then answers many lookups made at once, each with its own reply (they travel in batches)', async () => {
    const temp = await tempDir('l1b-worker-batch');
    const backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: silentLogger, lookupBudgetMs: 10_000 });
    try {
      const topics = ['reverse a linked list in place', 'read a file line by line in Python', 'parse JSON in Go', 'center a div with CSS', 'undo the last git commit', 'sort a dict by value in Python'];
      const answers = topics.map((topic, i) => answerFor(proxyRequest({ body: chatBody(`How do I ${topic}?`) }), i));
      await Promise.all(topics.map((topic, i) => backend.insert('p', `How do I ${topic}?`, answers[i]!)));
      assert.equal(backend.stats().entries, topics.length);
      // All lookups in one turn: one message out, replies matched back by id.
      const found = await Promise.all(topics.map((topic) => backend.lookup('p', `how do i ${topic}`)));
      found.forEach((result, i) => {
        assert.equal(result.hit, true, topics[i]);
        assert.deepEqual(result.hit && result.answer.body, answers[i]!.body, topics[i]);
      });
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('passes every request on as a miss once the worker has died, logging the failure once', async () => {
    const temp = await tempDir('l1b-worker-dies');
    const script = join(temp.dir, 'dying-worker.js');
    await writeFile(script, `const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ kind: 'ready', stats: { entries: 0, bytes: 0 }, describe: 'dying' });
parentPort.on('message', () => { throw new Error('native crash stand-in'); });`);
    const lines: string[] = [];
    const keep = (line: string): void => void lines.push(line);
    const backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: { debug: keep, info: keep, warn: keep, error: keep }, script, closeTimeoutMs: 50 });
    const layer = semanticLayerOver(backend, { debug: keep, info: keep, warn: keep, error: keep });
    try {
      for (let i = 0; i < 5; i++) {
        const outcome = await runLayers([layer, fakeUpstream()], context(proxyRequest({ body: chatBody(`How do I reverse list number ${i}?`) })), () => true);
        assert.equal(outcome.kind, 'upstream');
        await drain(outcome);
      }
      assert.match(backend.describe(), /failed/);
      assert.equal(lines.filter((line) => /requests pass L1b by/.test(line)).length, 1, lines.join('\n'));
      assert.equal(lines.filter((line) => /lookup failed/.test(line)).length, 1, 'only the request that met the failure logs it');
    } finally {
      await layer.close();
      await temp.cleanup();
    }
  });

  it('answers a lookup made as soon as it starts, while its cache still finishes opening, whatever the budget', async () => {
    // Issue 15: the worker answers from the journal before the graphs load and the store is
    // reconciled. Until it says it is done, a lookup waits for its answer (as requests waited for
    // the open before): with a budget of 0 ms a hit after a restart must not depend on timing.
    const temp = await tempDir('l1b-worker-early');
    const spec = { config: defaultConfig(temp.dir).semantic, dataDir: temp.dir };
    const topics = Array.from({ length: 40 }, (_, i) => `How do I configure service number ${i} for tenant ${i * 7}?`);
    const filled = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
    await Promise.all(topics.map((topic, i) => filled.insert('p', topic, answerFor(proxyRequest({ body: chatBody(topic) }), i))));
    await filled.close();
    const backend = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 0 });
    try {
      const found = await backend.lookup('p', 'how do i configure service number 12 for tenant 84');
      assert.equal(found.hit, true);
      assert.equal(found.hit && found.answer.body.id, 'answer-12');
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('tells a miss without the worker when no entry has the turn\'s code, numbers, identifiers and symbols, also after a restart', async () => {
    const temp = await tempDir('l1b-worker-gates');
    const spec = { config: defaultConfig(temp.dir).semantic, dataDir: temp.dir };
    const answer = (text: string, i: number) => answerFor(proxyRequest({ body: chatBody(text) }), i);
    const toldHere = (backend: { describe(): string }): number => Number(/(\d+) misses told without the worker/.exec(backend.describe())?.[1] ?? 0);
    // An idle worker does not keep the process alive: this test does, while it waits.
    const untilIndexed = async (backend: { indexed?: Promise<void> }): Promise<void> => {
      const keepAlive = setInterval(() => undefined, 1000);
      await backend.indexed;
      clearInterval(keepAlive);
    };
    let backend = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
    try {
      await untilIndexed(backend);
      await backend.insert('p', 'How do I retry a request 3 times?', answer('How do I retry a request 3 times?', 1));
      const paraphrase = await backend.lookup('p', 'how do i retry a request 3 times');
      assert.equal(paraphrase.hit, true);
      assert.equal(toldHere(backend), 0, 'a paraphrase goes to the worker');
      assert.equal((await backend.lookup('p', 'How do I retry a request 5 times?')).hit, false);
      assert.equal((await backend.lookup('q', 'How do I retry a request 3 times?')).hit, false);
      assert.equal(toldHere(backend), 2);
      // An insert on its way (not answered yet) counts: its twin asked now goes to the worker.
      const inserting = backend.insert('p', 'How do I parse 2 JSON files in Go?', answer('How do I parse 2 JSON files in Go?', 2));
      await backend.lookup('p', 'how do i parse 2 json files in go');
      assert.equal(toldHere(backend), 2);
      await inserting;
      // Turns over 2,048 characters are keyed in the worker: a long one on its way holds back its
      // whole partition, and a long lookup always goes to the worker.
      const long = `${'Some context. '.repeat(160)}How do I retry a request 9 times?`;
      const insertingLong = backend.insert('p', long, answer(long, 3));
      await backend.lookup('p', 'How do I retry a request 9 times?');
      assert.equal(toldHere(backend), 2);
      await insertingLong;
      await backend.lookup('p', `${'Other context. '.repeat(160)}How do I retry a request 11 times?`);
      assert.equal(toldHere(backend), 2);
      await backend.close();

      backend = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
      await untilIndexed(backend);
      assert.equal((await backend.lookup('p', 'How do I retry a request 3 times')).hit, true, 'counted again from the journal');
      assert.equal((await backend.lookup('p', 'How do I parse 2 JSON files in Go')).hit, true);
      assert.equal((await backend.lookup('p', 'How do I retry a request 7 times?')).hit, false);
      assert.equal(toldHere(backend), 1);
      await backend.clear();
      assert.equal((await backend.lookup('p', 'How do I retry a request 3 times')).hit, false);
      assert.equal(toldHere(backend), 2, 'none left after a clear');
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('tells a miss in a conversation with no entry without a gate key, unless an insert into it is on its way', async () => {
    const temp = await tempDir('l1b-worker-empty-partition');
    const spec = { config: defaultConfig(temp.dir).semantic, dataDir: temp.dir };
    const answer = (text: string, i: number) => answerFor(proxyRequest({ body: chatBody(text) }), i);
    const toldHere = (backend: { describe(): string }): number => Number(/(\d+) misses told without the worker/.exec(backend.describe())?.[1] ?? 0);
    const backend = await startWorkerBackend(spec, { logger: silentLogger, lookupBudgetMs: 10_000 });
    try {
      const keepAlive = setInterval(() => undefined, 1000);
      await backend.indexed;
      clearInterval(keepAlive);
      assert.equal((await backend.lookup('r', 'Explain closures in JavaScript')).hit, false);
      assert.equal(toldHere(backend), 1);
      // An insert whose lookup was told without a gate key holds back every lookup of its
      // conversation, whatever its gate key, until the worker has counted it.
      const inserting = backend.insert('r', 'Explain closures in JavaScript', answer('Explain closures in JavaScript', 1));
      const asked = [backend.lookup('r', 'explain closures in javascript'), backend.lookup('r', 'How do I retry a request 13 times?')];
      assert.equal(toldHere(backend), 1, 'both went to the worker');
      await inserting;
      await Promise.all(asked);
      assert.equal((await backend.lookup('r', 'explain closures in javascript')).hit, true);
      assert.equal((await backend.lookup('r', 'How do I retry a request 13 times?')).hit, false);
      assert.equal((await backend.lookup('s', 'explain closures in javascript')).hit, false);
      assert.equal(toldHere(backend), 3, 'another gate key, another conversation');
      // A turn too long to key on the main thread is told there too when its conversation is empty.
      assert.equal((await backend.lookup('t', `${'Some context. '.repeat(160)}Explain closures`)).hit, false);
      assert.equal(toldHere(backend), 4);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('treats a lookup the worker does not answer within the budget as a miss', async () => {
    const temp = await tempDir('l1b-worker-stuck');
    // A worker that opens and then never answers: a graph build or a save that takes too long.
    const script = join(temp.dir, 'stuck-worker.js');
    await writeFile(script, `const { parentPort } = require('node:worker_threads');
parentPort.postMessage({ kind: 'ready', stats: { entries: 0, bytes: 0 }, describe: 'stuck' });
parentPort.on('message', () => undefined);`);
    const backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: silentLogger, lookupBudgetMs: 40, script, closeTimeoutMs: 50 });
    try {
      const started = performance.now();
      const result = await backend.lookup('partition', 'How do I reverse a linked list in place?');
      const waited = performance.now() - started;
      assert.deepEqual(result, { hit: false });
      assert.ok(waited >= 35 && waited < 2000, `waited ${waited} ms`);
      assert.match(backend.describe(), /1 lookups over the 40 ms budget/);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('holds inserts briefly so that several travel in one message, and sends them along with any lookup', async () => {
    // A stand-in worker that answers every request and reports the batches it received.
    const temp = await tempDir('l1b-worker-insert-batches');
    const script = join(temp.dir, 'batches-worker.cjs');
    await writeFile(script, `
      const { parentPort } = require('node:worker_threads');
      const stats = { entries: 0, bytes: 0 };
      const batches = [];
      parentPort.postMessage({ kind: 'ready', stats, describe: '[]' });
      parentPort.on('message', (batch) => {
        batches.push(batch.map((request) => request.items ? request.op + ' ' + request.items.length : request.op));
        parentPort.postMessage({ kind: 'replies', replies: batch.map((request) => ({ id: request.id })), stats, describe: JSON.stringify(batches) });
      });
    `);
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const answer = answerFor(proxyRequest({ body: chatBody('How do I sort a list?') }), 1);
    const batchesOf = (backend: { describe(): string }): string[][] => JSON.parse(backend.describe()) as string[][];
    // A wait longer than the test: inserts leave only with another request (or at close).
    let backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: silentLogger, script, lookupBudgetMs: 10_000, insertPostDelayMs: 60_000 });
    try {
      // Five inserts, each in a turn of its own (one miss at a time), then a lookup: one message.
      const inserted: Array<Promise<void>> = [];
      for (let i = 0; i < 5; i++) {
        inserted.push(backend.insert('p', `How do I sort list ${i}?`, answer));
        await nextTurn();
      }
      await backend.lookup('p', 'How do I sort a set?');
      await Promise.all(inserted);
      // The five inserts are one request (one reply for all), sent with the lookup.
      assert.deepEqual(batchesOf(backend), [['insert 5', 'lookup']]);
      assert.equal(new Set(inserted).size, 1, 'inserts that travel together share one promise');
    } finally {
      await backend.close();
    }
    // With the default wait, a lone insert goes by itself.
    backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: silentLogger, script, lookupBudgetMs: 10_000 });
    try {
      await backend.insert('p', 'How do I sort a tuple?', answer);
      assert.deepEqual(batchesOf(backend), [['insert 1']]);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('fails every insert of a message the worker could not store, and then takes new ones again', async () => {
    // A stand-in worker whose store fails every insert; it reports how many items each message held.
    const temp = await tempDir('l1b-worker-insert-failure');
    const script = join(temp.dir, 'failing-worker.cjs');
    await writeFile(script, `
      const { parentPort } = require('node:worker_threads');
      const stats = { entries: 0, bytes: 0 };
      const sizes = [];
      parentPort.postMessage({ kind: 'ready', stats, describe: '[]' });
      parentPort.on('message', (batch) => {
        const replies = batch.map((request) => {
          if (request.op !== 'insert') return { id: request.id };
          sizes.push(request.items.length);
          return { id: request.id, error: request.items.length + ' of ' + request.items.length + ' answers not stored: disk full' };
        });
        parentPort.postMessage({ kind: 'replies', replies, stats, describe: JSON.stringify(sizes) });
      });
    `);
    const answer = answerFor(proxyRequest({ body: chatBody('How do I sort a list?') }), 1);
    const backend = await startWorkerBackend({ config: defaultConfig(temp.dir).semantic, dataDir: temp.dir }, { logger: silentLogger, script, lookupBudgetMs: 10_000, insertPostDelayMs: 1 });
    try {
      // More failed inserts than the backend lets wait for the worker (2,048): each failure must
      // release its place, or the last ones would be dropped as "the worker is behind".
      for (let round = 0; round < 3; round++) {
        const inserted = Array.from({ length: 1000 }, (_, i) => backend.insert('p', `How do I sort list ${round}-${i}?`, answer));
        const results = await Promise.allSettled(inserted);
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.match(String((result as PromiseRejectedResult).reason), /1000 of 1000 answers not stored: disk full/);
        }
      }
      assert.deepEqual(JSON.parse(backend.describe()), [1000, 1000, 1000]);
    } finally {
      await backend.close();
      await temp.cleanup();
    }
  });

  it('runs the worker with a small young generation and an old generation sized to the cache', async () => {
    // A stand-in worker that reports its own heap's limits: the young generation after enough
    // surviving allocations to grow it to its maximum, and the whole heap's limit.
    const temp = await tempDir('l1b-worker-limits');
    const script = join(temp.dir, 'limits-worker.cjs');
    await writeFile(script, `
      const { parentPort } = require('node:worker_threads');
      const v8 = require('node:v8');
      const kept = [];
      for (let i = 0; i < 400000; i++) kept.push({ i, s: 'x' + i });
      const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
      const describe = JSON.stringify({ young, limit: v8.getHeapStatistics().heap_size_limit, kept: kept.length });
      const stats = { entries: 0, bytes: 0 };
      parentPort.postMessage({ kind: 'ready', stats, describe });
      parentPort.on('message', (batch) => parentPort.postMessage({ kind: 'replies', replies: batch.map((request) => ({ id: request.id })), stats, describe }));
    `);
    const limitsFor = async (maxEntries: number): Promise<{ young: number; limit: number }> => {
      const config = { ...defaultConfig(temp.dir).semantic, maxEntries };
      const backend = await startWorkerBackend({ config, dataDir: temp.dir }, { logger: silentLogger, script });
      try {
        return JSON.parse(backend.describe()) as { young: number; limit: number };
      } finally {
        await backend.close();
      }
    };
    try {
      const MB = 1024 * 1024;
      const small = await limitsFor(100_000);
      assert.ok(small.young <= 4 * MB, `young generation ${small.young / MB} MB (V8's default grows to 32 MB)`);
      assert.ok(small.limit <= 600 * MB, `heap limit ${small.limit / MB} MB: a large limit lets V8 grow the old generation to 4× the live heap`);
      const large = await limitsFor(2_000_000);
      assert.ok(large.limit >= 9_000 * MB, `heap limit ${large.limit / MB} MB for 2M entries: room grows with the cache`);
    } finally {
      await temp.cleanup();
    }
  });
});
