/**
 * Where and how to send a request to one provider: its URL for an endpoint, and the headers to
 * send (the client's own, minus hop-by-hop ones, plus the configured key only if the client sent none
 * or sent one the provider cannot take).
 */
import type { ApiStyle, ProviderKind, UpstreamTarget } from '../request';

/** The upstream operations the proxy knows how to address. */
export type UpstreamEndpoint = 'chat' | 'completions' | 'responses' | 'embeddings' | 'openai.models' | 'messages' | 'count_tokens' | 'anthropic.models'
  /** Any other operation under an Azure deployment (`/embeddings`, `/audio/…`, `/images/…`), named by the call's subpath. */
  | 'azure.deployment';

/** The endpoint an engine request goes to. */
export function endpointForApi(api: ApiStyle): UpstreamEndpoint {
  if (api === 'openai.chat') return 'chat';
  if (api === 'openai.completions') return 'completions';
  if (api === 'openai.responses') return 'responses';
  return 'messages';
}

/** Whether a provider kind speaks the wire format of an endpoint. */
export function kindServes(kind: ProviderKind, endpoint: UpstreamEndpoint): boolean {
  if (endpoint === 'azure.deployment') return kind === 'azure';
  const anthropic = endpoint === 'messages' || endpoint === 'count_tokens' || endpoint === 'anthropic.models';
  return anthropic ? kind === 'anthropic' : kind === 'openai' || kind === 'azure';
}

/** The providers of a chain that can serve `endpoint`, in chain order. */
export function providersFor(chain: readonly UpstreamTarget[], endpoint: UpstreamEndpoint): UpstreamTarget[] {
  return chain.filter((target) => kindServes(target.kind, endpoint));
}

const OPENAI_PATHS: Record<string, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  responses: '/responses',
  embeddings: '/embeddings',
  'openai.models': '/models',
};

const ANTHROPIC_PATHS: Record<string, string> = {
  messages: '/messages',
  count_tokens: '/messages/count_tokens',
  'anthropic.models': '/models',
};

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
}

/**
 * An Azure deployment as a path segment. encodeURIComponent leaves "." and "..": a deployment of
 * ".." would climb out of /deployments/.
 */
function deploymentSegment(deployment: string): string {
  return encodeURIComponent(deployment).replace(/^\.{1,2}$/, (dots) => '%2E'.repeat(dots.length));
}

/**
 * The full upstream URL. `query` is the client's query string without "?" (Claude Code sends
 * `?beta=true`); Azure's `api-version` comes from the configuration. `subpath` follows the
 * endpoint's path (`/resp_123/cancel` for the Responses API's per-response operations, `/gpt-4o`
 * for one model, an Azure deployment's operation for `azure.deployment`).
 *
 * `clientDeployment` is the deployment a client named in an Azure deployment path
 * (`/openai/deployments/<name>/…`): on Azure it takes the place of the configured deployment (or
 * the model), and the client's own `api-version`, when it sent one, that of the configured one.
 *
 * Azure serves the Responses API only on its OpenAI-compatible v1 surface, `/openai/v1/responses`,
 * which takes the deployment in the body's `model` and needs no `api-version`.
 *
 * @example upstreamUrl({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com', name: 'a' }, 'messages', 'm')
 * // "https://api.anthropic.com/v1/messages"
 */
export function upstreamUrl(target: UpstreamTarget, endpoint: UpstreamEndpoint, model: string, query = '', subpath = '', clientDeployment?: string): string {
  const base = trimSlash(target.baseUrl);
  if (target.kind === 'azure' && endpoint === 'responses') return `${base}/openai/v1/responses${subpath}${query ? `?${query}` : ''}`;
  if (target.kind === 'azure') {
    const params = new URLSearchParams(query);
    // A client that addressed a deployment path chose the API version it speaks, as on Azure itself.
    if (clientDeployment === undefined || !params.get('api-version')) params.set('api-version', target.azure?.apiVersion ?? '2024-10-21');
    if (endpoint === 'openai.models') return `${base}/openai/models${subpath}?${params}`;
    const deployment = deploymentSegment(clientDeployment ?? (target.azure?.deployment || model));
    const operation = endpoint === 'azure.deployment' ? subpath : OPENAI_PATHS[endpoint] ?? '';
    return `${base}/openai/deployments/${deployment}${operation}?${params}`;
  }
  const suffix = query ? `?${query}` : '';
  if (target.kind === 'anthropic') {
    const prefix = base.endsWith('/v1') ? base : `${base}/v1`;
    return `${prefix}${ANTHROPIC_PATHS[endpoint] ?? ''}${subpath}${suffix}`;
  }
  return `${base}${OPENAI_PATHS[endpoint] ?? ''}${subpath}${suffix}`;
}

