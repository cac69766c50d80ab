/**
 * Runs the engine's proxy inside the extension host: start on the configured port (or a free one
 * when it is taken), stop, restart, and report its state and ledger records to the UI.
 */
import { request } from 'undici';
import type { EngineConfig } from '../../core/config';
import type { StatsReport } from '../../core/engine';
import type { LedgerRecord } from '../../core/ledger-types';
import type { Logger } from '../../core/logger';
import type { Route, UpstreamTarget } from '../../core/request';
import type { DisposableLike } from '../disposables';
import { Emitter } from '../events';
import { describeError } from '../log';
import type { HostState } from '../statusView';
import { listenedToOnlyByThisUser } from './portOwner';

/** What the shell uses of `ProxyServer` (src/proxy/server.ts); the real server has more. */
export interface EmbeddedProxy {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  addRoute(route: { id?: string; providers: UpstreamTarget[]; tool?: string }): Route;
  removeRoute(id: string): void;
  stats(): StatsReport;
  onRecord(listener: (record: LedgerRecord) => void): { dispose(): void };
  setLayerEnabled(name: string, on: boolean): void;
  clearCaches(): Promise<void>;
  onStateChange(listener: () => void): { dispose(): void };
  close(): Promise<void>;
}

export type ProxyStarter<P extends EmbeddedProxy = EmbeddedProxy> = (config: EngineConfig, deps: { logger: Logger }) => Promise<P>;

export interface HostSnapshot {
  state: HostState;
  url?: string;
  error?: string;
}

/**
 * True when an Isartor proxy (another VS Code window's, or `isartor serve`) answers at `url`: its
 * `/isartor/stats` returns the ledger and layer states. Anything else, or no answer within a
 * second, is not Isartor; nor is a port another user listens on, however it answers (see
 * portOwner.ts). `ownUid` is this process's unless a test says otherwise.
 */
export async function isIsartorAt(url: string, options: { ownUid?: number } = {}): Promise<boolean> {
  try {
    if (!(await listenedToOnlyByThisUser(url, options.ownUid ?? process.getuid?.()))) return false;
    const response = await request(`${url}/isartor/stats`, { signal: AbortSignal.timeout(1000) });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return false;
    }
    const body = (await response.body.json()) as Record<string, unknown> | null;
    return typeof body === 'object' && body !== null && 'ledger' in body && 'layers' in body;
  } catch {
    return false;
  }
}

/** True for "address already in use", however the server reports it. */
export function isPortInUse(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || (error instanceof Error && /EADDRINUSE|address already in use/i.test(error.message));
}

/**
 * Owns at most one running proxy. Start and stop calls are queued, so a Disable clicked while the
 * proxy is still starting waits for the start and then stops it.
 *
 * @example
 * const host = new ProxyHost(startProxy, logger);
 * const { moved } = await host.start(config); // moved: the configured port was taken
 */
export class ProxyHost<P extends EmbeddedProxy = EmbeddedProxy> implements DisposableLike {
  private current: P | undefined;
  private proxySubscriptions: { dispose(): void }[] = [];
  private snapshotValue: HostSnapshot = { state: 'off' };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stateEmitter: Emitter<HostSnapshot>;
  private readonly recordEmitter: Emitter<LedgerRecord>;
  private readonly engineStateEmitter: Emitter<void>;

  constructor(
    private readonly startProxy: ProxyStarter<P>,
    private readonly logger: Logger,
  ) {
    const report = (error: unknown): void => this.logger.error(`listener failed: ${describeError(error)}`);
    this.stateEmitter = new Emitter(report);
    this.recordEmitter = new Emitter(report);
    this.engineStateEmitter = new Emitter(report);
  }

  /** Fires on every state change (off → starting → on | error, on → off). */
  readonly onDidChangeState = (listener: (snapshot: HostSnapshot) => void): DisposableLike => this.stateEmitter.event(listener);

  /** Ledger records of whichever proxy is running; survives restarts. */
  readonly onRecord = (listener: (record: LedgerRecord) => void): DisposableLike => this.recordEmitter.event(listener);

  /** A layer switched or the caches cleared in whichever proxy is running, by anyone (the browser's savings page too); survives restarts. */
  readonly onEngineStateChange = (listener: () => void): DisposableLike => this.engineStateEmitter.event(listener);

  get snapshot(): HostSnapshot {
    return this.snapshotValue;
  }

  /** The running proxy, if any. */
  get proxy(): P | undefined {
    return this.current;
  }

  /**
   * Starts the proxy unless one is running. On "port in use" it retries once on a free port;
   * `moved` then tells the caller to re-point what it had connected to the old URL.
   */
  start(config: EngineConfig): Promise<{ proxy: P; moved: boolean }> {
    return this.enqueue(async () => {
      if (this.current) return { proxy: this.current, moved: false };
      this.setState({ state: 'starting' });
      try {
        let moved = false;
        let proxy: P;
        try {
          proxy = await this.startProxy(config, { logger: this.logger });
        } catch (error) {
          if (!isPortInUse(error) || config.port === 0) throw error;
          this.logger.warn(`port ${config.port} is in use; starting on a free port instead`);
          proxy = await this.startProxy({ ...config, port: 0 }, { logger: this.logger });
          moved = true;
        }
        this.current = proxy;
        this.proxySubscriptions = [proxy.onRecord((record) => this.recordEmitter.fire(record)), proxy.onStateChange(() => this.engineStateEmitter.fire(undefined))];
        this.logger.info(`proxy listening on ${proxy.url} (data: ${proxy.dataDir})`);
        this.setState({ state: 'on', url: proxy.url });
        return { proxy, moved };
      } catch (error) {
        const message = describeError(error);
        this.logger.error(`proxy failed to start: ${message}`);
        this.setState({ state: 'error', error: message });
        throw error;
      }
    });
  }

  /** Stops the running proxy (if any) and waits until its port and stores are closed. */
  stop(): Promise<void> {
    return this.enqueue(async () => {
      const proxy = this.current;
      this.current = undefined;
      for (const subscription of this.proxySubscriptions) subscription.dispose();
      this.proxySubscriptions = [];
      if (proxy) {
        try {
          await proxy.close();
          this.logger.info('proxy stopped');
        } catch (error) {
          this.logger.error(`proxy did not close cleanly: ${describeError(error)}`);
        }
      }
      this.setState({ state: 'off' });
    });
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.recordEmitter.dispose();
    this.engineStateEmitter.dispose();
  }

  private setState(snapshot: HostSnapshot): void {
    this.snapshotValue = snapshot;
    this.stateEmitter.fire(snapshot);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
