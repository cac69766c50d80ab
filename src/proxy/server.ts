/**
 * Starts the proxy on loopback: the engine, the routing table, the metrics and the HTTP server,
 * behind one handle the CLI and the VS Code extension both use.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineConfig } from '../core/config';
import { createEngine, type Engine, type StatsReport } from '../core/engine';
import type { LedgerRecord } from '../core/ledger-types';
import type { Logger } from '../core/logger';
import type { Route, UpstreamTarget } from '../core/request';
import { createProxyListener } from './app';
import { createBodyParser } from './bodyParser';
import { answerClientError } from './clientError';
import { createLoopSlices } from './loopSlices';
import { createProxyMetrics } from './metrics';
import { createRouteTable } from './routes';

export interface ProxyServer {
  /** e.g. "http://127.0.0.1:8787" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Adds a tool route; its id is 128 random bits unless given (the extension persists ids). */
  addRoute(route: { id?: string; providers: UpstreamTarget[]; tool?: string }): Route;
  removeRoute(id: string): void;
  routes(): Route[];
  /** Ledger summary, layer states and cache sizes. */
  stats(): StatsReport;
  onRecord(listener: (record: LedgerRecord) => void): { dispose(): void };
  setLayerEnabled(name: string, on: boolean): void;
  clearCaches(): Promise<void>;
  /** A layer switched or the caches cleared, from any caller (the savings page in a browser too). */
  onStateChange(listener: () => void): { dispose(): void };
  /** Stops accepting connections, ends open requests and closes the stores. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Opens the engine and listens on `config.host:config.port` (port 0 picks a free one). Fails with
 * EADDRINUSE when the port is taken, so a caller can retry with port 0.
 *
 * @example
 * const proxy = await startProxy({ ...defaultConfig(dir), port: 0 }, { logger });
 * console.log(proxy.url); await proxy.close();
 */
export async function startProxy(config: EngineConfig, deps: { logger: Logger }): Promise<ProxyServer> {
  const bodies = createBodyParser({ logger: deps.logger });
  let engine: Engine;
  try {
    engine = await createEngine(config, { logger: deps.logger, offThreadOptimise: bodies.optimise, readAnswer: bodies.readAnswer, countRemovedTokens: bodies.countRemoved });
  } catch (error) {
    await bodies.close();
    throw error;
  }
  const routes = createRouteTable(config.upstream.providers);
  const metrics = createProxyMetrics();
  const pending = new Set<Promise<unknown>>();
  const listener = createProxyListener({ config, engine, routes, metrics, logger: deps.logger, pending, bodies, slices: createLoopSlices() });
  const server = createServer({ keepAliveTimeout: 65_000 }, listener);
  server.on('clientError', answerClientError);
  try {
    await listen(server, config.port, config.host);
  } catch (error) {
    await bodies.close();
    await engine.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    port,
    dataDir: config.dataDir,
    addRoute: (route) => routes.add(route),
    removeRoute: (id) => routes.remove(id),
    routes: () => routes.list(),
    stats: () => engine.stats(),
    onRecord: (listener) => engine.ledger.onRecord(listener),
    setLayerEnabled: (name, on) => engine.setLayerEnabled(name, on),
    clearCaches: () => engine.clearCaches(),
    onStateChange: (listener) => engine.onStateChange(listener),
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Open streams would hold close() forever; ending them is what "ends open requests" means.
        server.closeAllConnections();
        await closed;
        // Aborted handlers still write their ledger records; the ledger must outlive them.
        await Promise.allSettled([...pending]);
        await bodies.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