/** Request headers that describe one hop, not the request, plus ones this proxy sets itself. */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
  // The proxy reads bodies decoded (express inflates them) and must parse answers to cache them.
  'accept-encoding', 'content-encoding',
]);

/** The credential headers a client may authenticate with. */
export const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'api-key'] as const;

const CREDENTIAL_HEADER_SET: ReadonlySet<string> = new Set(CREDENTIAL_HEADERS);

/** The client's credential, whichever header carries it. */
export function clientCredential(headers: Record<string, string>): string | undefined {
  for (const name of CREDENTIAL_HEADERS) {
    const value = headers[name];
    if (value) return value;
  }
  return undefined;
}

/**
 * What identifies the client's credentials for the caches: the one credential header's value, or,
 * when a client sends several (some do, for gateways), all of them by name. A provider may read
 * any of them, so two requests differing in any one are different callers.
 */
export function clientCredentialIdentity(headers: Record<string, string>): string | undefined {
  const sent = CREDENTIAL_HEADERS.filter((name) => headers[name]);
  if (sent.length <= 1) return sent.length === 0 ? undefined : headers[sent[0]!];
  return sent.map((name) => `${name}:${headers[name]}`).join('\n');
}

/** A JWT (Microsoft Entra ID's access tokens): three base64url segments, the first a JSON header (`{"` is `eyJ`). */
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** `Authorization: Bearer <token>`, the scheme in any case; the token may be empty (an SDK given ""). */
const BEARER = /^bearer(?:[ \t]+(.*))?$/i;

/**
 * Whether the client's credential is one `target` refuses whatever its value, so that the
 * provider's own key answers instead. Azure takes a key only in `api-key`, and `Authorization:
 * Bearer` only for an Entra ID token (a JWT); the OpenAI SDK cannot be built without a key, so a
 * client of an Azure-backed proxy sends a dummy Bearer, which would turn every answer into a 401.
 * A client `api-key` or a Bearer JWT still passes through, and an Azure provider without a key of
 * its own gets the client's credential as before.
 */
export function providerRefusesClientCredential(headers: Record<string, string>, target: UpstreamTarget): boolean {
  if (target.kind !== 'azure' || !target.apiKey || headers['api-key']) return false;
  const authorization = headers.authorization;
  if (!authorization) return false;
  const bearer = BEARER.exec(authorization);
  return bearer !== null && !JWT.test((bearer[1] ?? '').trim());
}

/** The header a provider kind expects its key in, with the value to send. */
export function keyHeader(kind: ProviderKind, apiKey: string): [string, string] {
  if (kind === 'anthropic') return ['x-api-key', apiKey];
  if (kind === 'azure') return ['api-key', apiKey];
  return ['authorization', `Bearer ${apiKey}`];
}

/**
 * Whether the client's own credential may go to `target`: only to a provider on the same origin as
 * the route's primary, the one the client meant its key for. A fallback provider elsewhere (another
 * vendor, another host) must never see that key; it is used only with a key of its own.
 */
export function mayReceiveClientCredential(target: UpstreamTarget, primary: UpstreamTarget | undefined): boolean {
  return onPrimaryOrigin(target, primary);
}

/** Whether `target` is on the same origin (the same vendor's endpoint) as the chain's primary. */
export function onPrimaryOrigin(target: UpstreamTarget, primary: UpstreamTarget | undefined): boolean {
  if (!primary) return false;
  if (target === primary) return true;
  const origin = originOf(target.baseUrl);
  return origin !== undefined && origin === originOf(primary.baseUrl);
}

