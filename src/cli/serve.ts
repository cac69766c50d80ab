/**
 * `isartor serve`: the proxy in the foreground on embedded defaults. Prints one ready line on
 * stdout; logs go to stderr; Ctrl-C or SIGTERM close it cleanly with exit status 0.
 */
import { hostname } from 'node:os';
import { EXACT_STORE_NAME, exactStoreDir } from '../core/exactStorePlace';
import { createLogger } from '../core/logger';
import { collectInWorkersAfterOpen } from '../core/semantic/openGarbage';
import { startSemanticWorkerEarly } from '../core/semantic/placement';
import { prefetchSnapshot } from '../core/store/snapshotPrefetch';
import { isLoopbackHost } from '../proxy/guard';
import { SAVINGS_PAGE_PATH } from '../../webview/transportHttpRoutes';
import { dataDirProblem } from './dataDirProblem';
import { listenProblem } from './listenProblem';
import { SERVE_HEAP_GROWING_PERCENT, limitHeapGrowthAfterStartup } from './heapGrowth';
import { openBrowser } from './openBrowser';
import { SERVE_NEW_SPACE_MB, capYoungGeneration } from './youngGeneration';
import { loadServeConfig, parseServeArgs, providersWithoutKey } from './serve-config';
import { logLevelFrom } from './logLevel';

/** Runs the server until a signal arrives; resolves with the exit status. */
export async function serveCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // --open only concerns this command, not the engine settings parseServeArgs builds.
  const open = argv.includes('--open');
  const config = await loadServeConfig(parseServeArgs(argv.filter((arg) => arg !== '--open')), env);
  // The exact store's index snapshot (8.6 MB at 100k entries) is read in the thread pool while the
  // proxy's modules initialise, not after the engine opens the store (issue 15: the first L1a hit).
  // With a shared store (store.url) the exact cache lives on Redis.
  if (!config.store?.url) prefetchSnapshot(exactStoreDir(config.dataDir), EXACT_STORE_NAME);
  const { level, problem } = logLevelFrom(env.ISARTOR_LOG_LEVEL);
  const logger = createLogger((line) => process.stderr.write(`${line}\n`), level);
  if (problem) logger.warn(problem);
  if (capYoungGeneration(process.execArgv, env.NODE_OPTIONS)) logger.debug(`heap: young generation held at ${SERVE_NEW_SPACE_MB} MB`);
  if (!isLoopbackHost(config.host)) {
    // The Host check holds on this bind too: name the flag that lets a load balancer's or DNS name through.
    logger.warn(`listening on ${config.host}, not loopback: anyone who can reach this address can spend the keys configured here. Requests must be addressed to an IP address or this machine's name (${hostname()}); for a load balancer's or another DNS name, pass --allow-host NAME (.domain for its subdomains)`);
  }
  // The L1b worker boots on another core while the proxy's code loads (imported here, not
  // above, so the worker starts first: issue 15, the first L1b answer ~100 ms sooner). It frees
  // its open's garbage at once (openGarbage.ts): serve owns its process.
  collectInWorkersAfterOpen();
  startSemanticWorkerEarly(config);
  const { startProxy } = await import('../proxy/server');
  let proxy;
  try {
    proxy = await startProxy(config, { logger });
  } catch (error) {
    const problem = listenProblem(error, config.host, config.port) ?? dataDirProblem(error, config.dataDir);
    if (problem) {
      process.stderr.write(`isartor: ${problem}\n`);
      return 1;
    }
    throw error;
  }
  const pageUrl = `${proxy.url}${SAVINGS_PAGE_PATH}`;
  // The first line is the contract scripts parse (DESIGN.md); the page gets a line of its own.
  process.stdout.write(`isartor listening on ${proxy.url} (data: ${proxy.dataDir})\nisartor savings page: ${pageUrl}\n`);
  if (open) openBrowser(pageUrl, (message) => logger.warn(message));
  const providers = config.upstream.providers.map((p) => `${p.name} ${p.baseUrl}${p.apiKey ? ' (key set)' : ''}`).join(', ');
  // The logger redacts a password in a base URL ("user:***@") along with any key.
  logger.info(`default route forwards to: ${providers}`);
  for (const provider of providersWithoutKey(config.upstream.providers)) {
    logger.warn(`provider "${provider.name}" has no apiKey and is not on the first ${provider.kind} provider's host, so no key is sent there and it is skipped; give it an apiKey in the config file`);
  }
  limitHeapGrowthAfterStartup(process.execArgv, () => logger.debug(`heap: old generation limited to ${1 + SERVE_HEAP_GROWING_PERCENT / 100}× its live size`));

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: shutting down`);
      proxy.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
