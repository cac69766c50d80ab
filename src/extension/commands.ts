/**
 * The palette commands (category "Isartor") and their quick picks: Enable, Disable, Show Savings,
 * Connect Tools…, Set Provider API Key…, Clear Cache, Show Log, and the status-bar menu.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import type { ProviderKind } from '../core/request';
import type { ProviderSetting } from './config';
import { DEFAULT_AZURE_API_VERSION, DEFAULT_PROVIDERS } from './config';
import { DisposableOwner } from './disposables';
import { providersAfterAdd } from './settingWrites';
import type { Integration, ToolState } from './integrations/integration';
import type { IsartorController } from './lifecycle/controller';
import type { EmbeddedProxy } from './lifecycle/proxyHost';
import { describeError } from './log';
import type { ProviderKeys } from './secrets';
import { STATUS_MENU_COMMAND } from './statusBar';

export const COMMANDS = {
  enable: 'isartor.enable',
  disable: 'isartor.disable',
  showSavings: 'isartor.showSavings',
  connectTools: 'isartor.connectTools',
  setApiKey: 'isartor.setApiKey',
  clearCache: 'isartor.clearCache',
  showLog: 'isartor.showLog',
} as const;

export interface CommandDeps {
  controller: IsartorController<EmbeddedProxy>;
  integrations(): Integration[];
  keys: ProviderKeys;
  providers(): ProviderSetting[];
  /** True when `isartor.providers` is set by the user (false: the built-in defaults are in use). */
  providersCustomised(): boolean;
  showSavings(): void;
  showLog(): void;
  logger: Logger;
}

const STATE_TEXT: Record<ToolState, string> = { connected: 'connected', available: 'not connected', manual: 'manual setup', 'not-installed': 'not installed' };
const STATE_ICON: Record<ToolState, string> = { connected: '$(pass-filled)', available: '$(circle-large-outline)', manual: '$(info)', 'not-installed': '$(circle-slash)' };

/** Registers every command; dispose the result to unregister them. */
export function registerCommands(deps: CommandDeps): vscode.Disposable {
  const owner = new DisposableOwner();
  const register = (id: string, run: () => Promise<unknown> | unknown): void => {
    owner.add(
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (error) {
          deps.logger.error(`${id} failed: ${describeError(error)}`);
          void vscode.window.showErrorMessage(`Isartor: ${describeError(error)}`);
        }
      }),
    );
  };
  register(COMMANDS.enable, () => runWithProgress('Isartor: enabling…', () => deps.controller.enable()));
  register(COMMANDS.disable, () => runWithProgress('Isartor: restoring tools…', () => deps.controller.disable()));
  register(COMMANDS.showSavings, () => deps.showSavings());
  register(COMMANDS.connectTools, () => connectTools(deps));
  register(COMMANDS.setApiKey, () => setApiKey(deps));
  register(COMMANDS.clearCache, async () => {
    if (await deps.controller.clearCache()) void vscode.window.showInformationMessage('Isartor: caches cleared.');
    else void vscode.window.showWarningMessage('Isartor is off: enable it to manage its caches.');
  });
  register(COMMANDS.showLog, () => deps.showLog());
  register(STATUS_MENU_COMMAND, () => statusMenu(deps));
  return owner;
}

function runWithProgress<T>(title: string, task: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, task);
}

/** The status-bar item's menu. */
async function statusMenu(deps: CommandDeps): Promise<void> {
  const enabled = deps.controller.enabled;
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: '$(graph) Show Savings', command: COMMANDS.showSavings },
    enabled ? { label: '$(debug-stop) Disable', description: 'restore every tool', command: COMMANDS.disable } : { label: '$(play) Enable', description: 'start and connect tools', command: COMMANDS.enable },
    { label: '$(plug) Connect Tools…', command: COMMANDS.connectTools },
    { label: '$(key) Set Provider API Key…', command: COMMANDS.setApiKey },
    { label: '$(trash) Clear Cache', command: COMMANDS.clearCache },
    { label: '$(output) Show Log', command: COMMANDS.showLog },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Isartor', placeHolder: enabled ? 'Isartor is on' : 'Isartor is off' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}

/** Each integration with its detected state; picking one toggles it (Cline: copy-ready values). */
async function connectTools(deps: CommandDeps): Promise<void> {
  const ctx = deps.controller.context();
  const rows = await Promise.all(
    deps.integrations().map(async (integration) => {
      try {
        return { integration, detection: await integration.detect(ctx) };
      } catch (error) {
        return { integration, detection: { state: 'not-installed' as const, detail: `could not check: ${describeError(error)}` } };
      }
    }),
  );
  const picked = await vscode.window.showQuickPick(
    rows.map((row) => ({
      label: `${STATE_ICON[row.detection.state]} ${row.integration.label}`,
      description: STATE_TEXT[row.detection.state],
      detail: row.detection.detail,
      row,
    })),
    { title: 'Isartor: Connect Tools', placeHolder: 'Pick a tool to connect or disconnect it' },
  );
  if (!picked) return;
  const { integration, detection } = picked.row;
  if (detection.state === 'manual') return copyValues(integration.label, detection.copyValues ?? []);
  if (detection.state === 'not-installed') {
    void vscode.window.showInformationMessage(`${integration.label} was not found: ${detection.detail}`);
    return;
  }
  const result = await deps.controller.toggle(integration);
  void vscode.window.showInformationMessage(result === 'connected' ? `Isartor: ${integration.label} now goes through Isartor.` : `Isartor: ${integration.label} is restored.`);
}

