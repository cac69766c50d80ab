/**
 * Sends one request along a fallback chain of providers over a keep-alive pool: retries with
 * backoff on 429, 5xx, connection errors and timeouts, then moves to the next provider.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { asAbortSignal, type RequestSignal } from '../clientSignal';
import type { UpstreamConfig } from '../config';
import type { Logger } from '../logger';
import type { UpstreamTarget } from '../request';
import { backoffDelay, retryAfterMs } from './backoff';
import { holdAnswer, replayHeld, type HeldAnswer } from './heldAnswer';
import { parseUpstreamUrl } from './parsedUrl';
import { UpstreamTimeoutError, UpstreamUnreachableError } from './errors';
import { clientCredential, mayReceiveClientCredential, queryWithoutSecrets, type UpstreamEndpoint, upstreamHeaders, upstreamUrl } from './target';
import { loadUndici, undiciIfLoaded } from './undici';

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
  /**
   * The deployment a client named in an Azure deployment path (decoded): it and the client's
   * `api-version` address the Azure providers on the primary's origin, the resource the client
   * meant; a provider elsewhere keeps its own configuration.
   */
  azureDeployment?: string;
  /** Aborted when the client goes away; aborts the upstream request and any backoff wait. */
  signal: RequestSignal;
  /** A streamed answer: its start is bounded by firstByteTimeoutMs instead of timeoutMs. */
  stream?: boolean;
}

/** A response body: undici's stream, or a failed answer held back while the chain went on (heldAnswer.ts). */
export type UpstreamBody = Readable & { dump(): Promise<void> };

/** The provider's response, body not yet read. */
export interface UpstreamResponse {
  provider: UpstreamTarget;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body stream; `dump()` discards it without buffering. */
  body: UpstreamBody;
  /** From sending the (successful) attempt to its response headers. */
  latencyMs: number;
}

export interface UpstreamClient {
  send(call: UpstreamCall): Promise<UpstreamResponse>;
  /** Creates the connection pool (loading undici) ahead of the first request; `send` does it too. */
  prepare(): Promise<void>;
  close(): Promise<void>;
}

function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function isTimeout(error: unknown): boolean {
  const undici = undiciIfLoaded();
  return undici !== undefined && (error instanceof undici.errors.HeadersTimeoutError || error instanceof undici.errors.ConnectTimeoutError);
}

/** Default wait for a stream to start; see UpstreamConfig.firstByteTimeoutMs. */
const FIRST_BYTE_TIMEOUT_MS = 45_000;
/** Default silence allowed between body chunks; see UpstreamConfig.idleTimeoutMs. */
const IDLE_TIMEOUT_MS = 300_000;

/**
 * Whether the client retries failed requests itself. The official OpenAI and Anthropic SDKs send
 * `x-stainless-retry-count` on every attempt; retrying under them too would multiply the calls a
 * struggling provider sees (3 SDK attempts × 3 proxy attempts).
 */
export function clientRetries(headers: Record<string, string>): boolean {
  return headers['x-stainless-retry-count'] !== undefined;
}

/** A DNS answer that the name does not exist (not a temporary failure, EAI_AGAIN). */
function isUnknownHost(error: unknown): boolean {
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'ENOTFOUND';
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
  const firstByteTimeoutMs = config.firstByteTimeoutMs ?? Math.min(config.timeoutMs, FIRST_BYTE_TIMEOUT_MS);
  const idleTimeoutMs = config.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  // The pool, once undici is loaded (see undici.ts); the hot path reads `agent` without awaiting.
  let agent: Agent | undefined;
  let creating: Promise<Agent> | undefined;
  let closed = false;
  const createAgent = (): Promise<Agent> =>
    (creating ??= loadUndici().then(({ Agent, errors }) => {
      if (closed) throw new errors.ClientDestroyedError();
      agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connect: { timeout: Math.min(config.timeoutMs, firstByteTimeoutMs, 30_000) } });
      return agent;
    }));
  /** The limit on a response's start, and the setting that names it. */
  const startLimit = (call: UpstreamCall): [number, string] =>
    call.stream ? [firstByteTimeoutMs, 'upstream.firstByteTimeoutMs'] : [config.timeoutMs, 'upstream.timeoutMs'];

  const attempt = async (call: UpstreamCall, target: UpstreamTarget): Promise<UpstreamResponse> => {
    const pool = agent ?? (await createAgent());
    const started = performance.now();
    // A provider on another origin (a fallback vendor) gets no secret the client meant for the primary.
    const onPrimary = mayReceiveClientCredential(target, call.providers[0]);
    const query = onPrimary || call.query === undefined ? call.query : queryWithoutSecrets(call.query);
    const deployment = onPrimary ? call.azureDeployment : undefined;
    const { origin, path } = parseUpstreamUrl(upstreamUrl(target, call.endpoint, call.model, query, call.subpath, deployment));
    const response = await pool.request({
      origin,
      path,
      method: call.method,
      headers: upstreamHeaders(call.headers, target, clientCredential(call.headers) !== undefined && onPrimary, onPrimary),
      body: call.body,
      signal: asAbortSignal(call.signal),
      headersTimeout: startLimit(call)[0],
      bodyTimeout: idleTimeoutMs,
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
      if (chain.length === 0) throw new UpstreamUnreachableError(call.providers.map((p) => p.name), 'no provider of the chain has a key and the client sent none');
      // The client's own retries come on top of ours: then each provider gets its attempt once.
      const retries = clientRetries(call.headers) ? 0 : config.retries;
      // What each provider's last attempt failed with, for the client's error when all failed.
      const causes: { provider: string; cause: string }[] = [];
      // When no provider succeeds, the client gets the most informative real answer: an HTTP
      // answer from any provider beats a connection failure or a timeout (it has the provider's
      // status, error body and Retry-After); among HTTP failures, the earliest provider's in the
      // chain (the primary's when it answered), since that is the provider the client addressed.
      // Only when no provider answered at all is the failure the proxy's own 502 or 504.
      let held: { providerIndex: number; answer: HeldAnswer } | undefined;
      const discard = (response: UpstreamResponse): Promise<void> => response.body.dump().catch(() => undefined);
      /** A failure the chain goes on from: kept, unless an earlier provider's answer already is. */
      const keep = async (response: UpstreamResponse, providerIndex: number): Promise<void> => {
        if (held && held.providerIndex < providerIndex) return discard(response);
        const answer = await holdAnswer(response);
        if (answer) held = { providerIndex, answer };
      };
      /** The client's answer when the chain ends on `response`, a failure: an earlier provider's wins. */
      const endOn = async (response: UpstreamResponse, providerIndex: number): Promise<UpstreamResponse> => {
        if (!held || held.providerIndex === providerIndex) return response;
        await discard(response);
        return replayHeld(held.answer);
      };
      for (const [providerIndex, target] of chain.entries()) {
        const lastProvider = providerIndex === chain.length - 1;
        for (let retry = 0; retry <= retries; retry++) {
          const final = lastProvider && retry === retries;
          let delay: number;
          try {
            const response = await attempt(call, target);
            if (response.status < 400) return response;
            if (!retryableStatus(response.status) || final) return endOn(response, providerIndex);
            const asked = retryAfterMs(response.headers);
            // A provider that asks for a longer wait than we would ever wait will not answer an
            // early retry: the next provider gets the request now, or the client the answer
            // with its Retry-After, instead of after minutes of doomed retries.
            if (asked !== undefined && asked > config.maxBackoffMs) {
              if (lastProvider) return endOn(response, providerIndex);
              logger.warn(`upstream ${target.name} answered ${response.status} and asks to wait ${Math.round(asked / 1000)} s; trying the next provider`);
              await keep(response, providerIndex);
              lastError = undefined;
              break;
            }
            delay = backoffDelay(retry, asked, config.maxBackoffMs);
            logger.warn(`upstream ${target.name} answered ${response.status}; ${retry < retries ? `retrying in ${Math.round(delay)} ms` : 'trying the next provider'}`);
            await keep(response, providerIndex);
            lastError = undefined;
          } catch (error) {
            if (call.signal.aborted) throw error;
            lastError = error;
            delay = backoffDelay(retry, undefined, config.maxBackoffMs);
            logger.warn(`upstream ${target.name} failed: ${describe(error)}`);
            // A provider that let the whole limit pass will not answer a retry sooner: the client
            // has waited long enough for this one, so the next provider gets the request. A host
            // name that does not resolve will not resolve in a second either.
            if (isTimeout(error) || isUnknownHost(error)) break;
          }
          if (retry < retries) await wait(delay, undefined, { signal: asAbortSignal(call.signal) });
        }
        if (lastError !== undefined) causes.push({ provider: target.name, cause: describe(lastError) });
      }
      // Only reached when the last attempt threw.
      if (held) return replayHeld(held.answer);
      const names = chain.map((p) => p.name);
      if (isTimeout(lastError)) {
        const [limit, setting] = startLimit(call);
        throw new UpstreamTimeoutError(names, limit, setting);
      }
      throw new UpstreamUnreachableError(names, causes);
    },
    async prepare() {
      await createAgent();
    },
    async close() {
      closed = true;
      // A pool still being created is closed once it exists.
      const pool = agent ?? (creating ? await creating.catch(() => undefined) : undefined);
      await pool?.close();
    },
  };
}
