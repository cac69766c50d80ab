/**
 * Activation and deactivation: wires the embedded proxy, the tool integrations, the language-model
 * provider, the status bar, the savings panel and the commands together.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { startProxy } from '../proxy/server';
import type { IsartorSettings, LayerSwitch } from './config';
import { affects, LAYER_SWITCHES, readSettings, RESTART_KEYS } from './config';
import { registerCommands } from './commands';
import { registerStorePasswordCommand } from './storePassword';
import { IsartorChatProvider, LM_VENDOR, setActiveChatProvider } from './copilot';
import { DisposableOwner } from './disposables';
import { Emitter } from './events';
import type { IntegrationContext } from './integrations/integration';
import { allIntegrations } from './integrations/registry';
import { reconcileJournal } from './integrations/restore';
import { IsartorController } from './lifecycle/controller';
import { registerDownloadEmbeddingModel } from './embeddingModelCommand';
import { registerDownloadLocalModel } from './localModelCommand';
import { isIsartorAt, ProxyHost } from './lifecycle/proxyHost';
import { buildPanelSnapshot } from './lifecycle/snapshot';
import { channelLogger, describeError } from './log';
import type { PanelSource } from './panel';
import { SAVINGS_SIDEBAR_VIEW_ID, SavingsPanel, SavingsViewProvider } from './panel';
import { openLedger } from '../core/ledger';
import type { LedgerSummary } from '../core/ledger-types';
import { PersistentRouteRegistry } from './routes';
import { ProviderKeys } from './secrets';
import { layerSettingValue } from './settingWrites';
import { IsartorStatusBar } from './statusBar';

let shutdown: (() => Promise<void>) | undefined;

/** Reads `isartor.*`; the one place raw configuration is touched. */
function currentSettings(): IsartorSettings {
  return readSettings(vscode.workspace.getConfiguration('isartor'));
}

/** Workspace storage by default; global storage when the setting says so or no folder is open. */
function dataDirFor(context: vscode.ExtensionContext, settings: IsartorSettings): string {
  const root = settings.storage === 'global' || !context.storageUri ? context.globalStorageUri : context.storageUri;
  return join(root.fsPath, 'data');
}

