/**
 * Decides which credential a request runs under: the client's own header, passed through
 * untouched, or else the key configured for the route's provider. Only its hash is kept.
 */
import { credentialHash, type UpstreamTarget } from '../core/request';
import { clientCredentialIdentity } from '../core/upstream/target';
import { missingKey, type ErrorShape } from './errors';

/**
 * The credential hash for the partition key. Throws a 401 ProxyError when the client sent no key
 * and none of `providers` has one configured.
 *
 * @example requestCredentialHash({ authorization: 'Bearer sk-…' }, providers, 'openai') // "9c1e…"
 */
export function requestCredentialHash(headers: Record<string, string>, providers: readonly UpstreamTarget[], shape: ErrorShape): string {
  const own = clientCredentialIdentity(headers);
  if (own) return credentialHash(own);
  const configured = providers.find((provider) => provider.apiKey)?.apiKey;
  if (!configured) throw missingKey(shape);
  return credentialHash(configured);
}
