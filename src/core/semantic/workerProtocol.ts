/**
 * The messages between the L1b layer (main thread) and the semantic cache's worker thread. Every
 * request carries an id its reply repeats. Requests travel in batches (one message carries every
 * request made in one turn of the event loop, and inserts wait a little for company, see
 * INSERT_POST_DELAY_MS) and so do replies, each batch with the cache's
 * current figures: a message costs a structured clone and a wake-up of the other thread, which at
 * one lookup and one insert per miss was a tenth of the proxy thread's time (issue 15).
 */
import type { BackendLookup, BackendStats, SemanticOpenSpec } from './backend';

/**
 * Longest the worker holds an insert's reply for a lookup's reply to travel with: each message
 * wakes the main thread, and nothing there waits for an insert's reply but `settled()`.
 */
export const INSERT_DELAY_MS = 10;

/**
 * Longest the main thread holds an insert before posting it to the worker, for later inserts (and
 * any lookup) to travel in the same message: at one miss at a time, a message per insert woke the
 * worker for a store write and an index add of its own each time (issue 15). Any other request
 * takes every held insert along at once.
 */
export const INSERT_POST_DELAY_MS = 20;

/** What the worker opens. */
export type SemanticWorkerInit = SemanticOpenSpec;

/** `workerData` of the worker. */
export interface SemanticWorkerData {
  /** What to open; a spare (spareWorker.ts) is told later, in its first message. */
  open?: SemanticWorkerInit;
  /** Run one full collection once the open is done (openGarbage.ts): `isartor serve` only. */
  collectAfterOpen: boolean;
}

/**
 * Main thread → a worker started without `workerData` (a spare, see spareWorker.ts): its first
 * message, what to open. Requests follow it.
 */
export interface WorkerOpen {
  open: SemanticWorkerInit;
}

/** Main thread → worker (in a `WorkerRequest[]` batch): one operation on the cache. */
export type WorkerRequest =
  | { id: number; op: 'lookup'; partition: string; text: string; gateKey?: string }
  /**
   * Every insert made since the last message, with one reply for them all: nothing waits for one
   * insert, only for all of them (`settled()`), so a reply, a promise and a pending entry per insert
   * were work and memory for nothing (issue 15).
   */
  | { id: number; op: 'insert'; items: InsertItem[] }
  | { id: number; op: 'clear' }
  | { id: number; op: 'close' };

/** One answer to store. `answerJson`: the answer as `storedAnswerJson` has it; a string crosses threads far cheaper than an object. */
export interface InsertItem {
  partition: string;
  text: string;
  answerJson: string;
  gateKey?: string;
}

/** Worker → main thread. */
export type WorkerMessage =
  /**
   * The cache answers lookups; `describe` is the backend's description at that moment. `opening`:
   * it is still finishing its open, and says `indexed` once done.
   */
  | { kind: 'ready'; stats: BackendStats; describe: string; opening?: boolean; gates?: SharedArrayBuffer }
  /**
   * The cache has finished opening (graphs loaded, index reconciled with the store): lookups are
   * at their usual speed. `gates`, in both: the index's gate counts (gateTable.ts), complete from then on.
   */
  | { kind: 'indexed'; stats: BackendStats; describe: string; gates?: SharedArrayBuffer }
  /** The cache could not be opened; the worker exits after this. */
  | { kind: 'failed'; error: string }
  /** Answers to requests, in the order they finished; `stats` and `describe` as of the last one. */
  | { kind: 'replies'; replies: WorkerReply[]; stats: BackendStats; describe: string }
  /** A line for the main thread's logger. */
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

/** The answer to request `id` (`lookup` only for lookups), or the error it failed with (for inserts: the first, with how many failed). */
export interface WorkerReply {
  id: number;
  lookup?: BackendLookup;
  error?: string;
}
