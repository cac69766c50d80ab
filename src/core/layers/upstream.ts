/**
 * L3, the last layer: forwards the request (the client's bytes, or the optimiser's edit of them)
 * to the route's providers and streams the live response back while teeing it into the caches.
 */
import type { Layer, LayerContext } from '../pipeline';
import type { UpstreamOutcome } from '../outcome';
import type { UpstreamClient } from '../upstream/client';
import { NoProviderError } from '../upstream/errors';
import { usageOfReading, withEstimatedUsage } from '../stream/estimate-usage';
import { withUnaskedUsageNoted } from '../stream/replay-usage';
import type { OffThreadAnswerReader } from '../stream/large-answer';
import { teeUpstreamBody } from '../upstream/tee';
import { clientResponseHeaders, endpointForApi, onPrimaryOrigin, providersFor } from '../upstream/target';

/**
 * The upstream layer. It never calls `next()`: it is always last and always answers (or throws
 * UpstreamUnreachableError / UpstreamTimeoutError / NoProviderError).
 *
 * @example const upstream = createUpstreamLayer({ client: createUpstreamClient(config.upstream, logger) });
 */
export function createUpstreamLayer(deps: { client: UpstreamClient; readAnswer?: OffThreadAnswerReader }): Layer {
  return {
    name: 'upstream',
    async handle(ctx: LayerContext): Promise<UpstreamOutcome> {
      const req = ctx.req;
      const endpoint = endpointForApi(req.api);
      const providers = providersFor(req.route.providers, endpoint);
      if (providers.length === 0) throw new NoProviderError(req.api);
      const response = await deps.client.send({
        providers,
        endpoint,
        model: req.model,
        method: 'POST',
        headers: req.headers,
        body: ctx.forwardBody ?? req.rawBody,
        query: req.query,
        ...(req.azureDeployment === undefined ? {} : { azureDeployment: req.azureDeployment }),
        signal: ctx.upstreamSignal ?? req.signal,
        stream: req.stream,
      });
      const headers = clientResponseHeaders(response.headers);
      // The tee may end a stream with an error frame of its own: past a length the upstream
      // declared, the client would stop before it and read its bytes as its next response's.
      if (headers['content-length'] !== undefined && headers['content-type']?.includes('text/event-stream')) delete headers['content-length'];
      const ok = response.status >= 200 && response.status < 300;
      // Asked for identity, a server may compress all the same: bytes the tee cannot read are
      // neither collected nor judged incomplete (which would add an error frame to them).
      const encoding = headers['content-encoding'];
      const readable = encoding === undefined || encoding === 'identity';
      const tee = teeUpstreamBody(response.body, { api: req.api, contentType: headers['content-type'], collect: ok && readable, ...(deps.readAnswer ? { reader: deps.readAnswer } : {}) });
      const { body } = tee;
      const completion = tee.completion.then((answer) => answer && withUnaskedUsageNoted(withEstimatedUsage(answer, req.body), req));
      const unstored = tee.large.then((reading) => usageOfReading(req.api, reading, req.body));
      const billed = tee.reported.then((reported) => reported && { usage: reported.usage, ...(reported.partial ? { usageEstimated: true } : {}) });
      return {
        kind: 'upstream',
        layer: 'l3',
        provider: response.provider.name,
        ...(onPrimaryOrigin(response.provider, providers[0]) ? {} : { fromFallback: true }),
        status: response.status,
        headers,
        body,
        completion,
        unstored,
        billed,
        upstreamLatencyMs: response.latencyMs,
        streamFailure: tee.streamFailure,
      };
    },
    describe: () => 'forwards to the configured providers',
  };
}
