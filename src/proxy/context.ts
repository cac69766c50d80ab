/**
 * What every proxy handler shares: the engine, the routing table, the metrics and the logger.
 */
import type { EngineConfig } from '../core/config';
import type { Engine } from '../core/engine';
import type { Logger } from '../core/logger';
import type { BodyParser } from './bodyParser';
import type { LoopSlices } from './loopSlices';
import type { ProxyMetrics } from './metrics';
import type { RouteTable } from './routes';

export interface ProxyContext {
  config: EngineConfig;
  engine: Engine;
  routes: RouteTable;
  metrics: ProxyMetrics;
  logger: Logger;
  /** Parses request bodies, the large ones off this thread. */
  bodies: BodyParser;
  /** Handlers still running (answering or writing their ledger record); close() waits for them. */
  pending: Set<Promise<unknown>>;
  /** Spreads the start of a burst of engine requests over turns of the event loop. */
  slices: LoopSlices;
}
