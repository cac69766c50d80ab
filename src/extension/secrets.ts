/**
 * Provider API keys: stored only in VS Code's SecretStorage (`context.secrets`), never in settings,
 * logs or the restore journal.
 */
import type { ProviderSetting } from './config';

/** The subset of `vscode.SecretStorage` used here (a Map-backed stand-in fits in tests). */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

/** Public hosts whose standard environment variable may supply a key (as the CLI does). */
const OFFICIAL_ENV_KEYS: { kind: ProviderSetting['kind']; host: RegExp; variable: string }[] = [
  { kind: 'openai', host: /^api\.openai\.com$/, variable: 'OPENAI_API_KEY' },
  { kind: 'anthropic', host: /^api\.anthropic\.com$/, variable: 'ANTHROPIC_API_KEY' },
  { kind: 'azure', host: /\.openai\.azure\.com$/, variable: 'AZURE_OPENAI_API_KEY' },
];

/** The secret-store key of a provider's API key. */
export function secretKeyFor(providerName: string): string {
  return `isartor.apiKey.${providerName}`;
}

/**
 * The secret-store key of the shared cache's Redis password (`isartor.store.url` holds no password).
 * `ProviderKeys.all()` hands it on under this same name, which no provider setting can carry
 * (provider names are plain names; this one has the reserved `isartor.` prefix and dots).
 */
export const STORE_PASSWORD_SECRET = 'isartor.store.password';

/** `ISARTOR_API_KEY_<NAME>`: an explicit per-provider variable, e.g. ISARTOR_API_KEY_AZURE_EU. */
export function envVariableFor(providerName: string): string {
  return `ISARTOR_API_KEY_${providerName.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/**
 * Looks up provider keys. The secret store wins; then `ISARTOR_API_KEY_<NAME>`; then the provider
 * kind's usual variable (OPENAI_API_KEY, ...) but only when the provider is that vendor's public
 * host, so a shell key for OpenAI is never sent to some other OpenAI-compatible server.
 */
export class ProviderKeys {
  constructor(
    private readonly secrets: SecretStore,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {}

  /** The key for `provider`, or undefined when none is configured anywhere. */
  async get(provider: ProviderSetting): Promise<string | undefined> {
    const stored = await this.secrets.get(secretKeyFor(provider.name));
    if (stored) return stored;
    const explicit = this.env[envVariableFor(provider.name)];
    if (explicit) return explicit;
    const host = hostOf(provider.baseUrl);
    const official = OFFICIAL_ENV_KEYS.find((entry) => entry.kind === provider.kind && entry.host.test(host));
    return official ? this.env[official.variable] || undefined : undefined;
  }

  /** Keys for every provider that has one, by provider name. */
  async all(providers: readonly ProviderSetting[]): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    for (const provider of providers) {
      const key = await this.get(provider);
      if (key) keys.set(provider.name, key);
    }
    const storePassword = (await this.secrets.get(STORE_PASSWORD_SECRET)) || this.env.ISARTOR_STORE_PASSWORD;
    if (storePassword) keys.set(STORE_PASSWORD_SECRET, storePassword);
    return keys;
  }

  /** Stores a key after trimming whitespace a paste may carry; an empty key deletes it. */
  async set(providerName: string, key: string): Promise<void> {
    const trimmed = key.trim();
    if (trimmed) await this.secrets.store(secretKeyFor(providerName), trimmed);
    else await this.secrets.delete(secretKeyFor(providerName));
  }

  async delete(providerName: string): Promise<void> {
    await this.secrets.delete(secretKeyFor(providerName));
  }
}

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return '';
  }
}
