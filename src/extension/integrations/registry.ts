/**
 * Every tool integration, in the order the Connect Tools… pick lists them (and Disable undoes
 * them in reverse).
 */
import { copilotIntegration } from '../copilot';
import type { Integration } from './integration';
import { claudeIntegration } from './claude';
import { clineIntegration } from './cline';
import { codexIntegration } from './codex';
import { continueIntegration } from './continue';
import { rooIntegration } from './roo';

/** The integrations the shell detects, connects and disconnects. */
export function allIntegrations(): Integration[] {
  return [copilotIntegration, continueIntegration, claudeIntegration, codexIntegration, rooIntegration, clineIntegration];
}
