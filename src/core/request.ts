/**
 * The normalised request every layer sees, plus the two hashes that decide what may answer it:
 * the partition key (who is asking whom) and the canonical hash (what exactly is asked).
 */
import type { RequestSignal } from './clientSignal';
import { canonicalObjectDigest, UNKEYABLE_DIGEST } from './canonical';
import { rememberedDigest } from './digestMemo';
import { sha256 } from './sha256';

export { sha256 };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The wire format a request arrived in; a stored answer is only ever replayed in the same one. */
export type ApiStyle = 'openai.chat' | 'openai.completions' | 'anthropic.messages' | 'openai.responses';

/** The kind of provider behind a base URL; decides auth headers and URL shape. */
export type ProviderKind = 'openai' | 'anthropic' | 'azure';

/** One cloud endpoint a request may be forwarded to. */
export interface UpstreamTarget {
  /** Human name for logs and the panel, e.g. "openai" or "azure-eu". */
  name: string;
  kind: ProviderKind;
  /** OpenAI style: ".../v1"; Anthropic: "https://api.anthropic.com"; Azure: "https://X.openai.azure.com". */
  baseUrl: string;
  /** Key used only when the client sent no credential of its own. Never logged, never stored. */
  apiKey?: string;
  /** Azure only: `api-version` query value and, optionally, a fixed deployment name. */
  azure?: { apiVersion: string; deployment?: string };
}

/**
 * A route maps a proxy path to the upstreams it forwards to. The default route is served at the root;
 * tool routes live under `/r/<id>/` where `id` is 128 random bits and doubles as a capability.
 */
export interface Route {
  id: string;
  /** Ordered fallback chain; the first entry is the primary. */
  providers: UpstreamTarget[];
  /** The integration that created the route (e.g. "continue"), for the ledger. */
  tool?: string;
}

/** What the client asked the proxy to do with caching for this request (headers). */
export interface CacheDirectives {
  /** `Cache-Control: no-cache`: skip cache lookups. */
  noCache: boolean;
  /** `Cache-Control: no-store`: do not store the answer. */
  noStore: boolean;
  /** `x-isartor-semantic: off`. */
  semanticOff: boolean;
  /** `x-isartor-local: off`. */
  localOff: boolean;
}

/** One request after parsing and validation, as every layer of the Deflection Stack sees it. */
export interface ProxyRequest {
  api: ApiStyle;
  route: Route;
  /** Parsed JSON body exactly as the client sent it. Layers must not mutate it. */
  body: JsonObject;
  /** The client's bytes; forwarded unchanged unless the optimiser produced `forwardBody`. */
  rawBody: Buffer;
  /** Incoming headers, lower-cased names. */
  headers: Record<string, string>;
  /** The client's query string without "?" (Claude Code sends `beta=true`); forwarded as is. */
  query?: string;
  /**
   * The deployment named in an Azure deployment path (`/openai/deployments/<name>/chat/completions`),
   * decoded; it takes the place of the Azure provider's configured deployment.
   */
  azureDeployment?: string;
  model: string;
  stream: boolean;
  /** sha256 of the client's credential (or of the configured key when the client sent none). */
  credentialHash: string;
  /** Client tool guessed from the User-Agent, e.g. "continue", "claude-code", "openai-sdk". */
  clientTool: string;
  cache: CacheDirectives;
  /** Aborted when the client disconnects; layers pass it to anything slow. */
  signal: RequestSignal;
  /** Time the proxy received the request (performance.now()). */
  receivedAt: number;
}

/**
 * Body fields that cannot change the answer and so are left out of the canonical hash.
 * `service_tier` is not among them: the answer echoes the tier that served it, so a "default"
 * request must never be told "flex" by a replay.
 */
