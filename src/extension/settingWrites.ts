/**
 * What the shell writes to settings when the user adds a provider or flips a layer switch, kept
 * free of `vscode` so the rules are tested in plain Node.
 */
import type { ProviderSetting } from './config';

/**
 * The provider list after adding `added`. A provider the user names by URL ("Other
 * OpenAI-compatible") is the one they mean to use: it goes first in the fallback order, so
 * default-route requests do not try api.openai.com (without a key) before it. Other kinds append.
 *
 * @example providersAfterAdd('compatible', custom, [openai, anthropic]) // [custom, openai, anthropic]
 */
export function providersAfterAdd(kind: string, added: ProviderSetting, base: readonly ProviderSetting[]): ProviderSetting[] {
  return kind === 'compatible' ? [added, ...base] : [...base, added];
}

/**
 * The value to write for a layer switch: `undefined` (remove the key) when it equals the
 * default, so the user's settings.json does not pin a default that may change later.
 *
 * @example layerSettingValue(true, true) // undefined
 */
export function layerSettingValue(defaultValue: boolean | undefined, enabled: boolean): boolean | undefined {
  return defaultValue === enabled ? undefined : enabled;
}