export function activate(context: vscode.ExtensionContext): void {
  const owner = new DisposableOwner();
  const channel = owner.add(vscode.window.createOutputChannel('Isartor', { log: true }));
  const logger = channelLogger(channel);
  const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '0');
  logger.info(`Isartor ${version} activating (VS Code ${vscode.version})`);

  const changed = owner.add(new Emitter<void>((error) => logger.error(`listener failed: ${describeError(error)}`)));
  const host = new ProxyHost(startProxy, logger);
  const routes = new PersistentRouteRegistry(context.globalState);
  const keys = new ProviderKeys(context.secrets);
  const integrationContext = (proxyUrl: string): IntegrationContext => ({ proxyUrl, routes, homeDir: homedir(), journalDir: context.globalStorageUri.fsPath, logger });
  let provider: IsartorChatProvider | undefined;
  let statusBar: IsartorStatusBar | undefined;

  const controller = new IsartorController({
    state: context.globalState,
    settings: currentSettings,
    dataDir: (settings) => dataDirFor(context, settings),
    windowDataDir: () => (context.storageUri ? join(context.storageUri.fsPath, 'data') : undefined),
    keys,
    host,
    routes,
    integrations: allIntegrations,
    journalDir: context.globalStorageUri.fsPath,
    integrationContext,
    reconcileJournal,
    isIsartorAt,
    logger,
    ui: {
      startFailed: async (message) => {
        const choice = await vscode.window.showErrorMessage(`Isartor could not start its local proxy: ${message}`, 'Show Log', 'Retry');
        return choice === 'Retry' ? 'retry' : choice === 'Show Log' ? 'log' : undefined;
      },
      showLog: () => channel.show(true),
      info: (message) => void vscode.window.showInformationMessage(message),
      warn: (message) => void vscode.window.showWarningMessage(message),
    },
    onDidChange: () => notifyChanged(),
  });
  /** Models, connections, state or numbers may have changed: tell every view. */
  function notifyChanged(): void {
    provider?.refresh();
    statusBar?.refresh();
    changed.fire();
    void checkTools();
    // The walkthrough ticks its steps from these, however the step was done (palette, status bar, panel).
    void vscode.commands.executeCommand('setContext', 'isartor.enabled', controller.enabled);
    void vscode.commands.executeCommand('setContext', 'isartor.hasProviderKey', controller.chatModels().length > 0);
    void vscode.commands.executeCommand('setContext', 'isartor.toolsConnected', controller.connectedToolIds().length > 0);
  }

  // Connected tools whose settings no longer go through Isartor; the status bar and panel say so.
  let lostTools: string[] = [];
  let checking = false;
  async function checkTools(): Promise<void> {
    if (checking) return;
    checking = true;
    try {
      await controller.adoptSuspendedTools();
      const lost = await controller.disconnectedTools();
      if (lost.join('\n') === lostTools.join('\n')) return;
      lostTools = lost;
      if (lost.length) logger.warn(`${lost.join(', ')} no longer go${lost.length === 1 ? 'es' : ''} through Isartor (settings changed back)`);
      statusBar?.refresh();
      changed.fire();
    } catch (error) {
      logger.error(`checking the connected tools failed: ${describeError(error)}`);
    } finally {
      checking = false;
    }
  }
  const toolCheck = setInterval(() => void checkTools(), 5_000);
  owner.addCallback(() => clearInterval(toolCheck));

  // While the proxy is off the panel shows the ledger as last written (read-only, never created).
  let storedSummary: LedgerSummary | undefined;
  async function readStoredSummary(): Promise<void> {
    if (host.proxy) return;
    try {
      const ledger = await openLedger(dataDirFor(context, currentSettings()), { readOnly: true, logger });
      storedSummary = ledger.summary();
      await ledger.close();
      changed.fire();
    } catch (error) {
      logger.debug(`no savings history to show: ${describeError(error)}`);
    }
  }
  owner.add(host.onDidChangeState(() => void readStoredSummary()));
  void readStoredSummary();

  statusBar = owner.add(
    new IsartorStatusBar(() => {
      const snapshot = host.snapshot;
      const stats = controller.stats();
      const summary = stats?.ledger;
      const sharedCacheProblem = stats?.store && !stats.store.available ? stats.store.detail : undefined;
      return { state: snapshot.state, proxyUrl: snapshot.url, error: snapshot.error, summary, disconnected: lostTools, sharedCacheProblem };
    }),
  );
  owner.add(host.onDidChangeState(() => notifyChanged()));
  // A layer switched or the caches cleared from the savings page in a browser: the panel and status bar follow.
  owner.add(host.onEngineStateChange(() => notifyChanged()));
  owner.add(
    host.onRecord(() => {
      statusBar?.refresh();
      changed.fire();
    }),
  );

  if (typeof vscode.lm?.registerLanguageModelChatProvider === 'function') {
    provider = new IsartorChatProvider({
      api: vscode,
      models: () => controller.chatModels(),
      routeUrl: (model) => controller.chatRouteUrl(model),
      state: context.globalState,
      logger,
      version,
    });
    owner.add(vscode.lm.registerLanguageModelChatProvider(LM_VENDOR, provider));
    setActiveChatProvider(provider);
    owner.addCallback(() => setActiveChatProvider(undefined));
  } else {
    logger.warn('this VS Code has no language-model provider API (needs 1.104+); Copilot Chat models are not offered');
  }

  const pageSource: PanelSource = {
    snapshot: () => buildPanelSnapshot({ host: host.snapshot, enabled: controller.enabled, stats: controller.stats(), storedSummary, disconnected: lostTools, settings: currentSettings() }),
    onDidChange: (listener) => changed.event(listener),
    clearCache: async () => void (await controller.clearCache()),
    setLayer: async (layer, enabled) => {
      const config = vscode.workspace.getConfiguration('isartor');
      // Back at its default, the switch leaves the user's settings.json instead of pinning the default there.
      await config.update(`layers.${layer}`, layerSettingValue(config.inspect<boolean>(`layers.${layer}`)?.defaultValue, enabled), vscode.ConfigurationTarget.Global);
    },
    setEnabled: async (enabled) => {
      await vscode.commands.executeCommand(enabled ? 'isartor.enable' : 'isartor.disable');
    },
    showLog: () => channel.show(true),
  };
  const savings = owner.add(new SavingsPanel(context.extensionUri, pageSource, logger));
  owner.add(vscode.window.registerWebviewViewProvider(SAVINGS_SIDEBAR_VIEW_ID, new SavingsViewProvider(context.extensionUri, pageSource, logger)));

  owner.add(
    registerCommands({
      controller,
      integrations: allIntegrations,
      keys,
      providers: () => currentSettings().providers,
      providersCustomised: () => currentSettings().providersCustomised,
      showSavings: () => savings.show(),
      showLog: () => channel.show(true),
      logger,
    }),
  );

  owner.add(registerStorePasswordCommand(context.secrets, () => controller.keysChanged()));
  owner.add(registerDownloadLocalModel({ storageDir: context.globalStorageUri.fsPath, restart: () => controller.restart(), logger }));
  owner.add(registerDownloadEmbeddingModel({ storageDir: context.globalStorageUri.fsPath, restart: () => controller.restart(), logger }));
  owner.add(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affects(event)) return;
      const layers = LAYER_SWITCHES.filter((layer: LayerSwitch) => affects(event, `layers.${layer}`));
      const restart = RESTART_KEYS.some((key) => affects(event, key));
      void controller.settingsChanged(layers, restart).catch((error: unknown) => logger.error(`applying settings failed: ${describeError(error)}`));
    }),
  );
  owner.add(
    context.secrets.onDidChange((event) => {
      if (!event.key.startsWith('isartor.apiKey.')) return;
      void controller.keysChanged().catch((error: unknown) => logger.error(`applying new keys failed: ${describeError(error)}`));
    }),
  );

  shutdown = async () => {
    shutdown = undefined;
    // No tool check may start while the tools are put back (the controller would also refuse it).
    clearInterval(toolCheck);
    // Restores the tools that hold the proxy's URL first (Continue, Claude Code, Codex files; Roo Code's profile): they must not point at a closed port.
    await controller.deactivate();
    owner.dispose((error) => logger.error(`dispose failed: ${describeError(error)}`));
  };

  void controller
    .activate()
    .catch((error: unknown) => logger.error(`activation failed: ${describeError(error)}`))
    .finally(() => notifyChanged());
}

/**
 * VS Code waits for the returned promise (a few seconds), so file-based tools are restored and the
 * proxy closes its port and stores before exit; the next activation connects the tools again.
 */
export function deactivate(): Promise<void> | undefined {
  return shutdown?.();
}
