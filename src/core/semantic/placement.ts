/**
 * Where the L1b cache of a configuration runs, decided in one place for the engine's layer
 * factory and for `isartor serve`, which starts the worker ahead of the engine (spareWorker.ts).
 */
import type { EngineConfig, SemanticCacheConfig } from '../config';
import { semanticStoreIsEmpty } from './lazyBackend';
import { startSpareWorker } from './spareWorker';
import { semanticWorkerScript } from './workerBackend';
import { semanticWorkerLimits } from './workerLimits';

/**
 * 'worker': a worker thread opened at start-up; 'lazy': a worker started by the first use (an
 * empty cache with the built-in embedder, see lazyBackend.ts); 'thread': this thread (no worker
 * script, or ISARTOR_SEMANTIC_WORKER=0). A team's Redis store is decided before this.
 */
export function semanticPlacement(config: SemanticCacheConfig, dataDir: string, script: string | undefined): 'worker' | 'lazy' | 'thread' {
  if (script === undefined || process.env.ISARTOR_SEMANTIC_WORKER === '0') return 'thread';
  return config.embedder === 'lexical' && semanticStoreIsEmpty(dataDir) ? 'lazy' : 'worker';
}

/**
 * Starts the L1b worker for `config` now, if the engine will open one at start-up: it boots
 * while the caller loads and opens the rest (issue 15: ~100 ms sooner at `isartor serve`).
 *
 * @example startSemanticWorkerEarly(config); const proxy = await startProxy(config, { logger });
 */
export function startSemanticWorkerEarly(config: EngineConfig): void {
  if (config.store?.url) return;
  const script = semanticWorkerScript();
  if (semanticPlacement(config.semantic, config.dataDir, script) === 'worker') startSpareWorker(script!, semanticWorkerLimits(config.semantic.maxEntries));
}
