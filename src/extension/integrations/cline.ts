/**
 * Cline: never edited. Cline keeps its provider settings in its own storage and overwrites outside
 * edits, so Isartor only offers copy-ready base URLs and points at Cline's "VS Code LM API"
 * provider, which reaches Isartor's language models directly.
 */
import type { Detection, Integration, IntegrationContext } from './integration';
import { proxyCopyValues } from './proxyUrls';
import { isExtensionInstalled } from './vscodeExtensions';

export const CLINE_EXTENSION_ID = 'saoudrizwan.claude-dev';

/**
 * The Cline integration over an injected "is Cline installed" check.
 *
 * @example createClineIntegration(async () => true) // in tests
 */
export function createClineIntegration(isInstalled: () => Promise<boolean>): Integration {
  return {
    id: 'cline',
    label: 'Cline',
    async detect(ctx: IntegrationContext): Promise<Detection> {
      if (!(await isInstalled())) return { state: 'not-installed', detail: 'Cline is not installed' };
      return {
        state: 'manual',
        detail: 'Pick Cline\'s "VS Code LM API" provider to use Isartor\'s models, or paste a base URL below',
        copyValues: proxyCopyValues(ctx.proxyUrl),
      };
    },
    async connect(ctx: IntegrationContext): Promise<void> {
      ctx.logger.info('cline: Isartor does not edit Cline\'s settings; choose its "VS Code LM API" provider or paste a base URL');
    },
    async disconnect(ctx: IntegrationContext): Promise<void> {
      ctx.logger.info('cline: nothing to restore (Isartor never edits Cline\'s settings)');
    },
  };
}

export const clineIntegration: Integration = createClineIntegration(() => isExtensionInstalled(CLINE_EXTENSION_ID));
