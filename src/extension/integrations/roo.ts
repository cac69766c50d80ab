/**
 * Roo Code: through the API its extension exports, creates an "Isartor" provider profile that
 * copies the active profile with its base URL pointed at a proxy route, and activates it. The
 * previously active profile is journaled first; disconnect re-activates it and deletes the
 * Isartor profile; suspend (Isartor's proxy stopping) only re-activates it. Roo keeps profiles in
 * its own storage, so no file is edited.
 */
import type { JsonValue, ProviderKind } from '../../core/request';
import type { Detection, Integration, IntegrationContext } from './integration';
import { recordSetting, removeEntries, settingEntries, type SettingJournalEntry } from './journal';
import { isLoopbackUrl, isRouteElsewhere, proxyCopyValues, routeUrl, trimSlashes } from './proxyUrls';
import { extensionExports } from './vscodeExtensions';

const TOOL = 'roo';
export const ROO_EXTENSION_ID = 'RooVeterinaryInc.roo-cline';
const PROFILE_NAME = 'Isartor';

/** The part of Roo Code's exported API (`RooCodeAPI`) this integration uses. */
export interface RooApi {
  /** Global and active-profile settings; Roo leaves secrets (API keys) out. */
  getConfiguration(): Record<string, unknown>;
  getProfiles(): string[];
  getActiveProfile(): string | undefined;
  setActiveProfile(name: string): Promise<string | undefined>;
  createProfile(name: string, profile?: Record<string, unknown>, activate?: boolean): Promise<string>;
  updateProfile(name: string, profile: Record<string, unknown>, activate?: boolean): Promise<string | undefined>;
  deleteProfile(name: string): Promise<void>;
}

interface RooProvider {
  /** The profile setting holding the base URL. */
  field: string;
  kind: Extract<ProviderKind, 'openai' | 'anthropic'>;
  defaultBase: string;
  /** Appended to the route URL: Roo's OpenAI client adds "/chat/completions", the Anthropic SDK "/v1/messages". */
  suffix: '' | '/v1';
}

/** Roo providers whose base URL Isartor can route (OpenAI chat or Anthropic messages). */
const ROO_PROVIDERS: Record<string, RooProvider> = {
  anthropic: { field: 'anthropicBaseUrl', kind: 'anthropic', defaultBase: 'https://api.anthropic.com', suffix: '' },
  openai: { field: 'openAiBaseUrl', kind: 'openai', defaultBase: 'https://api.openai.com/v1', suffix: '/v1' },
  deepseek: { field: 'deepSeekBaseUrl', kind: 'openai', defaultBase: 'https://api.deepseek.com', suffix: '/v1' },
};

/** Settings that describe Roo's profile list rather than one profile; never copied into a new one. */
const NOT_PROFILE_SETTINGS = ['currentApiConfigName', 'listApiConfigMeta', 'id'];

type Plan = { ok: true; provider: RooProvider; originalBase: string } | { ok: false; reason: string };

function planFor(config: Record<string, unknown>): Plan {
  const name = typeof config.apiProvider === 'string' ? config.apiProvider : '';
  const provider = ROO_PROVIDERS[name];
  if (!provider) return { ok: false, reason: `the active profile uses provider "${name || 'none'}"; Isartor routes Anthropic, OpenAI Compatible and DeepSeek profiles` };
  if (name === 'openai' && config.openAiUseAzure === true) return { ok: false, reason: 'Azure OpenAI profiles are not routed yet' };
  const current = config[provider.field];
  const originalBase = typeof current === 'string' && current ? current : provider.defaultBase;
  if (isLoopbackUrl(originalBase)) return { ok: false, reason: 'the active profile already points at a local server' };
  return { ok: true, provider, originalBase };
}

function isRooApi(value: unknown): value is RooApi {
  const api = value as Partial<RooApi> | undefined;
  return typeof api?.createProfile === 'function' && typeof api.setActiveProfile === 'function' && typeof api.deleteProfile === 'function'
    && typeof api.getActiveProfile === 'function' && typeof api.getConfiguration === 'function' && typeof api.getProfiles === 'function';
}

function freeProfileName(existing: string[]): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? PROFILE_NAME : `${PROFILE_NAME} (${n})`;
    if (!existing.includes(name)) return name;
  }
}

/**
 * The Roo Code integration over an injected API lookup (undefined: Roo is not installed).
 *
 * @example createRooIntegration(async () => inMemoryRoo) // in tests
 */
