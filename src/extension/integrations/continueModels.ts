/**
 * Which Continue models Isartor can route, and where each one sent its requests before.
 *
 * Continue's providers build request URLs relative to `apiBase` with a trailing slash:
 * OpenAI-style ones call `new URL("chat/completions", apiBase)` (default
 * "https://api.openai.com/v1/") and Anthropic calls `new URL("messages", apiBase)` (default
 * "https://api.anthropic.com/v1/"). So the rewritten apiBase is `<proxy>/r/<id>/v1/`, the proxy
 * sees `/r/<id>/v1/chat/completions` or `/r/<id>/v1/messages`, and the route's base is the
 * original apiBase (OpenAI style, e.g. "https://api.deepseek.com") or the Anthropic origin
 * without "/v1" (the upstream adds it back).
 */
import type { ProviderKind } from '../../core/request';
import { isLoopbackUrl, trimSlashes } from './proxyUrls';

interface CloudProvider {
  kind: Extract<ProviderKind, 'openai' | 'anthropic'>;
  /** Continue's default apiBase for the provider, without the trailing slash. */
  defaultBase: string;
}

/** Cloud providers that speak the OpenAI chat or Anthropic messages wire format. */
const CLOUD_PROVIDERS: Record<string, CloudProvider> = {
  openai: { kind: 'openai', defaultBase: 'https://api.openai.com/v1' },
  anthropic: { kind: 'anthropic', defaultBase: 'https://api.anthropic.com/v1' },
  deepseek: { kind: 'openai', defaultBase: 'https://api.deepseek.com' },
  mistral: { kind: 'openai', defaultBase: 'https://api.mistral.ai/v1' },
  groq: { kind: 'openai', defaultBase: 'https://api.groq.com/openai/v1' },
  together: { kind: 'openai', defaultBase: 'https://api.together.xyz/v1' },
  openrouter: { kind: 'openai', defaultBase: 'https://openrouter.ai/api/v1' },
  xAI: { kind: 'openai', defaultBase: 'https://api.x.ai/v1' },
};

/** Providers that call fill-in-the-middle endpoints for autocomplete, which the proxy does not serve. */
const FIM_PROVIDERS = new Set(['mistral', 'deepseek']);

/** Roles whose endpoints (embeddings, rerank) the proxy does not serve. */
const UNSERVED_ROLES = new Set(['embed', 'rerank']);

export type ModelPlan =
  | { action: 'route'; kind: CloudProvider['kind']; routeBase: string }
  | { action: 'skip'; reason: string };

/**
 * Whether a model entry can go through the proxy, and the route base it needs. `originalApiBase`
 * is the user's own apiBase (from the journal when the model currently points at Isartor).
 *
 * @example planModel({ provider: 'openai', model: 'gpt-4o' }, undefined)
 * // { action: 'route', kind: 'openai', routeBase: 'https://api.openai.com/v1' }
 */
export function planModel(model: Record<string, unknown>, originalApiBase: string | undefined): ModelPlan {
  if ('uses' in model) return { action: 'skip', reason: 'hub block (uses:)' };
  const provider = typeof model.provider === 'string' ? model.provider : '';
  // Azure URLs carry a deployment and api-version that a route target cannot hold yet.
  if (provider === 'azure' || model.apiType === 'azure') return { action: 'skip', reason: 'Azure deployments are not routed yet' };
  const spec = CLOUD_PROVIDERS[provider];
  if (!spec) return { action: 'skip', reason: provider ? `provider "${provider}" is local or not OpenAI/Anthropic-compatible` : 'no provider' };
  const roles = Array.isArray(model.roles) ? model.roles.filter((role): role is string => typeof role === 'string') : [];
  if (roles.some((role) => UNSERVED_ROLES.has(role))) return { action: 'skip', reason: 'embedding or rerank model' };
  if (roles.includes('autocomplete') && FIM_PROVIDERS.has(provider)) return { action: 'skip', reason: 'autocomplete uses a fill-in-the-middle endpoint' };
  let base = originalApiBase ? trimSlashes(originalApiBase) : defaultBase(provider, spec, model);
  if (isLoopbackUrl(base)) return { action: 'skip', reason: 'already points at a local server' };
  if (spec.kind === 'anthropic') {
    // The upstream appends "/v1/messages" to an Anthropic base; Continue appends "messages" to apiBase.
    if (!base.endsWith('/v1')) return { action: 'skip', reason: 'Anthropic apiBase without /v1 cannot be routed exactly' };
    base = base.slice(0, -'/v1'.length);
  }
  return { action: 'route', kind: spec.kind, routeBase: base };
}

function defaultBase(provider: string, spec: CloudProvider, model: Record<string, unknown>): string {
  // Continue sends Codestral models to their own endpoint when no apiBase is set.
  if (provider === 'mistral' && typeof model.model === 'string' && model.model.includes('codestral')) return 'https://codestral.mistral.ai/v1';
  return spec.defaultBase;
}

/** Fields that identify a model entry if the user reorders the list (title in JSON, name in YAML). */
export function modelIdentity(model: Record<string, unknown>): Record<string, string> {
  const identity: Record<string, string> = {};
  for (const key of ['name', 'title', 'provider', 'model']) {
    const value = model[key];
    if (typeof value === 'string') identity[key] = value;
  }
  return identity;
}