/** Origins of the configured base URLs (a handful): parsed once, not twice per attempt. */
const origins = new Map<string, string | undefined>();

function originOf(baseUrl: string): string | undefined {
  let origin = origins.get(baseUrl);
  if (origin === undefined && !origins.has(baseUrl)) {
    try {
      origin = new URL(baseUrl).origin;
    } catch {
      origin = undefined;
    }
    // Base URLs come from the configuration, but a reload may bring new ones: keep the map bounded.
    if (origins.size >= 64) origins.clear();
    origins.set(baseUrl, origin);
  }
  return origin;
}

/**
 * Header names that carry a secret somewhere: gateways and vendors authenticate with more than the
 * three credential headers (`x-goog-api-key`, `ocp-apim-subscription-key`, `cf-aig-authorization`,
 * `helicone-auth`, `x-portkey-api-key`), and a cookie is a session.
 */
const SECRET_HEADER = /^cookie$|(?:^|-)(?:auth|authorization|key|token|secret|password|session|signature|credentials?)(?:-|$)/;

/** Query parameters that carry a secret (Gemini's `?key=`, signed URLs' tokens). */
const SECRET_QUERY_PARAM = /^(?:key|api[-_]?key|access[-_]?token|token|sig|signature|auth)$/i;

/**
 * The client's query string without its secret-looking parameters, for a provider on another
 * origin than the one the client addressed.
 *
 * @example queryWithoutSecrets('beta=true&key=AIza…') // "beta=true"
 */
export function queryWithoutSecrets(query: string): string {
  if (query === '') return query;
  const params = new URLSearchParams(query);
  for (const name of [...params.keys()]) if (SECRET_QUERY_PARAM.test(name)) params.delete(name);
  return params.toString();
}

/**
 * Headers for the upstream request: every client header except hop-by-hop ones and `x-isartor-*`
 * directives; the client's own credential untouched where it may go (see
 * mayReceiveClientCredential) and the provider can take it (providerRefusesClientCredential),
 * else the provider's own key in its header. A provider off the primary's origin (`onPrimary`
 * false, another vendor) gets no header that looks like a secret: whatever the client
 * authenticated with was meant for the primary.
 */
export function upstreamHeaders(clientHeaders: Record<string, string>, target: UpstreamTarget, useClientCredential = true, onPrimary = true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(clientHeaders)) {
    if (NOT_FORWARDED.has(name) || name.startsWith('x-isartor-')) continue;
    if (!onPrimary && SECRET_HEADER.test(name)) continue;
    out[name] = value;
  }
  // Headers the client named in `Connection` are for this hop only (RFC 9110 §7.6.1); not its
  // credential, which the caches are partitioned by and the provider must see.
  const connection = clientHeaders.connection;
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
    for (const name of connection.split(',')) {
      const listed = name.trim().toLowerCase();
      if (listed && !CREDENTIAL_HEADER_SET.has(listed)) delete out[listed];
    }
  }
  out['accept-encoding'] = 'identity';
  const clientSentKey = clientCredential(clientHeaders) !== undefined;
  const useClient = useClientCredential && !providerRefusesClientCredential(clientHeaders, target);
  if (clientSentKey && !useClient) for (const name of CREDENTIAL_HEADERS) delete out[name];
  if ((!clientSentKey || !useClient) && target.apiKey) {
    const [name, value] = keyHeader(target.kind, target.apiKey);
    out[name] = value;
  }
  // The Messages API rejects requests without a version; SDKs always send one, hand-rolled clients may not.
  if (target.kind === 'anthropic' && !out['anthropic-version']) out['anthropic-version'] = '2023-06-01';
  return out;
}

/** Response headers that must not be copied onto the proxy's own response. */
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-authenticate', 'set-cookie']);

/**
 * Flattens upstream response headers for the client, dropping hop-by-hop ones, cookies and CORS
 * headers: a provider's `access-control-allow-origin: *` would let any web page read the answers
 * this proxy paid for with the configured key.
 */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP_RESPONSE.has(name) || name.startsWith('access-control-')) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