export function createRooIntegration(getApi: () => Promise<unknown>): Integration {
  async function api(): Promise<RooApi | undefined | 'unsupported'> {
    const exported = await getApi();
    if (exported === undefined || exported === null) return undefined;
    return isRooApi(exported) ? exported : 'unsupported';
  }

  async function latestEntry(ctx: IntegrationContext): Promise<SettingJournalEntry | undefined> {
    return (await settingEntries(ctx.journalDir, TOOL)).at(-1);
  }

  async function detect(ctx: IntegrationContext): Promise<Detection> {
    const roo = await api();
    if (!roo) return { state: 'not-installed', detail: 'Roo Code is not installed' };
    if (roo === 'unsupported') return { state: 'manual', detail: 'this Roo Code version exports no profile API; paste a base URL into a profile', copyValues: proxyCopyValues(ctx.proxyUrl) };
    const entry = await latestEntry(ctx);
    const active = roo.getActiveProfile();
    if (entry && active === entry.newValue) {
      const config = roo.getConfiguration();
      const field = ROO_PROVIDERS[String(config.apiProvider)]?.field;
      const elsewhere = field !== undefined && isRouteElsewhere(config[field], ctx.proxyUrl);
      return { state: 'connected', detail: `Roo Code: profile "${active}" active (was "${String(entry.oldValue ?? 'none')}")`, ...(elsewhere ? { elsewhere: true } : {}) };
    }
    const plan = planFor(roo.getConfiguration());
    if (!plan.ok) return { state: 'manual', detail: `Roo Code: ${plan.reason}`, copyValues: proxyCopyValues(ctx.proxyUrl) };
    return { state: 'available', detail: `Roo Code: will copy profile "${active ?? 'default'}" into an "${PROFILE_NAME}" profile` };
  }

  async function connect(ctx: IntegrationContext): Promise<void> {
    const roo = await api();
    if (!roo || roo === 'unsupported') {
      ctx.logger.info(`roo: ${roo ? 'no profile API in this Roo Code version' : 'Roo Code is not installed'}; nothing to connect`);
      return;
    }
    const entry = await latestEntry(ctx);
    if (entry && roo.getProfiles().includes(String(entry.newValue))) {
      await repoint(ctx, roo, String(entry.newValue));
      return;
    }
    if (entry) await removeEntries(ctx.journalDir, [entry.id]); // the user deleted the profile meanwhile
    const config = roo.getConfiguration();
    const plan = planFor(config);
    if (!plan.ok) throw new Error(`Roo Code: ${plan.reason}`);
    const id = await ctx.routes.ensureRoute({ baseUrl: trimSlashes(plan.originalBase), kind: plan.provider.kind, tool: TOOL });
    const name = freeProfileName(roo.getProfiles());
    const previous = roo.getActiveProfile();
    await recordSetting(ctx.journalDir, ctx.homeDir, { tool: TOOL, keyPath: ['activeProfile'], oldValue: previous as JsonValue | undefined, newValue: name });
    await roo.createProfile(name, profileFrom(config, plan.provider.field, `${routeUrl(ctx.proxyUrl, id)}${plan.provider.suffix}`), true);
    // Roo's API leaves API keys out of getConfiguration(), so the copy may lack the key; Roo keeps
    // the key it has in memory for this session, and asks for it if the profile is reloaded.
    ctx.logger.info(`roo: profile "${name}" created from "${previous ?? 'default'}" and activated`);
  }

  /** Port change or a repeated connect: the Isartor profile keeps its route, with the current proxy URL. */
  async function repoint(ctx: IntegrationContext, roo: RooApi, name: string): Promise<void> {
    if (roo.getActiveProfile() !== name) await roo.setActiveProfile(name);
    const config = roo.getConfiguration();
    const provider = ROO_PROVIDERS[String(config.apiProvider)];
    const current = provider ? config[provider.field] : undefined;
    const routeId = typeof current === 'string' ? /\/r\/([0-9a-f]{32})/.exec(current)?.[1] : undefined;
    if (!provider || !routeId) throw new Error(`Roo Code: the "${name}" profile was changed by hand; disconnect and connect again`);
    const url = `${routeUrl(ctx.proxyUrl, routeId)}${provider.suffix}`;
    if (current !== url) await roo.updateProfile(name, profileFrom(config, provider.field, url), true);
  }

  async function disconnect(ctx: IntegrationContext): Promise<void> {
    const entries = await settingEntries(ctx.journalDir, TOOL);
    if (entries.length === 0) return;
    const roo = await api();
    if (!roo || roo === 'unsupported') {
      ctx.logger.warn('roo: Roo Code is not available; its Isartor profile is restored when it is');
      return;
    }
    for (const entry of entries) {
      const name = String(entry.newValue);
      if (!roo.getProfiles().includes(name)) continue;
      await leaveProfile(roo, entry);
      await roo.deleteProfile(name);
    }
    await removeEntries(ctx.journalDir, entries.map((entry) => entry.id));
    await ctx.routes.releaseRoutes(TOOL);
  }

  /**
   * Isartor's proxy stops (the last window closes, or it cannot start): like the file-based tools,
   * Roo goes back to what the journal says the user had, so a Roo still running (a window without
   * Isartor) never sends to a closed port. The Isartor profile (with anything the user set in it),
   * its journal entry and its route stay: the next connect re-activates it with the same route.
   */
  async function suspend(ctx: IntegrationContext): Promise<void> {
    const entries = await settingEntries(ctx.journalDir, TOOL);
    if (entries.length === 0) return;
    const roo = await api();
    if (!roo || roo === 'unsupported') return;
    for (const entry of entries) await leaveProfile(roo, entry);
  }

  return { id: 'roo', label: 'Roo Code', detect, connect, disconnect, suspend };
}

/** Back to the profile the user had, if Isartor's is active; if they deleted theirs since, to any other one. */
async function leaveProfile(roo: RooApi, entry: SettingJournalEntry): Promise<void> {
  const name = String(entry.newValue);
  if (roo.getActiveProfile() !== name) return;
  const profiles = roo.getProfiles();
  const previous = typeof entry.oldValue === 'string' && profiles.includes(entry.oldValue) ? entry.oldValue : profiles.find((p) => p !== name);
  if (previous) await roo.setActiveProfile(previous);
}

function profileFrom(config: Record<string, unknown>, field: string, url: string): Record<string, unknown> {
  const profile: Record<string, unknown> = { ...config, [field]: url };
  for (const key of NOT_PROFILE_SETTINGS) delete profile[key];
  return profile;
}

export const rooIntegration: Integration = createRooIntegration(() => extensionExports<unknown>(ROO_EXTENSION_ID));
