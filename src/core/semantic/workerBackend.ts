/**
 * The main thread's side of the semantic cache's worker: a SemanticBackend whose every call is one
 * message. Lookups have a time budget: a worker busy with a graph build or a save must not hold a
 * request, so past the budget the request goes on as a miss.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { storedAnswerJson, type StoredAnswer } from '../outcome';
import type { BackendLookup, BackendStats, SemanticBackend, SemanticOpenSpec } from './backend';
import { gateKeyOf } from './gateKeys';
import { GateView } from './gateTable';
import { createSemanticWorker, takeSpareWorker } from './spareWorker';
import { semanticWorkerLimits } from './workerLimits';
import { MessageBatcher } from './batcher';
import { INSERT_POST_DELAY_MS, type InsertItem, type WorkerMessage, type WorkerOpen, type WorkerReply, type WorkerRequest } from './workerProtocol';

/** Default lookup budget: far above a lookup's usual 0.1–1 ms, far below an upstream call. */
export const DEFAULT_LOOKUP_BUDGET_MS = 250;

/** Writes waiting for the worker beyond this are dropped (a miss later, never a stalled proxy). */
const MAX_PENDING_INSERTS = 2048;

/**
 * The worker's script: dist/semanticWorker.js next to the bundle that runs this code (CLI and
 * extension), or worker.ts beside this file when running from source (tests under tsx).
 */
export function semanticWorkerScript(): string | undefined {
  return [join(__dirname, 'semanticWorker.js'), join(__dirname, 'worker.ts')].find((path) => existsSync(path));
}

/** Inserts that travel in one message: their items and their one promise. */
type InsertGroup = { items: InsertItem[]; stored: Promise<void> };

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

/** Turns whose gate key is remembered for the insert that follows their lookup. */
const RECENT_GATE_KEYS = 256;

/**
 * Longest turn the main thread keys itself (~0.2 µs a character): a longer one goes to the worker,
 * which keys it anyway, so that the main thread's share stays under ~0.5 ms a request.
 */
const MAX_KEYED_HERE_CHARS = 2048;

/** Adds `by` to the count of `key`, which is dropped at zero. */
function countIn(counts: Map<string, number>, key: string, by: number): void {
  const count = (counts.get(key) ?? 0) + by;
  if (count === 0) counts.delete(key);
  else counts.set(key, count);
}

/** What an insert in flight holds back: lookups with its gate key, or every lookup of its partition (`*`) for a long turn. */
const flightKey = (partition: string, gateKey: string | undefined): string => `${partition}\n${gateKey ?? '*'}`;

export interface WorkerBackendOptions {
  logger: Logger;
  lookupBudgetMs?: number;
  /** Script to run (default: `semanticWorkerScript()`). */
  script?: string;
  /** How long `close()` waits for the worker to save before stopping it anyway. Default 10 s. */
  closeTimeoutMs?: number;
  /** Longest an insert waits for company before it is posted. Default INSERT_POST_DELAY_MS. */
  insertPostDelayMs?: number;
}

/**
 * Starts the worker and resolves once its cache has opened; rejects when it could not open.
 *
 * @example const backend = await startWorkerBackend({ config: config.semantic, dataDir }, { logger });
 */
