/**
 * One Redis connection shared by every cache and the ledger of a replica. Redis is an optimisation,
 * never a dependency: each command gets a short budget, nothing queues while the connection is
 * down, an outage is logged once (and its end once), and the client reconnects by itself.
 */
// Types only: the client itself is loaded by openSharedRedis, so a proxy without a shared store
// never loads it (the CLI keeps it out of its bundle, see scripts/build.mjs: ~1.7 MB to parse).
import type * as RedisModule from 'redis';
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
/**
 * While Redis counts as down for slowness, commands answer from their fallback at once (a stalled
 * Redis would otherwise cost every request the whole budget) and a PING this often asks whether
 * it answers in time again.
 */
const PROBE_EVERY_MS = 1000;
/** The same kind of error reply (OOM, WRONGTYPE, …) is logged at most this often. */
const ERROR_REPLY_LOG_EVERY_MS = 60_000;
/** Placeholder reason until the client reports why it cannot connect (see markDown). */
const NOT_CONNECTED_YET = 'not connected yet';

function openClient({ createClient, RESP_TYPES }: typeof RedisModule, url: string, budgetMs: number) {
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
  /**
   * Runs one operation that must not fail silently (clearing the cache): within `budgetMs`, and
   * throws when Redis is disconnected, too slow or answers with an error. Unlike run(), it does
   * not skip a Redis that counts as down for slowness: the budget decides.
   */
  runOrThrow<T>(what: string, operation: (client: RedisClient) => Promise<T>, budgetMs: number): Promise<T>;
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
  const redis = await import('redis');
  const client = openClient(redis, config.url, config.timeoutMs);
  const explain = (error: unknown): string => describeRedisError(error, config.url);
  let down: string | undefined;
  let closing = false;
  /** Commands in a row that ran out of budget; one slow reply is not an outage, a run of them is. */
  let slowInARow = 0;
  /** Set while Redis is connected but too slow: commands skip it until a probe answers in time. */
  let probe: NodeJS.Timeout | undefined;
  const errorReplies = new ErrorReplyLog(logger, url);

  const markDown = (reason: string): void => {
    if (closing) return;
    // The first outage line may have had nothing better to say; the client's first real error
    // (a TLS handshake against a plain Redis, say) is what the operator needs, once.
    if (down === NOT_CONNECTED_YET && reason !== NOT_CONNECTED_YET) {
      down = reason;
      logger.warn(`shared cache still unavailable (${url}): ${reason}`);
      return;
    }
    if (down !== undefined) return;
    down = reason;
    logger.warn(`shared cache unavailable (${url}): ${reason}; serving from the upstream until it is back`);
  };
  const markBack = (): void => {
    stopProbing();
    // A fresh start: one slow command after the outage is not yet another one.
    slowInARow = 0;
    if (down !== undefined) logger.info(`shared cache back (${url})`);
    down = undefined;
  };
  const stopProbing = (): void => {
    clearInterval(probe);
    probe = undefined;
  };
  /** Slow, not disconnected: stop sending commands and PING now and then until Redis answers in time. */
  const startProbing = (): void => {
    if (probe || closing) return;
    let probing = false;
    probe = setInterval(() => {
      if (probing || !client.isReady) return;
      probing = true;
      void withinBudget(client.ping(), config.timeoutMs)
        .then((reply) => {
          if (reply !== TIMEOUT && probe) markBack();
        }, () => undefined)
        .finally(() => (probing = false));
    }, PROBE_EVERY_MS);
    probe.unref();
  };
  // Fires on every failed (re)connect attempt too; markDown logs only the first of an outage.
  client.on('error', (error: unknown) => markDown(explain(error)));
  client.on('ready', markBack);

  // connect() settles only once Redis is ready: a certificate or password Redis refuses keeps it
  // pending while the client retries in the background. Nothing may wait for it unbounded.
  const firstConnect = client.connect().then(
    () => undefined,
    (error: unknown) => markDown(explain(error)),
  );
  // Not forever: the first requests may go to the upstream, the proxy starts regardless. A failed
  // first attempt (refused, untrusted certificate, wrong password) ends the wait at once.
  const firstError = new Promise<void>((resolve) => client.once('error', () => resolve()));
  let waitTimer: NodeJS.Timeout | undefined;
  // A little past the connect timeout, so a silent failure's first real reason is what gets logged.
  await Promise.race([firstConnect, firstError, new Promise((resolve) => (waitTimer = setTimeout(resolve, Math.max(1000, config.timeoutMs * 10) + 250)))]);
  clearTimeout(waitTimer);
  if (!client.isReady) markDown(NOT_CONNECTED_YET);
  // Warm the command path once outside the budget: a fresh process's first command pays for
  // compiling the client's code, which on a busy machine alone can take longer than the budget.
  // Redis refusing it (NOAUTH without a password) is an outage like any other.
  else await Promise.race([client.ping().catch((error: unknown) => markDown(explain(error))), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);

  return {
    client,
    prefix: `${config.namespace}:`,
    budgetMs: config.timeoutMs,
    async run(what, operation, fallback) {
      if (!client.isReady || probe) return fallback;
      try {
        const result = await withinBudget(operation(client), config.timeoutMs);
        if (result === TIMEOUT) {
          logger.debug(`shared cache: ${what} ran out of its ${config.timeoutMs} ms`);
          if (++slowInARow >= SLOW_IN_A_ROW_IS_DOWN) {
            markDown(`${SLOW_IN_A_ROW_IS_DOWN} commands in a row took over ${config.timeoutMs} ms (last: ${what})`);
            startProbing();
          }
          return fallback;
        }
        slowInARow = 0;
        // Slow, not disconnected: the first command on time again ends the outage.
        if (down !== undefined && client.isReady) markBack();
        return result;
      } catch (error) {
        // Redis answered, with an error (OOM, WRONGTYPE, …): it is up, this command just failed.
        if (error instanceof redis.ErrorReply) {
          slowInARow = 0;
          errorReplies.note(what, error);
        } else markDown(`${what} failed: ${error instanceof Error ? error.message || error.name : String(error)}`);
        return fallback;
      }
    },
    async runOrThrow(what, operation, budgetMs) {
      if (!client.isReady) throw new Error(`shared cache unavailable (${url}): ${down ?? 'reconnecting'}`);
      const result = await withinBudget(operation(client), budgetMs);
      if (result === TIMEOUT) throw new Error(`shared cache (${url}): ${what} took over ${budgetMs} ms`);
      return result;
    },
    available: () => client.isReady && down === undefined,
    status() {
      const available = client.isReady && down === undefined;
      return { kind: 'redis', url, available, detail: available ? `shared cache on ${url}` : `shared cache unavailable (${url}): ${down ?? 'reconnecting'}` };
    },
    async close() {
      closing = true;
      stopProbing();
      // Not connected (Redis down, or refusing our certificate or password): nothing to drain, and
      // the pending connect would wait for a Redis that may never accept; destroy ends it.
      if (!client.isReady) {
        client.destroy();
        return;
      }
      // Connected: let queued commands finish, for at most a moment.
      let timer: NodeJS.Timeout | undefined;
      const drained = client.close().then(
        () => true,
        () => false,
      );
      const inTime = await Promise.race([drained, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(1000, config.timeoutMs * 10))))]);
      clearTimeout(timer);
      if (!inTime) client.destroy();
    },
  };
}

