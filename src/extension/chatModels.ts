/**
 * Which models Isartor offers to Copilot Chat (and any `vscode.lm` caller): the `isartor.models`
 * list, or a built-in list per configured provider, limited to providers that have a key.
 */
import type { ProviderKind } from '../core/request';
import type { ChatModelSetting, ProviderSetting } from './config';

/** One model as the language-model provider lists it. */
export interface ChatModelEntry {
  /** Unique within the `isartor` vendor: "<provider>/<model id>". */
  id: string;
  /** Sent upstream as `model`. */
  modelId: string;
  provider: ProviderSetting;
  /** e.g. "GPT-4o via Isartor". */
  name: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  toolCalling: boolean;
}

interface KnownModel {
  prefix: string;
  name: string;
  maxInputTokens: number;
  maxOutputTokens: number;
}

/** Context and output limits of well-known models, matched by id prefix (longest first). */
const KNOWN_MODELS: KnownModel[] = [
  { prefix: 'gpt-4o-mini', name: 'GPT-4o mini', maxInputTokens: 128_000, maxOutputTokens: 16_384 },
  { prefix: 'gpt-4o', name: 'GPT-4o', maxInputTokens: 128_000, maxOutputTokens: 16_384 },
  { prefix: 'gpt-4.1-mini', name: 'GPT-4.1 mini', maxInputTokens: 1_047_576, maxOutputTokens: 32_768 },
  { prefix: 'gpt-4.1', name: 'GPT-4.1', maxInputTokens: 1_047_576, maxOutputTokens: 32_768 },
  { prefix: 'gpt-5-mini', name: 'GPT-5 mini', maxInputTokens: 272_000, maxOutputTokens: 128_000 },
  { prefix: 'gpt-5', name: 'GPT-5', maxInputTokens: 272_000, maxOutputTokens: 128_000 },
  { prefix: 'o4-mini', name: 'o4-mini', maxInputTokens: 200_000, maxOutputTokens: 100_000 },
  { prefix: 'claude-sonnet-4', name: 'Claude Sonnet 4', maxInputTokens: 200_000, maxOutputTokens: 64_000 },
  { prefix: 'claude-opus-4', name: 'Claude Opus 4', maxInputTokens: 200_000, maxOutputTokens: 32_000 },
  { prefix: 'claude-3-5-haiku', name: 'Claude Haiku 3.5', maxInputTokens: 200_000, maxOutputTokens: 8_192 },
  { prefix: 'deepseek-chat', name: 'DeepSeek Chat', maxInputTokens: 64_000, maxOutputTokens: 8_192 },
].sort((a, b) => b.prefix.length - a.prefix.length);

/** Offered for a provider when `isartor.models` is empty. Azure offers its fixed deployment, if any. */
const BUILT_IN_MODELS: Record<ProviderKind, string[]> = {
  openai: ['gpt-4o', 'gpt-4o-mini'],
  anthropic: ['claude-sonnet-4-20250514', 'claude-3-5-haiku-20241022'],
  azure: [],
};

/**
 * The models to offer, in settings order. `hasKey` says which providers can be used: models of a
 * provider without a key are left out (they could only fail).
 *
 * @example resolveChatModels(settings.providers, [], (p) => p.name === 'openai')[0].name // "GPT-4o via Isartor"
 */
export function resolveChatModels(
  providers: readonly ProviderSetting[],
  models: readonly ChatModelSetting[],
  hasKey: (provider: ProviderSetting) => boolean,
): ChatModelEntry[] {
  const usable = providers.filter(hasKey);
  const wanted: { modelId: string; provider: ProviderSetting; setting?: ChatModelSetting }[] = [];
  if (models.length > 0) {
    for (const setting of models) {
      const provider = setting.provider ? usable.find((p) => p.name === setting.provider) : guessProvider(setting.id, usable);
      if (provider) wanted.push({ modelId: setting.id, provider, setting });
    }
  } else {
    for (const provider of usable) {
      const ids = provider.kind === 'azure' ? (provider.deployment ? [provider.deployment] : []) : BUILT_IN_MODELS[provider.kind];
      for (const modelId of ids) wanted.push({ modelId, provider });
    }
  }
  const entries = new Map<string, ChatModelEntry>();
  for (const { modelId, provider, setting } of wanted) {
    const known = KNOWN_MODELS.find((model) => modelId.startsWith(model.prefix));
    const id = `${provider.name}/${modelId}`;
    if (entries.has(id)) continue;
    entries.set(id, {
      id,
      modelId,
      provider,
      name: `${setting?.name ?? (known && isVersionOf(modelId, known.prefix) ? known.name : modelId)} via Isartor`,
      maxInputTokens: setting?.maxInputTokens ?? known?.maxInputTokens ?? 128_000,
      maxOutputTokens: setting?.maxOutputTokens ?? known?.maxOutputTokens ?? 4_096,
      toolCalling: setting?.toolCalling ?? true,
    });
  }
  return [...entries.values()];
}

/** "gpt-4o" and "gpt-4o-2024-08-06" are GPT-4o; "gpt-4o-eu" (a deployment) only borrows its limits. */
function isVersionOf(modelId: string, prefix: string): boolean {
  const rest = modelId.slice(prefix.length);
  return rest === '' || /^-\d/.test(rest) || rest === '-latest';
}

/** Claude models go to an Anthropic provider, everything else to an OpenAI-style one. */
function guessProvider(modelId: string, providers: readonly ProviderSetting[]): ProviderSetting | undefined {
  const preferred: ProviderKind[] = modelId.startsWith('claude') ? ['anthropic'] : ['openai', 'azure'];
  for (const kind of preferred) {
    const provider = providers.find((p) => p.kind === kind);
    if (provider) return provider;
  }
  return undefined;
}
