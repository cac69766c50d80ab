/**
 * Sends one request along a fallback chain of providers over a keep-alive pool: retries with
 * backoff on 429, 5xx, connection errors and timeouts, then moves to the next provider.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher, request, errors as undiciErrors } from 'undici';
import type { UpstreamConfig } from '../config';
import type { Logger } from '../logger';
import type { UpstreamTarget } from '../request';
import { backoffDelay, retryAfterMs } from './backoff';
import { UpstreamTimeoutError, UpstreamUnreachableError } from './errors';
import { clientCredential, mayReceiveClientCredential, type UpstreamEndpoint, upstreamHeaders, upstreamUrl } from './target';

/** One call to make against a chain of providers that all serve `endpoint`. */
export interface UpstreamCall {
  providers: readonly UpstreamTarget[];
  endpoint: UpstreamEndpoint;
  model: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** The client's headers, lower-cased. */
  headers: Record<string, string>;
  body?: Buffer;
  /** The client's query string without "?". */
  query?: string;
  /** Path after the endpoint's own, e.g. "/resp_123/cancel" (Responses API per-response operations). */
  subpath?: string;
  /** Aborted when the client goes away; aborts the upstream request and any backoff wait. */
  signal: AbortSignal;
}

/** The provider's response, body not yet read. */
export interface UpstreamResponse {
  provider: UpstreamTarget;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** undici's body stream; `dump()` discards it without buffering. */
  body: Dispatcher.ResponseData['body'];
  /** From sending the (successful) attempt to its response headers. */
  latencyMs: number;
}

export interface UpstreamClient {
  send(call: UpstreamCall): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function isTimeout(error: unknown): boolean {
  return error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.ConnectTimeoutError;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/**
 * A client with its own connection pool; `close()` ends the pool.
 *
 * @example
 * const client = createUpstreamClient(config.upstream, logger);
 * const res = await client.send({ providers, endpoint: 'chat', model, method: 'POST', headers, body, signal });
 */
export function createUpstreamClient(config: UpstreamConfig, logger: Logger): UpstreamClient {
  const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connect: { timeout: Math.min(config.timeoutMs, 30_000) } });

  const attempt = async (call: UpstreamCall, target: UpstreamTarget): Promise<UpstreamResponse> => {
    const started = performance.now();
    const response = await request(upstreamUrl(target, call.endpoint, call.model, call.query, call.subpath), {
      dispatcher: agent,
      method: call.method,
      headers: upstreamHeaders(call.headers, target, clientCredential(call.headers) !== undefined && mayReceiveClientCredential(target, call.providers[0])),
      body: call.body,
      signal: call.signal,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
    return { provider: target, status: response.statusCode, headers: response.headers, body: response.body, latencyMs: performance.now() - started };
  };

  return {
    async send(call) {
      let lastError: unknown;
      // A provider answers with the client's key (same origin as the primary only) or with its own key.
      const clientSentKey = clientCredential(call.headers) !== undefined;
      const chain = call.providers.filter(
        (provider) => provider.apiKey || (clientSentKey && mayReceiveClientCredential(provider, call.providers[0])),
      );
      const names = chain.map((p) => p.name);
      if (chain.length === 0) throw new UpstreamUnreachableError(call.providers.map((p) => p.name), 'no provider of the chain has a key and the client sent none');
      for (const [providerIndex, target] of chain.entries()) {
        const lastProvider = providerIndex === chain.length - 1;
        for (let retry = 0; retry <= config.retries; retry++) {
          const final = lastProvider && retry === config.retries;
          let delay: number;
          try {
            const response = await attempt(call, target);
            if (!retryableStatus(response.status) || final) return response;
            delay = backoffDelay(retry, retryAfterMs(response.headers), config.maxBackoffMs);
            logger.warn(`upstream ${target.name} answered ${response.status}; ${retry < config.retries ? `retrying in ${Math.round(delay)} ms` : 'trying the next provider'}`);
            await response.body.dump().catch(() => undefined);
            lastError = undefined;
          } catch (error) {
            if (call.signal.aborted) throw error;
            lastError = error;
            delay = backoffDelay(retry, undefined, config.maxBackoffMs);
            logger.warn(`upstream ${target.name} failed: ${describe(error)}`);
          }
          if (retry < config.retries) await wait(delay, undefined, { signal: call.signal });
        }
      }
      // Only reached when the last attempt threw: a final HTTP failure is returned above.
      if (isTimeout(lastError)) throw new UpstreamTimeoutError(names, config.timeoutMs);
      throw new UpstreamUnreachableError(names, describe(lastError));
    },
    close: () => agent.close(),
  };
}