const TIMEOUT = Symbol('timeout');

/** `operation`'s result, or TIMEOUT once `budgetMs` passed (the command itself still runs on in Redis). */
async function withinBudget<T>(operation: Promise<T>, budgetMs: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  // On expiry, give I/O one more turn (setImmediate runs after the poll phase): when the event
  // loop itself was busy, the reply may be waiting in the socket, and it is not Redis's fault.
  const budget = new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => setImmediate(() => resolve(TIMEOUT)), budgetMs)));
  try {
    return await Promise.race([operation, budget]);
  } finally {
    clearTimeout(timer);
  }
}

/** What an operator can do about an error reply, by its first word. */
const ERROR_REPLY_HINTS: Record<string, string> = {
  OOM: "Redis is full and may not evict: set maxmemory-policy volatile-lru (Isartor's entries carry a TTL), or raise maxmemory",
  WRONGTYPE: 'another program wrote a key of another type under this namespace: give Isartor its own namespace or database',
  READONLY: 'this is a read-only replica: point the store URL at the primary',
  MISCONF: 'Redis cannot persist and refuses writes: see its log (stop-writes-on-bgsave-error)',
};

/** Error replies from a working Redis: logged once a minute per kind, with what to do about them. */
class ErrorReplyLog {
  private readonly loggedAt = new Map<string, number>();
  constructor(
    private readonly logger: Logger,
    private readonly url: string,
  ) {}

  note(what: string, error: Error): void {
    // A MULTI's error lists the failed commands' replies; the first says what kind it is.
    const first = (error as { replies?: unknown[] }).replies?.find((reply) => reply instanceof Error) as Error | undefined;
    const message = (first ?? error).message;
    const kind = /^[A-Z]+/.exec(message)?.[0] ?? 'ERR';
    const now = Date.now();
    if (now - (this.loggedAt.get(kind) ?? -Infinity) < ERROR_REPLY_LOG_EVERY_MS) return;
    this.loggedAt.set(kind, now);
    const hint = ERROR_REPLY_HINTS[kind];
    this.logger.warn(`shared cache (${this.url}): ${what} refused: ${message}${hint ? `; ${hint}` : ''} (logged at most once a minute)`);
  }
}

/** TLS verification failures Node reports by code: the server's certificate is not one we trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const INVALID_CERTIFICATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * A Redis connection failure in words an operator can act on, never with the URL's password in it.
 *
 * @example
 * describeRedisError(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'rediss://h:6380')
 * // → 'certificate of h:6380 not trusted (self-signed certificate in certificate chain): …NODE_EXTRA_CA_CERTS…'
 */
export function describeRedisError(error: unknown, storeUrl: string): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  let where = '';
  try {
    const parsed = new URL(storeUrl);
    where = `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    // storeUrlProblem rejected invalid URLs at the boundary; leave the place out.
  }
  let text = message;
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    text = `certificate of ${where} not trusted (${message}): point NODE_EXTRA_CA_CERTS at the PEM file of the CA that signed it and restart`;
  } else if (typeof code === 'string' && INVALID_CERTIFICATE.has(code)) {
    text = `certificate of ${where} rejected (${message})`;
  } else if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(message)) {
    text = `Redis at ${where} refused the login (${message}): check the user and password in the store URL`;
  } else if (code === 'ECONNREFUSED') {
    text = `connection to ${where} refused`;
  } else if (message === 'Connection timeout') {
    // A plain Redis waits silently for a TLS client's handshake to become a command: no TLS error ever comes.
    const tls = storeUrl.startsWith('rediss:') ? ': is it a TLS port? A Redis without TLS never answers rediss://; use redis:// for it' : '';
    text = `no connection to ${where} within the connect timeout${tls}`;
  }
  return withoutPassword(text, storeUrl);
}

/** `text` with the store URL's password (raw or percent-decoded) replaced by `***`. */
function withoutPassword(text: string, storeUrl: string): string {
  let password = '';
  try {
    password = new URL(storeUrl).password;
  } catch {
    return text;
  }
  if (!password) return text;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // Keep the raw form only.
  }
  return text.split(password).join('***').split(decoded).join('***');
}
