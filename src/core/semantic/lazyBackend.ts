/**
 * A semantic backend that starts its real backend (the worker thread) only once the cache is
 * used. For a cache that is empty on disk: until the first answer is stored, every lookup is a
 * miss whatever the worker would say, so the worker — a second V8 isolate plus the lexical
 * embedder's tokenizer table, ~85 MB — need not exist. An idle proxy with an empty cache stays
 * small (issue 15: ≤ 120 MB idle); the first lookup starts the worker while its request goes on
 * upstream, so it is usually ready before that request's answer comes back to be stored.
 *
 * The store's lock is taken when the worker starts, not at start-up. Two processes on one data
 * dir are already refused by the exact cache's lock (with L1a on); if one went on and filled this
 * store first, this process would miss until its first insert (and its worker would then fail
 * on the lock and pass L1b by, logged): a missed hit, never a wrong one.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import type { StoredAnswer } from '../outcome';
import { LOG_MAGIC } from '../store/recordLog';
import type { BackendLookup, BackendStats, SemanticBackend } from './backend';

/**
 * Whether the embedded L1b store under `dataDir` holds no record: its log is missing or holds only
 * its header. Any record at all (even one expired or deleted) counts as not empty.
 */
export function semanticStoreIsEmpty(dataDir: string): boolean {
  try {
    return statSync(join(dataDir, 'semantic', 'semantic.log')).size <= LOG_MAGIC.length;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export interface LazyBackendOptions {
  /** Starts the real backend; called once, by the first lookup, insert or clear. */
  start(): Promise<SemanticBackend>;
  logger: Logger;
  /** `describe()` before the real backend has started. */
  idleDescription: string;
}

/**
 * Wraps an empty cache's backend so that it starts on first use. Lookups made before anything was
 * stored are misses without waiting; once an insert has been made every call waits for the start,
 * as the engine's deferred layers do, so a stored answer is never skipped.
 *
 * @example const backend = lazyBackend({ start: () => startWorkerBackend(spec, { logger }), logger, idleDescription: 'lexical, starts on first use' });
 */
export function lazyBackend(options: LazyBackendOptions): SemanticBackend {
  let started: Promise<SemanticBackend | undefined> | undefined;
  let backend: SemanticBackend | undefined;
  let failure: string | undefined;
  /** True once anything may have been stored: lookups must then ask the real backend. */
  let written = false;
  let closed = false;

  const start = (): Promise<SemanticBackend | undefined> =>
    (started ??= options.start().then(
      (opened) => (backend = opened),
      (error: unknown) => {
        failure = error instanceof Error ? error.message : String(error);
        options.logger.error(`l1b: the semantic cache could not be started, so requests pass L1b by: ${failure}`);
        return undefined;
      },
    ));

  return {
    async lookup(partition: string, text: string): Promise<BackendLookup> {
      if (closed) return { hit: false };
      if (!written) {
        // Nothing stored yet: a miss for certain. Start now so the insert after it finds the worker up.
        void start();
        return { hit: false };
      }
      return (await start())?.lookup(partition, text) ?? { hit: false };
    },
    insert(partition: string, text: string, answer: StoredAnswer | string): Promise<void> {
      if (closed) return Promise.resolve();
      written = true;
      // Once started, the real backend's own promise: an insert per miss, each wrapped twice, was
      // a cost on the proxy's thread for nothing (issue 15).
      if (backend) return backend.insert(partition, text, answer);
      return start().then((started) => started?.insert(partition, text, answer));
    },
    async clear(): Promise<void> {
      // Before the first write there is nothing to clear, and no reason to start.
      if (!started) return;
      await (await started)?.clear();
    },
    stats: (): BackendStats => backend?.stats() ?? { entries: 0, bytes: 0 },
    describe: (): string => backend?.describe() ?? (failure !== undefined ? `failed: ${failure}` : options.idleDescription),
    async close(): Promise<void> {
      closed = true;
      if (!started) return;
      await (await started)?.close();
    },
  };
}
