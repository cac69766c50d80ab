/**
 * The proxy's routes: the default route at the root and tool routes under `/r/<id>/`, whose
 * 128-bit random ids double as capabilities; plus the one path pattern every API endpoint matches.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Route, UpstreamTarget } from '../core/request';

/** The endpoints the proxy serves, under every prefix. */
export type ApiEndpoint = 'chat' | 'completions' | 'responses' | 'response' | 'messages' | 'count_tokens' | 'embeddings' | 'models' | 'deployment';

const ENDPOINT_BY_PATH: Record<string, ApiEndpoint> = {
  'chat/completions': 'chat',
  completions: 'completions',
  responses: 'responses',
  messages: 'messages',
  'messages/count_tokens': 'count_tokens',
  embeddings: 'embeddings',
  models: 'models',
};

/**
 * `[/r/<id>][/v1]/<endpoint>[/]`: the `/v1` is optional because clients differ on whether the base
 * URL carries it. `/openai/v1` is Azure OpenAI's OpenAI-compatible surface: a client configured for
 * `https://<resource>.openai.azure.com/openai/v1` keeps that path when its host becomes Isartor's.
 */
const API_PATH = /^(?:\/r\/([^/]+))?(?:\/openai\/v1|\/v1)?\/(chat\/completions|completions|responses|messages\/count_tokens|messages|embeddings|models)\/?$/;

/** One stored response of the Responses API: `responses/<id>`, `.../cancel`, `.../input_items`. */
const RESPONSE_PATH = /^(?:\/r\/([^/]+))?(?:\/openai\/v1|\/v1)?\/responses(\/[A-Za-z0-9_-]+(?:\/cancel|\/input_items)?)\/?$/;

/**
 * One model: `models/<id>`. Ids are kept as the client encoded them; some carry a vendor prefix
 * ("openai/gpt-4o" on OpenAI-compatible gateways). A "." or ".." segment, which would address
 * another endpoint of the provider once the URL is normalised, is no model id; nor is a backslash,
 * which some servers read as "/".
 */
const MODEL_PATH = /^(?:\/r\/([^/]+))?(?:\/openai\/v1|\/v1)?\/models(\/(?!(?:\.|%2e){1,2}(?:\/|$))[^/\\]+(?:\/(?!(?:\.|%2e){1,2}(?:\/|$))[^/\\]+)*)\/?$/i;

/**
 * Azure OpenAI's deployment-scoped paths, as the `AzureOpenAI` SDK clients build them:
 * `[/r/<id>]/openai/deployments/<deployment>/<operation>` from an `endpoint`; after a `baseURL`,
 * whatever that ends in (users who followed the OpenAI recipe give it `/v1`).
 */
const DEPLOYMENT_PATH = /^(?:\/r\/([^/]+))?(?:\/openai|\/v1)?\/deployments\/([^/]+)((?:\/[^/]+)+)\/?$/;

/** Deployment operations that run through the Deflection Stack; any other one is forwarded as it is. */
const ENGINE_DEPLOYMENT_OPERATIONS: Readonly<Record<string, ApiEndpoint>> = { '/chat/completions': 'chat', '/completions': 'completions' };

/** The id the default route is recorded under in the ledger. */
export const DEFAULT_ROUTE_ID = 'default';

/**
 * Splits a request path into route id (undefined for the default route) and endpoint.
 *
 * @example matchApiPath('/r/ab12…/v1/chat/completions') // { routeId: 'ab12…', endpoint: 'chat' }
 * @example matchApiPath('/openai/deployments/gpt4o/chat/completions') // { routeId: undefined, endpoint: 'chat', azureDeployment: 'gpt4o' }
 */
export function matchApiPath(path: string): ApiPathMatch | undefined {
  const match = API_PATH.exec(path);
  if (match) return { routeId: match[1], endpoint: ENDPOINT_BY_PATH[match[2]!]! };
  const response = RESPONSE_PATH.exec(path);
  if (response) return { routeId: response[1], endpoint: 'response', subpath: response[2]! };
  const model = MODEL_PATH.exec(path);
  if (model) return { routeId: model[1], endpoint: 'models', subpath: model[2]! };
  const deployment = DEPLOYMENT_PATH.exec(path);
  if (deployment) {
    const operation = deployment[3]!;
    const endpoint = ENGINE_DEPLOYMENT_OPERATIONS[operation];
    // The deployment stays as the client encoded it here: decoding can fail, and a failure is a 400
    // in the API's shape, which the handler sends.
    return endpoint
      ? { routeId: deployment[1], endpoint, azureDeployment: deployment[2]! }
      : { routeId: deployment[1], endpoint: 'deployment', azureDeployment: deployment[2]!, subpath: operation };
  }
  return undefined;
}

/** What a request path addresses. */
export interface ApiPathMatch {
  routeId: string | undefined;
  endpoint: ApiEndpoint;
  /** Path after the endpoint's own (`/resp_1/cancel`), or an Azure deployment's operation (`/embeddings`). */
  subpath?: string;
  /** The deployment named in an Azure deployment path, still percent-encoded. */
  azureDeployment?: string;
}

/** A fresh route id: 128 random bits, hex. */
export function newRouteId(): string {
  return randomBytes(16).toString('hex');
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The routing table. */
export interface RouteTable {
  readonly defaultRoute: Route;
  /** The route for an id from a path; undefined when no such route exists. */
  find(routeId: string | undefined): Route | undefined;
  add(route: { id?: string; providers: UpstreamTarget[]; tool?: string }): Route;
  remove(id: string): void;
  list(): Route[];
}

/**
 * Routes are looked up by the sha256 of the id, so how long a lookup takes says nothing about how
 * much of a guessed id was right.
 */
export function createRouteTable(defaultProviders: UpstreamTarget[]): RouteTable {
  const byDigest = new Map<string, Route>();
  const defaultRoute: Route = { id: DEFAULT_ROUTE_ID, providers: defaultProviders };
  return {
    defaultRoute,
    find(routeId) {
      if (routeId === undefined) return defaultRoute;
      return byDigest.get(digest(routeId));
    },
    add(input) {
      const id = input.id ?? newRouteId();
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(id)) throw new RangeError('a route id needs 16 to 128 letters, digits, "_" or "-" (use the random default)');
      if (input.providers.length === 0) throw new RangeError('a route needs at least one provider');
      const route: Route = { id, providers: [...input.providers] };
      if (input.tool !== undefined) route.tool = input.tool;
      byDigest.set(digest(id), route);
      return route;
    },
    remove(id) {
      byDigest.delete(digest(id));
    },
    list: () => [...byDigest.values()],
  };
}
