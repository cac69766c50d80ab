/**
 * One Redis connection shared by every cache and the ledger of a replica. Redis is an optimisation,
 * never a dependency: each command gets a short budget, nothing queues while the connection is
 * down, an outage is logged once (and its end once), and the client reconnects by itself.
 */
import { createClient, RESP_TYPES } from 'redis';
import type { StoreConfig } from '../config';
import type { Logger } from '../logger';
import { redactStoreUrl } from './redisUrl';

/** What `/isartor/stats` shows about the shared store. */
export interface SharedStoreStatus {
  kind: 'redis';
  /** The URL without its password. */
  url: string;
  available: boolean;
  /** "shared cache unavailable: …" while Redis cannot be reached. */
  detail: string;
}

/** Slow replies in a row that make Redis count as unavailable (logged, shown in stats). */
const SLOW_IN_A_ROW_IS_DOWN = 3;

function openClient(url: string, budgetMs: number) {
  return createClient({
    url,
    // Fail at once while disconnected instead of holding requests until Redis is back.
    disableOfflineQueue: true,
    // A command waiting to be sent gives up after the budget (see also `run`).
    commandOptions: { timeout: budgetMs },
    socket: {
      connectTimeout: Math.max(1000, budgetMs * 10),
      // Forever, backing off to 2 s: the replica keeps serving from upstream meanwhile.
      reconnectStrategy: (retries) => Math.min(100 * 2 ** Math.min(retries, 5), 2000),
    },
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

export type RedisClient = ReturnType<typeof openClient>;

export interface SharedRedis {
  readonly client: RedisClient;
  /** Prefix of every key this replica writes: `<namespace>:`. */
  readonly prefix: string;
  readonly budgetMs: number;
  /**
   * Runs one Redis operation within the budget. Resolves with `fallback` when Redis is down, slow
   * or answers with an error; the outage is logged once.
   */
  run<T>(what: string, operation: (client: RedisClient) => Promise<T>, fallback: T): Promise<T>;
  available(): boolean;
  status(): SharedStoreStatus;
  close(): Promise<void>;
}

/**
 * Connects to the Redis of `config.url`, waiting at most a moment for the first connection: when
 * Redis is down at start the proxy serves from the upstream and joins the cache once it is up.
 *
 * @example
 * const shared = await openSharedRedis({ url: 'redis://127.0.0.1:6379', namespace: 'isartor', shareAcrossKeys: false, timeoutMs: 100 }, logger);
 * const value = await shared.run('get', (c) => c.get('k'), null);
 */
export async function openSharedRedis(config: StoreConfig & { url: string }, logger: Logger): Promise<SharedRedis> {
  const url = redactStoreUrl(config.url);
  const client = openClient(config.url, config.timeoutMs);
  let down: string | undefined;
  let closing = false;

  const markDown = (reason: string): void => {
    if (down !== undefined || closing) return;
    down = reason;
    logger.warn(`shared cache unavailable (${url}): ${reason}; serving from the upstream until it is back`);
  };
  client.on('error', (error: unknown) => markDown(error instanceof Error ? error.message || error.name : String(error)));
  client.on('ready', () => {
    if (down !== undefined) logger.info(`shared cache back (${url})`);
    down = undefined;
  });

  const firstConnect = client.connect().then(
    () => undefined,
    (error: unknown) => markDown(error instanceof Error ? error.message : String(error)),
  );
  // Not forever: the first requests may go to the upstream, the proxy starts regardless.
  await Promise.race([firstConnect, new Promise((resolve) => setTimeout(resolve, Math.max(1000, config.timeoutMs * 10)).unref())]);
  if (!client.isReady) markDown('not connected yet');
  // Warm the command path once outside the budget: a fresh process's first command pays for
  // compiling the client's code, which on a busy machine alone can take longer than the budget.
  else await Promise.race([client.ping().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  /** Commands in a row that ran out of budget; one slow reply is not an outage, a run of them is. */
  let slowInARow = 0;

  return {
    client,
    prefix: `${config.namespace}:`,
    budgetMs: config.timeoutMs,
    async run(what, operation, fallback) {
      if (!client.isReady) return fallback;
      let timer: NodeJS.Timeout | undefined;
      // On expiry, give I/O one more turn (setImmediate runs after the poll phase): when the event
      // loop itself was busy, the reply may be waiting in the socket, and it is not Redis's fault.
      const budget = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => setImmediate(() => resolve('timeout')), config.timeoutMs)));
      try {
        const result = await Promise.race([operation(client), budget]);
        if (result === 'timeout') {
          logger.debug(`shared cache: ${what} ran out of its ${config.timeoutMs} ms`);
          if (++slowInARow >= SLOW_IN_A_ROW_IS_DOWN) markDown(`${SLOW_IN_A_ROW_IS_DOWN} commands in a row took over ${config.timeoutMs} ms (last: ${what})`);
          return fallback;
        }
        slowInARow = 0;
        if (down !== undefined && client.isReady) {
          // Slow, not disconnected: the first command on time again ends the outage.
          logger.info(`shared cache back (${url})`);
          down = undefined;
        }
        return result;
      } catch (error) {
        markDown(`${what} failed: ${error instanceof Error ? error.message || error.name : String(error)}`);
        return fallback;
      } finally {
        clearTimeout(timer);
      }
    },
    available: () => client.isReady && down === undefined,
    status() {
      const available = client.isReady && down === undefined;
      return { kind: 'redis', url, available, detail: available ? `shared cache on ${url}` : `shared cache unavailable (${url}): ${down ?? 'reconnecting'}` };
    },
    async close() {
      closing = true;
      await firstConnect;
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
