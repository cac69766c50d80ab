/**
 * Entry of the semantic cache's worker thread (bundled as dist/semanticWorker.js): opens the L1b
 * store, embedder and vector index here, off the thread that serves HTTP (and, in VS Code, off the
 * extension host's thread every extension shares), and answers the layer's messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../logger';
import { openSemanticBackend, type SemanticBackend } from './backend';
import { MessageBatcher } from './batcher';
import { gateSignature } from './gates';
import { collectOpenGarbage, SECOND_COLLECTION_DELAY_MS } from './openGarbage';
import { INSERT_DELAY_MS, type InsertItem, type SemanticWorkerData, type SemanticWorkerInit, type WorkerMessage, type WorkerOpen, type WorkerReply, type WorkerRequest } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('the semantic worker must run in a worker thread');
const data = workerData as SemanticWorkerData;

const post = (message: WorkerMessage): void => port.postMessage(message);
const logger: Logger = {
  debug: (message) => post({ kind: 'log', level: 'debug', message }),
  info: (message) => post({ kind: 'log', level: 'info', message }),
  warn: (message) => post({ kind: 'log', level: 'warn', message }),
  error: (message) => post({ kind: 'log', level: 'error', message }),
};

/** Stores every item; throws after all have been tried if any failed, saying how many. */
async function insertAll(backend: SemanticBackend, items: readonly InsertItem[]): Promise<void> {
  const results = await Promise.allSettled(items.map((item) => backend.insert(item.partition, item.text, item.answerJson, item.gateKey)));
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length === 0) return;
  const first = failures[0]!.reason;
  throw new Error(`${failures.length} of ${items.length} answers not stored: ${first instanceof Error ? first.message : String(first)}`);
}

/** Runs one request and queues its reply; a failure becomes the reply's error, never a crash. */
async function serve(backend: SemanticBackend, replies: MessageBatcher<WorkerReply>, request: WorkerRequest): Promise<void> {
  let lookup;
  let error: string | undefined;
  try {
    if (request.op === 'lookup') lookup = await backend.lookup(request.partition, request.text, request.gateKey);
    else if (request.op === 'insert') await insertAll(backend, request.items);
    else if (request.op === 'clear') await backend.clear();
    else await backend.close();
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
  }
  replies.push({ id: request.id, ...(lookup ? { lookup } : {}), ...(error !== undefined ? { error } : {}) }, request.op !== 'insert');
  if (request.op === 'close') {
    replies.flush();
    port!.close();
  }
}

/** What to open: the worker's data, or for a spare started ahead (spareWorker.ts) its first message. */
function openSpec(): Promise<SemanticWorkerInit> {
  if (data.open) return Promise.resolve(data.open);
  return new Promise((resolve) => port!.once('message', (message: WorkerOpen) => resolve(message.open)));
}

async function main(): Promise<void> {
  let backend: SemanticBackend;
  try {
    backend = await openSemanticBackend(await openSpec(), logger);
  } catch (error) {
    post({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
    port!.close();
    return;
  }
  // The first embedding and gate check load tables and compile code (hundreds of ms): pay that
  // now, so the first real lookup fits in the layer's time budget.
  await backend.lookup('', 'warm up the embedder').catch(() => undefined);
  gateSignature('Warm up the gates: parseInt("42", 10) in v2?');
  // Every reply finished in one turn goes in one message; an insert's waits (up to INSERT_DELAY_MS)
  // for a lookup's to travel with: nothing on the main thread is in a hurry for it.
  const replies = new MessageBatcher<WorkerReply>((batch) => post({ kind: 'replies', replies: batch, stats: backend.stats(), describe: backend.describe() }), INSERT_DELAY_MS);
  port!.on('message', (batch: WorkerRequest[]) => {
    // Lookups first: a request waits for its lookup, nobody for an insert. (An insert's entry is
    // findable only once its store write is done, so a lookup in the same batch never found it.)
    for (const request of batch) if (request.op === 'lookup') void serve(backend, replies, request);
    for (const request of batch) if (request.op !== 'lookup') void serve(backend, replies, request);
  });
  const { indexed } = backend;
  // The gate counts go to the main thread once they count every entry: after the open.
  const gatesNow = (): { gates?: SharedArrayBuffer } => {
    const gates = backend.gateCounts?.();
    return gates ? { gates } : {};
  };
  post({ kind: 'ready', stats: backend.stats(), describe: backend.describe(), opening: indexed !== undefined, ...(indexed ? {} : gatesNow()) });
  void indexed?.then(() => post({ kind: 'indexed', stats: backend.stats(), describe: backend.describe(), ...gatesNow() }));
  // After the index is whole, in a turn of its own: lookups wait for the collection (~20 ms at
  // 100k entries), so not in front of the first ones.
  if (data.collectAfterOpen) void (indexed ?? Promise.resolve()).then(() => setImmediate(freeOpenGarbage));
}

/** Saves memory only: a failure is logged and never ends the worker. */
function freeOpenGarbage(): void {
  try {
    const collected = collectOpenGarbage();
    logger.debug(`L1b worker: heap after the open ${collected.beforeMb} MB, ${collected.afterMb} MB after a full collection (${collected.ms} ms), ${collected.committedMb} MB committed`);
    // The freed pages go back to the system at the next full collection (openGarbage.ts).
    setTimeout(releaseFreedPages, SECOND_COLLECTION_DELAY_MS).unref();
  } catch (error) {
    logger.warn(`L1b worker: no collection after the open: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function releaseFreedPages(): void {
  try {
    const collected = collectOpenGarbage();
    logger.debug(`L1b worker: ${collected.committedMb} MB committed after a second collection (${collected.ms} ms)`);
  } catch (error) {
    logger.warn(`L1b worker: no second collection after the open: ${error instanceof Error ? error.message : String(error)}`);
  }
}

void main();