async function copyValues(label: string, values: { label: string; value: string }[]): Promise<void> {
  if (values.length === 0) {
    void vscode.window.showInformationMessage(`${label} is set up by hand; nothing to copy.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(
    values.map((value) => ({ label: value.label, description: value.value, value })),
    { title: `${label}: copy a value`, placeHolder: 'Pick a value to copy it to the clipboard' },
  );
  if (!picked) return;
  await vscode.env.clipboard.writeText(picked.value.value);
  void vscode.window.showInformationMessage(`Copied ${picked.value.label}.`);
}

type ProviderChoice = { provider: ProviderSetting } | { add: ProviderKind | 'compatible' };

/** Picks (or adds) a provider, then stores its key in the secret store. */
async function setApiKey(deps: CommandDeps): Promise<void> {
  const providers = deps.providers();
  const items: (vscode.QuickPickItem & { choice?: ProviderChoice })[] = [];
  for (const provider of providers) {
    const hasKey = (await deps.keys.get(provider)) !== undefined;
    items.push({ label: provider.name, description: `${provider.kind} · ${provider.baseUrl}`, detail: hasKey ? '$(key) key set' : 'no key yet', choice: { provider } });
  }
  items.push({ label: 'Add a provider', kind: vscode.QuickPickItemKind.Separator });
  if (!providers.some((p) => p.kind === 'openai' && p.baseUrl === DEFAULT_PROVIDERS[0]!.baseUrl)) items.push({ label: 'OpenAI', choice: { add: 'openai' } });
  if (!providers.some((p) => p.kind === 'anthropic')) items.push({ label: 'Anthropic', choice: { add: 'anthropic' } });
  items.push({ label: 'Azure OpenAI…', description: 'endpoint, API version, deployment', choice: { add: 'azure' } });
  items.push({ label: 'Other OpenAI-compatible…', description: 'any base URL', choice: { add: 'compatible' } });
  const picked = await vscode.window.showQuickPick(items, { title: 'Isartor: Set Provider API Key', placeHolder: 'Which provider is the key for?' });
  if (!picked?.choice) return;
  const provider = 'provider' in picked.choice ? picked.choice.provider : await addProvider(deps, picked.choice.add);
  if (!provider) return;
  const key = await vscode.window.showInputBox({
    title: `API key for ${provider.name}`,
    prompt: 'Stored in VS Code\'s secret storage only. Leave empty to remove the stored key.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  await deps.keys.set(provider.name, key);
  void vscode.window.showInformationMessage(key.trim() ? `Isartor: key for ${provider.name} stored.` : `Isartor: key for ${provider.name} removed.`);
}

/** Asks for a new provider's details and appends it to `isartor.providers` (never with a key). */
async function addProvider(deps: CommandDeps, kind: ProviderKind | 'compatible'): Promise<ProviderSetting | undefined> {
  const existing = deps.providers();
  const defaults: Record<string, { name: string; baseUrl?: string }> = {
    openai: { name: 'openai', baseUrl: DEFAULT_PROVIDERS[0]!.baseUrl },
    anthropic: { name: 'anthropic', baseUrl: DEFAULT_PROVIDERS[1]!.baseUrl },
    azure: { name: 'azure' },
    compatible: { name: 'custom' },
  };
  const suggestion = defaults[kind]!;
  let provider: ProviderSetting;
  if (kind === 'openai' || kind === 'anthropic') {
    provider = { name: uniqueName(suggestion.name, existing), kind, baseUrl: suggestion.baseUrl! };
  } else {
    const baseUrl = await vscode.window.showInputBox({
      title: kind === 'azure' ? 'Azure OpenAI endpoint' : 'Base URL of the OpenAI-compatible API',
      placeHolder: kind === 'azure' ? 'https://my-resource.openai.azure.com' : 'https://api.example.com/v1',
      ignoreFocusOut: true,
      validateInput: (value) => (/^https?:\/\/\S+$/.test(value.trim()) ? undefined : 'Enter an http(s) URL'),
    });
    if (!baseUrl) return undefined;
    const name = await vscode.window.showInputBox({ title: 'A short name for this provider', value: uniqueName(suggestion.name, existing), ignoreFocusOut: true, validateInput: (value) => (value.trim() && !existing.some((p) => p.name === value.trim()) ? undefined : 'Enter a new, unique name') });
    if (!name) return undefined;
    provider = { name: name.trim(), kind: kind === 'azure' ? 'azure' : 'openai', baseUrl: baseUrl.trim().replace(/\/+$/, '') };
    if (kind === 'azure') {
      const apiVersion = await vscode.window.showInputBox({ title: 'Azure OpenAI API version', value: DEFAULT_AZURE_API_VERSION, ignoreFocusOut: true });
      if (apiVersion === undefined) return undefined;
      provider.apiVersion = apiVersion.trim() || DEFAULT_AZURE_API_VERSION;
      const deployment = await vscode.window.showInputBox({ title: 'Deployment name (optional)', prompt: 'Leave empty to use the model name of each request as the deployment.', ignoreFocusOut: true });
      if (deployment === undefined) return undefined;
      if (deployment.trim()) provider.deployment = deployment.trim();
    }
  }
  // While the built-in defaults are in use, writing the list must keep them alongside the new one.
  const base = deps.providersCustomised() ? existing : DEFAULT_PROVIDERS.map((p) => ({ ...p }));
  const providers = providersAfterAdd(kind, provider, base);
  await vscode.workspace.getConfiguration('isartor').update('providers', providers, vscode.ConfigurationTarget.Global);
  return provider;
}

function uniqueName(wanted: string, existing: readonly ProviderSetting[]): string {
  let name = wanted;
  for (let n = 2; existing.some((p) => p.name === name); n++) name = `${wanted}-${n}`;
  return name;
}
