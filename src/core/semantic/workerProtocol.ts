/**
 * The messages between the L1b layer (main thread) and the semantic cache's worker thread. Every
 * request carries an id its reply repeats; each reply also carries the cache's current figures.
 */
import type { StoredAnswer } from '../outcome';
import type { BackendLookup, BackendStats, SemanticOpenSpec } from './backend';

/** `workerData` of the worker: what to open. */
export type SemanticWorkerInit = SemanticOpenSpec;

/** Main thread → worker: one operation on the cache. */
export type WorkerRequest =
  | { id: number; op: 'lookup'; partition: string; text: string }
  | { id: number; op: 'insert'; partition: string; text: string; answer: StoredAnswer }
  | { id: number; op: 'clear' }
  | { id: number; op: 'close' };

/** Worker → main thread. */
export type WorkerMessage =
  /** The cache has opened; `describe` is the backend's description at that moment. */
  | { kind: 'ready'; stats: BackendStats; describe: string }
  /** The cache could not be opened; the worker exits after this. */
  | { kind: 'failed'; error: string }
  /** The answer to request `id` (`lookup` only for lookups), or the error it failed with. */
  | { kind: 'reply'; id: number; lookup?: BackendLookup; error?: string; stats: BackendStats; describe: string }
  /** A line for the main thread's logger. */
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };
