/**
 * Failures of the upstream layer that the proxy turns into API-shaped errors (502, 504, 400).
 */

/** Every provider of the chain failed to answer at the connection level (refused, reset, DNS). */
export class UpstreamUnreachableError extends Error {
  readonly code = 'upstream_unreachable';
  /** `detail`: why, for the whole chain, or one cause per provider in the order they were tried. */
  constructor(readonly providers: string[], detail: string | readonly { provider: string; cause: string }[]) {
    super(typeof detail === 'string' ? `could not reach ${providers.join(', ')}: ${detail}` : `could not reach ${detail.map(({ provider, cause }) => `${provider} (${cause})`).join('; ')}`);
  }
}

/** Every provider of the chain timed out before sending response headers. */
export class UpstreamTimeoutError extends Error {
  readonly code = 'upstream_timeout';
  constructor(
    readonly providers: string[],
    readonly timeoutMs: number,
    /** The configuration key that set the limit, for the hint in the client's error. */
    readonly setting = 'upstream.timeoutMs',
  ) {
    super(`${providers.join(', ')} did not answer within ${timeoutMs} ms`);
  }
}

/** The route has no provider that speaks the API the client called. */
export class NoProviderError extends Error {
  readonly code = 'no_provider';
  constructor(readonly api: string) {
    super(`this route has no upstream for the ${api} API`);
  }
}
