/**
 * Azure OpenAI's deployment-scoped paths (`/openai/deployments/<name>/…`), which the official
 * `AzureOpenAI` clients call: chat and legacy completions run through the Deflection Stack like
 * their `/v1` twins; every other operation (embeddings, audio, images) goes to the route's Azure
 * primary as it is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../core/request';
import { requestCredentialHash } from './auth';
import type { ProxyContext } from './context';
import { ProxyError } from './errors';
import { flatHeaders, queryString } from './incoming';
import { pipeResponse, signalFor } from './passthrough';

/**
 * The decoded deployment a path names, or the error to answer: the route's primary must be an
 * Azure provider (an OpenAI provider has no deployments, and renaming the body's `model` to the
 * deployment would change what is sent), and the deployment and operation must decode.
 *
 * @example addressedDeployment(azureRoute, 'gpt%2D4o') // "gpt-4o"
 */
export function addressedDeployment(route: Route, encoded: string, operation = ''): string | ProxyError {
  const primary = route.providers[0];
  if (primary?.kind !== 'azure') {
    return new ProxyError(
      404,
      'deployment_needs_azure',
      `/openai/deployments/… paths are Azure OpenAI's, and this route's first provider${primary ? ` ("${primary.name}")` : ''} is not an Azure provider. Configure an Azure provider (AZURE_OPENAI_ENDPOINT, or kind "azure" in the config), or use the OpenAI paths (/v1/chat/completions) with the deployment as \`model\`.`,
    );
  }
  const deployment = decodedSegment(encoded);
  if (deployment === undefined) return new ProxyError(400, 'invalid_deployment', 'The deployment name in the path is not valid percent-encoded UTF-8.');
  // Dot segments would climb out of the deployment on the provider: `/deployments/x/../../keys`.
  if (operation.split('/').slice(1).some((segment) => /^\.{1,2}$/.test(decodedSegment(segment) ?? '.'))) {
    return new ProxyError(400, 'invalid_path', `The operation "${operation.slice(0, 200)}" after the deployment is not a valid path.`);
  }
  return deployment;
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Forwards a deployment operation other than chat and completions, bytes unchanged, to the route's
 * primary (an Azure provider), with the same credential rules as every other request.
 */
export async function serveDeploymentPassthrough(
  px: ProxyContext,
  http: { req: IncomingMessage; res: ServerResponse },
  route: Route,
  deployment: string,
  operation: string,
  rawBody: Buffer,
): Promise<void> {
  const headers = flatHeaders(http.req);
  const providers = route.providers.slice(0, 1);
  requestCredentialHash(headers, providers, 'openai');
  const response = await px.engine.upstream.send({
    providers,
    endpoint: 'azure.deployment',
    subpath: operation,
    azureDeployment: deployment,
    model: deployment,
    method: 'POST',
    headers,
    body: rawBody,
    query: queryString(http.req.url),
    signal: signalFor(http.res),
  });
  await pipeResponse(http.res, response);
}