const ANSWER_NEUTRAL_FIELDS: Record<ApiStyle, readonly string[]> = {
  'openai.chat': ['stream', 'stream_options', 'user', 'metadata', 'store', 'safety_identifier', 'prompt_cache_key'],
  'openai.completions': ['stream', 'stream_options', 'user'],
  'anthropic.messages': ['stream', 'metadata'],
  // `store` does not change what the response says, but whether its id can be continued later;
  // answerRelevantBody puts it back into the key as a plain yes or no.
  'openai.responses': ['stream', 'stream_options', 'user', 'metadata', 'store', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention'],
};

/**
 * Whether a request depends on state the provider keeps (Responses API `previous_response_id`,
 * `conversation`, a stored `prompt` without a pinned `version`, which means its latest version) or
 * asks for work the provider runs detached (`background`). Such a request is never answered from a
 * cache, never stored and never shared with an identical one in flight.
 */
export function dependsOnProviderState(api: ApiStyle, body: JsonObject): boolean {
  if (api !== 'openai.responses') return false;
  const present = (value: JsonValue | undefined): boolean => value !== undefined && value !== null && value !== false && value !== '';
  return present(body.previous_response_id) || present(body.conversation) || body.background === true || latestStoredPrompt(body.prompt);
}

/** A stored prompt the provider may have edited since: no pinned version (or not a prompt object at all). */
function latestStoredPrompt(prompt: JsonValue | undefined): boolean {
  if (prompt === undefined || prompt === null) return false;
  if (typeof prompt !== 'object' || Array.isArray(prompt)) return true;
  const version = prompt.version;
  return !(typeof version === 'string' && version !== '') && typeof version !== 'number';
}

/** Anthropic request headers that change the answer (beta features, API version). */
const ANSWER_CHANGING_HEADERS = ['anthropic-version', 'anthropic-beta'];

/**
 * OpenAI's organisation and project pick the fine-tuned models, permissions and limits that
 * apply; `openai-beta` opts into preview behaviour of an endpoint. Joined to the key only when
 * sent, so keys of requests without them did not change.
 */
const ANSWER_CHANGING_IF_PRESENT = ['openai-organization', 'openai-project', 'openai-beta'];

/** The body with answer-neutral fields removed (top level only: nested fields all count). */
export function answerRelevantBody(api: ApiStyle, body: JsonObject): JsonObject {
  const neutral = NEUTRAL_FIELD_SETS[api];
  const kept: JsonObject = {};
  for (const key of Object.keys(body)) if (!neutral.has(key)) kept[key] = body[key]!;
  // A response the provider did not keep (`store: false`) must not answer a request that expects
  // to continue it by its id (`store` true or absent, the API's default): a later
  // `previous_response_id` would name a response the provider never had.
  if (api === 'openai.responses') kept.store = body.store !== false;
  return kept;
}

/** ANSWER_NEUTRAL_FIELDS as sets, made once: every miss's exact key filters its body with one. */
const NEUTRAL_FIELD_SETS: Record<ApiStyle, ReadonlySet<string>> = {
  'openai.chat': new Set(ANSWER_NEUTRAL_FIELDS['openai.chat']),
  'openai.completions': new Set(ANSWER_NEUTRAL_FIELDS['openai.completions']),
  'anthropic.messages': new Set(ANSWER_NEUTRAL_FIELDS['anthropic.messages']),
  'openai.responses': new Set(ANSWER_NEUTRAL_FIELDS['openai.responses']),
};

/**
 * Who is asking whom: upstream base URL, hashed credential, API style and model. Two requests in
 * different partitions can never share a cache entry.
 *
 * @example partitionKey(req) // "3f1c…" (64 hex chars)
 */
export function partitionKey(req: Pick<ProxyRequest, 'api' | 'route' | 'credentialHash' | 'model'> & { query?: string; azureDeployment?: string }): string {
  const primary = req.route.providers[0];
  let parts = ['v1', primary?.baseUrl ?? '', req.credentialHash, req.api, req.model].join('\n');
  // Each only when present, so the partitions of requests without them stay what they were: an
  // Azure deployment and API version pick the model and its behaviour, and the client's query
  // string is forwarded (`?beta=true`, a route's `api-version`).
  if (primary?.kind === 'azure') parts += `\nazure:${primary.azure?.deployment ?? ''}@${primary.azure?.apiVersion ?? ''}`;
  if (req.query) parts += `\nquery:${req.query}`;
  // A deployment path's deployment (its api-version is in the query): two deployments may run
  // different models under one request `model`.
  if (req.azureDeployment !== undefined) parts += `\ndeployment:${req.azureDeployment}`;
  // Both caches key every miss by it, and a client asks in the same few partitions all day.
  return rememberedSha256(recentPartitionKeys, RECENT_PARTITIONS, parts);
}

/** `partitionKey` of the last few partitions, by the text it hashes. */
const recentPartitionKeys = new Map<string, string>();
const RECENT_PARTITIONS = 32;

/**
 * `sha256(prefix + text)`, remembered in `memo` under `text` with its `limit` newest entries: for
 * the few short texts a client sends on every request (its credential, its partitions).
 */
function rememberedSha256(memo: Map<string, string>, limit: number, text: string, prefix = ''): string {
  let hash = memo.get(text);
  if (hash === undefined) {
    hash = sha256(`${prefix}${text}`);
    if (memo.size >= limit) memo.delete(memo.keys().next().value!);
    memo.set(text, hash);
  }
  return hash;
}

/** Answer-changing headers, as a stable string (only Anthropic's matter today). */
export function answerChangingHeaders(headers: Record<string, string>): string {
  let text = ANSWER_CHANGING_HEADERS.map((name) => `${name}:${headers[name] ?? ''}`).join('\n');
  for (const name of ANSWER_CHANGING_IF_PRESENT) if (headers[name]) text += `\n${name}:${headers[name]}`;
  return text;
}

/**
 * Exact identity of a request: partition plus every field that can change the answer (messages with
 * all content parts, system, tools, tool_choice, sampling parameters, max tokens, stop,
 * response_format, n, seed, ...). `stream`, `stream_options`, `user` and metadata are left out so a
 * streamed request hits an entry stored from a non-streamed one and the reverse. Undefined when the
 * parsed body cannot tell the request apart from others (an integer beyond 2^53, see canonical.ts):
 * such a request has no key, and is neither answered from the cache nor stored.
 */
export function canonicalHash(req: Pick<ProxyRequest, 'api' | 'route' | 'credentialHash' | 'model' | 'body' | 'headers'>): string | undefined {
  const bodyDigest = relevantBodyDigest(req.api, req.body);
  if (bodyDigest === UNKEYABLE_DIGEST) return undefined;
  return sha256(['exact-v2', partitionKey(req), answerChangingHeaders(req.headers), bodyDigest].join('\n'));
}

/**
 * sha256 of the body's answer-relevant fields in canonical form; the part of the exact key that
 * grows with the request, so it is computed once per body and, for a large body, off this thread.
 */
export function relevantBodyDigest(api: ApiStyle, body: JsonObject): string {
  return rememberedDigest(body, `relevant:${api}`, () => canonicalObjectDigest(answerRelevantBody(api, body)));
}

/** Hashes of the last few credentials seen: a client sends the same key on every request. */
const recentCredentialHashes = new Map<string, string>();
const RECENT_CREDENTIALS = 16;

/** sha256 of a credential, or "anonymous" when there is none. The raw secret never leaves here. */
export function credentialHash(secret: string | undefined): string {
  if (!secret) return 'anonymous';
  return rememberedSha256(recentCredentialHashes, RECENT_CREDENTIALS, secret, 'isartor-credential\n');
}