export async function startWorkerBackend(spec: SemanticOpenSpec, options: WorkerBackendOptions): Promise<SemanticBackend> {
  const script = options.script ?? semanticWorkerScript();
  if (!script) throw new Error('the semantic worker script is missing (dist/semanticWorker.js)');
  const { logger } = options;
  const budgetMs = options.lookupBudgetMs ?? DEFAULT_LOOKUP_BUDGET_MS;
  const resourceLimits = semanticWorkerLimits(spec.config.maxEntries);
  // A spare started ahead (`isartor serve`, see spareWorker.ts) has booted already or is booting.
  const spare = takeSpareWorker(script, resourceLimits);
  const worker = spare ?? createSemanticWorker(script, spec, resourceLimits);
  if (spare) spare.postMessage({ open: spec } satisfies WorkerOpen);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stats: BackendStats = { entries: 0, bytes: 0 };
  let description = 'opening…';
  let dead: string | undefined;
  let overBudget = 0;
  /**
   * False while the worker finishes opening (graphs, reconcile) after its first answers: a lookup
   * then waits for its answer without the budget, as every request waited for the open before the
   * worker answered early, so a hit after a restart never depends on timing.
   */
  let indexed = false;
  let pendingInserts = 0;
  /**
   * The inserts waiting for the next message: one request, and one promise every one of them
   * returns, settled by the worker's one reply (see the protocol's `insert`).
   */
  let openInserts: InsertGroup | undefined;
  let markIndexed = (): void => undefined;
  const indexedPromise = new Promise<void>((resolve) => (markIndexed = resolve));
  /** The worker's gate counts (gateTable.ts), once they count every entry. */
  let gates: GateView | undefined;
  /** Inserts posted and not answered yet, by partition and gate key: their entries may not be counted yet. */
  const insertsInFlight = new Map<string, number>();
  /** The same inserts by partition alone. */
  const partitionsInFlight = new Map<string, number>();
  let settledHere = 0;
  /** Gate keys of recent turns: the insert after a miss is for the text its lookup just keyed. */
  const recentGateKeys = new Map<string, string>();
  const gateKeyOfTurn = (text: string): string => {
    let gateKey = recentGateKeys.get(text);
    if (gateKey === undefined) {
      gateKey = gateKeyOf(text);
      recentGateKeys.set(text, gateKey);
      if (recentGateKeys.size > RECENT_GATE_KEYS) recentGateKeys.delete(recentGateKeys.keys().next().value!);
    }
    return gateKey;
  };

  // An idle worker must not keep a process alive that is otherwise done; a busy one must.
  const refresh = (): void => void (pending.size > 0 ? worker.ref() : worker.unref());

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'log') logger[message.level](message.message);
      else if (message.kind === 'indexed') {
        indexed = true;
        if (message.gates) gates = new GateView(message.gates);
        markIndexed();
        stats = message.stats;
        description = message.describe;
      } else if (message.kind === 'ready') {
        indexed = message.opening !== true;
        if (message.gates) gates = new GateView(message.gates);
        if (indexed) markIndexed();
        stats = message.stats;
        description = message.describe;
        resolve();
      } else if (message.kind === 'failed') reject(new Error(message.error));
      else {
        stats = message.stats;
        description = message.describe;
        for (const reply of message.replies) {
          const waiter = pending.get(reply.id);
          pending.delete(reply.id);
          waiter?.resolve(reply);
        }
        refresh();
      }
    });
    const fail = (reason: string): void => {
      dead ??= reason;
      markIndexed();
      reject(new Error(reason));
      for (const waiter of pending.values()) waiter.reject(new Error(reason));
      pending.clear();
    };
    worker.on('error', (error) => {
      logger.error(`l1b: the semantic worker failed, so requests pass L1b by: ${error.message}`);
      fail(`the semantic worker failed: ${error.message}`);
    });
    worker.on('exit', (code) => fail(`the semantic worker exited (code ${code})`));
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.unref();

  // Requests made in one turn of the event loop go to the worker in one message; inserts, which
  // nothing waits for, wait up to INSERT_POST_DELAY_MS for more to travel with.
  const requests = new MessageBatcher<WorkerRequest>((batch) => {
    // Inserts made from now on go in the next message.
    openInserts = undefined;
    if (!dead) worker.postMessage(batch);
  }, options.insertPostDelayMs ?? INSERT_POST_DELAY_MS);
  type Request = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
  const call = (request: Request): Promise<WorkerReply> => {
    if (dead) return Promise.reject(new Error(dead));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
      requests.push({ ...request, id } as WorkerRequest, request.op !== 'insert');
    });
  };
  const expectOk = (reply: WorkerReply): void => {
    if (reply.error !== undefined) throw new Error(reply.error);
  };

  const insertGroup = (): InsertGroup => {
    if (openInserts) return openInserts;
    const items: InsertItem[] = [];
    const stored = call({ op: 'insert', items })
      .then(expectOk)
      .finally(() => {
        pendingInserts -= items.length;
        for (const item of items) {
          countIn(insertsInFlight, flightKey(item.partition, item.gateKey), -1);
          countIn(partitionsInFlight, item.partition, -1);
        }
      });
    return (openInserts = { items, stored });
  };

  return {
    indexed: indexedPromise,
    lookup(partition: string, text: string): Promise<BackendLookup> {
      // A failed worker was logged once when it failed; every request after it is a plain miss.
      if (dead) return Promise.resolve({ hit: false });
      if (gates && !partitionsInFlight.has(partition) && !gates.partitionMayHold(partition)) {
        // No entry in this conversation, none on its way: a miss, without even a gate key.
        settledHere++;
        return Promise.resolve({ hit: false });
      }
      const gateKey = gates && text.length <= MAX_KEYED_HERE_CHARS ? gateKeyOfTurn(text) : undefined;
      if (gates && gateKey !== undefined) {
        // No entry with this turn's code, numbers, identifiers and symbols, and none on its way:
        // no neighbour could pass the gates, so the worker need not be asked.
        const onItsWay = insertsInFlight.has(flightKey(partition, gateKey)) || insertsInFlight.has(flightKey(partition, undefined));
        if (!onItsWay && !gates.mayHold(partition, gateKey)) {
          settledHere++;
          return Promise.resolve({ hit: false });
        }
      }
      const answered = call({ op: 'lookup', partition, text, ...(gateKey !== undefined ? { gateKey } : {}) }).then((reply): BackendLookup => {
        expectOk(reply);
        return reply.lookup ?? { hit: false };
      });
      if (!indexed) return answered;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<BackendLookup>((resolve) => {
        timer = setTimeout(() => {
          overBudget++;
          logger.debug(`l1b: the semantic worker did not answer within ${budgetMs} ms; treating the request as a miss`);
          resolve({ hit: false });
        }, budgetMs);
      });
      return Promise.race([answered, timedOut]).finally(() => clearTimeout(timer));
    },
    insert(partition: string, text: string, answer: StoredAnswer | string): Promise<void> {
      if (dead) return Promise.resolve();
      if (pendingInserts >= MAX_PENDING_INSERTS) {
        logger.debug('l1b: the semantic worker is behind; an answer was not stored');
        return Promise.resolve();
      }
      pendingInserts++;
      // Counted before the gate counts arrive too: an insert posted before may be counted after.
      // The gate key its lookup computed, if it did (a lookup in an empty partition needs none);
      // without one the worker computes it, and the insert holds back its whole partition.
      const gateKey = text.length <= MAX_KEYED_HERE_CHARS ? recentGateKeys.get(text) : undefined;
      countIn(insertsInFlight, flightKey(partition, gateKey), 1);
      countIn(partitionsInFlight, partition, 1);
      const group = insertGroup();
      const answerJson = typeof answer === 'string' ? answer : storedAnswerJson(answer);
      group.items.push(gateKey !== undefined ? { partition, text, answerJson, gateKey } : { partition, text, answerJson });
      return group.stored;
    },
    async clear() {
      expectOk(await call({ op: 'clear' }));
    },
    stats: () => stats,
    describe: () => {
      if (dead) return `failed: ${dead}`;
      const over = overBudget > 0 ? `, ${overBudget} lookups over the ${budgetMs} ms budget` : '';
      const here = settledHere > 0 ? `, ${settledHere} misses told without the worker (no entry with their code, numbers, identifiers and symbols)` : '';
      return `${description}${over}${here}`;
    },
    async close() {
      if (!dead) {
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.closeTimeoutMs ?? 10_000)));
        try {
          await Promise.race([call({ op: 'close' }).then(expectOk), gaveUp]);
        } finally {
          clearTimeout(timer);
          dead = 'the semantic cache is closed';
        }
      }
      for (const waiter of pending.values()) waiter.reject(new Error(dead));
      pending.clear();
      await worker.terminate();
    },
  };
}
