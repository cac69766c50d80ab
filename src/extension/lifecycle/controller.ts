/**
 * What Enable, Disable and Connect Tools do: start the proxy, point tools at it, re-point them when
 * the proxy moves, restore them exactly when turned off or when VS Code closes. Free of `vscode`;
 * the shell injects the UI.
 */
import type { EngineConfig } from '../../core/config';
import type { StatsReport } from '../../core/engine';
import type { Logger } from '../../core/logger';
import type { ChatModelEntry } from '../chatModels';
import { resolveChatModels } from '../chatModels';
import type { IsartorSettings, LayerSwitch } from '../config';
import { toEngineConfig, toUpstreamTarget } from '../config';
import type { Integration, IntegrationContext } from '../integrations/integration';
import { describeError } from '../log';
import type { PersistentRouteRegistry, RouteMemento } from '../routes';
import type { ProviderKeys } from '../secrets';
import { ConnectedTools, toolStateFile } from './connectedTools';
import type { EmbeddedProxy, ProxyHost } from './proxyHost';
import { SerialQueue } from './serialQueue';

export { CONNECTED_TOOLS_KEY, SUSPENDED_TOOLS_KEY } from './connectedTools';
export const ENABLED_KEY = 'isartor.enabled';
export const LAST_URL_KEY = 'isartor.lastProxyUrl';

/** The few things the controller asks of the editor's UI. */
export interface ControllerUi {
  /** One notification for a failed start; resolves with the button the user chose. */
  startFailed(message: string): Thenable<'retry' | 'log' | undefined>;
  showLog(): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface ControllerDeps<P extends EmbeddedProxy> {
  state: RouteMemento;
  settings(): IsartorSettings;
  /** The data folder for these settings (workspace storage or global storage). */
  dataDir(settings: IsartorSettings): string;
  /** This window's own data folder (workspace storage), when it has one (a folder is open). */
  windowDataDir?(): string | undefined;
  keys: ProviderKeys;
  host: ProxyHost<P>;
  routes: PersistentRouteRegistry;
  integrations(): Integration[];
  /** The restore journal's folder (global storage); the connected-tools file lives there too. */
  journalDir: string;
  /** The integration context for a proxy URL (home folder, journal folder, routes, logger). */
  integrationContext(proxyUrl: string): IntegrationContext;
  reconcileJournal(ctx: IntegrationContext): Promise<unknown>;
  /** Whether an Isartor proxy answers at a URL (see `isIsartorAt`). */
  isIsartorAt(url: string): Promise<boolean>;
  ui: ControllerUi;
  logger: Logger;
  /** Called when anything the UI shows may have changed (models, connections). */
  onDidChange(): void;
}

/**
 * The extension's state machine. `enabled` persists in globalState: on activation an enabled
 * Isartor starts its proxy again, connects the file-based tools its last deactivation restored,
 * and, if the proxy had to move to another port, re-points the tools it connected.
 *
 * The operations that start, stop or connect (activate, enable, disable, toggle, settings and
 * key changes, restart, the periodic tool check, deactivate) run one at a time: a Disable clicked
 * while Enable connects, or VS Code closing meanwhile, would otherwise leave tools pointing at a
 * stopped proxy. Inside them only the private methods are called, never the public ones (a queued
 * operation waiting for another queued one would wait forever).
 */
export class IsartorController<P extends EmbeddedProxy> {
  private keys = new Map<string, string>();
  /** Per-proxy routes for the chat models' providers (carry the provider's key; never persisted). */
  private chatRoutes = new Map<string, string>();
  private readonly tools: ConnectedTools;
  private readonly queue = new SerialQueue();
  /** Set as deactivate() is called: no operation connects a tool or starts a proxy after it. */
  private closing = false;

  constructor(private readonly deps: ControllerDeps<P>) {
    this.tools = new ConnectedTools(toolStateFile(deps.journalDir), deps.state);
  }

  get enabled(): boolean {
    return this.deps.state.get<boolean>(ENABLED_KEY) === true;
  }

  /**
   * Activation: finish any restore a crash interrupted, then start again if the user had Isartor
   * on and connect the tools the last deactivation restored. A proxy that cannot start leaves no
   * tool pointing at it (after a crash the files still point at the old port: they are restored).
   */
  activate(): Promise<void> {
    return this.serial(() => this.activateNow(), () => undefined);
  }

  private async activateNow(): Promise<void> {
    await this.refreshKeys();
    try {
      await this.deps.reconcileJournal(this.context());
    } catch (error) {
      this.deps.logger.error(`restore journal could not be reconciled: ${describeError(error)}`);
    }
    if (this.enabled) await this.startAndResume();
    else await this.finishInterruptedDisable();
  }

  /**
   * VS Code is closing this window: put the tools that hold the proxy's URL back exactly (Claude
   * Code in a terminal, Roo Code in a window without Isartor, must not point at a dead port),
   * then stop the proxy. They stay marked for the next activation. Never throws: deactivate has
   * only a few seconds.
   * Operations already queued or running stop connecting tools at once; later ones do nothing.
   */
  deactivate(): Promise<void> {
    this.closing = true;
    return this.queue.run(() => this.shutdown());
  }

  private async shutdown(): Promise<void> {
    try {
      const proxy = this.deps.host.proxy;
      // Only the window whose proxy the tools point at restores them; another window's tools are its own.
      if (proxy && this.deps.state.get<string>(LAST_URL_KEY) === proxy.url) await this.suspendTools();
    } catch (error) {
      this.deps.logger.error(`could not restore tools on shutdown: ${describeError(error)}`);
    }
    await this.stop();
  }

  /** Starts the proxy and connects every detected tool. False when the proxy could not start. */
  enable(): Promise<boolean> {
    return this.serial(() => this.enableNow(), () => false);
  }

  private async enableNow(): Promise<boolean> {
    await this.deps.state.update(ENABLED_KEY, true);
    // Retry after a failed start means "Enable again", so the tools get connected too.
    if (!(await this.start(() => this.enable()))) return false;
    if (this.closing) return false;
    // This window writes the tools' URLs now, so it is the one that must restore them on close.
    await this.takeOwnership();
    const connected: string[] = [];
    let copilotWaits = false;
    for (const integration of this.deps.integrations()) {
      // VS Code is closing: deactivate (queued behind this) restores what was connected so far.
      if (this.closing) return false;
      const ctx = this.context();
      try {
        const detection = await integration.detect(ctx);
        if (detection.state !== 'available' && detection.state !== 'connected') continue;
        await integration.connect(ctx);
        this.tools.mark(integration.id, true);
        // Copilot only sees Isartor's models once a provider has a key; until then it is not "connected" in any useful sense.
        if (integration.id === 'copilot' && this.chatModels().length === 0) copilotWaits = true;
        else connected.push(integration.label);
      } catch (error) {
        this.deps.logger.error(`could not connect ${integration.label}: ${describeError(error)}`);
        this.deps.ui.warn(`Isartor could not connect ${integration.label}: ${describeError(error)}`);
      }
    }
    const waiting = copilotWaits ? ' Copilot Chat gets Isartor models once a provider key is set ("Isartor: Set Provider API Key…").' : '';
    this.deps.ui.info(connected.length ? `Isartor is on. Connected: ${connected.join(', ')}.${waiting}` : `Isartor is on. No tools were found to connect; see "Isartor: Connect Tools…".${waiting}`);
    this.deps.onDidChange();
    return true;
  }

  /** Restores every connected tool exactly, then stops the proxy. */
  disable(): Promise<void> {
    return this.serial(() => this.disableNow(), () => undefined);
  }

  private async disableNow(): Promise<void> {
    await this.deps.state.update(ENABLED_KEY, false);
    const failures: string[] = [];
    for (const integration of [...this.deps.integrations()].reverse()) {
      if (!(await this.isConnected(integration)) && !this.tools.suspended().includes(integration.id)) continue;
      try {
        await this.disconnect(integration);
      } catch (error) {
        failures.push(integration.label);
        this.deps.logger.error(`could not restore ${integration.label}: ${describeError(error)}`);
      }
    }
    await this.stop();
    if (failures.length) this.deps.ui.warn(`Isartor is off, but could not restore ${failures.join(', ')}. See the log.`);
    else this.deps.ui.info('Isartor is off. Every tool is back as it was.');
    this.deps.onDidChange();
  }

  /** Connects or disconnects one tool (Connect Tools… pick). Returns its new state. */
  toggle(integration: Integration): Promise<'connected' | 'disconnected'> {
    return this.serial(() => this.toggleNow(integration), () => {
      throw new Error('VS Code is closing');
    });
  }

  private async toggleNow(integration: Integration): Promise<'connected' | 'disconnected'> {
    // What the files say now, not what was marked: a tool whose files were put back (by hand, or
    // by a shutdown whose bookkeeping was lost) is connected by this pick, as the pick promised.
    if (await this.pointsAtIsartor(integration)) {
      await this.disconnect(integration);
      this.deps.onDidChange();
      return 'disconnected';
    }
    if (!this.deps.host.proxy && !(await this.enableProxyOnly())) throw new Error('the proxy is not running');
    if (this.closing) throw new Error('VS Code is closing');
    // Connecting here makes this window the tools' owner: the others follow, so one window restores them all on close.
    const previous = await this.takeOwnership();
    if (previous !== undefined) await this.repoint(previous, this.deps.host.proxy!.url);
    await integration.connect(this.context());
    this.tools.mark(integration.id, true);
    this.deps.onDidChange();
    return 'connected';
  }

  /** Settings changed: layer switches apply live; anything else restarts a running proxy. */
  settingsChanged(changedLayers: readonly LayerSwitch[], needsRestart: boolean): Promise<void> {
    return this.serial(async () => {
      const proxy = this.deps.host.proxy;
      const settings = this.deps.settings();
      if (needsRestart) await this.refreshKeys();
      if (proxy) for (const layer of changedLayers) this.applyLayer(proxy, layer, settings.layers[layer]);
      if (needsRestart) await this.restartNow();
      this.deps.onDidChange();
    }, () => undefined);
  }

  /** Keys changed in the secret store: reload them and restart so the engine uses them. */
  keysChanged(): Promise<void> {
    return this.serial(async () => {
      await this.refreshKeys();
      await this.restartNow();
      this.deps.onDidChange();
    }, () => undefined);
  }

  restart(): Promise<void> {
    return this.serial(() => this.restartNow(), () => undefined);
  }

  private async restartNow(): Promise<void> {
    if (!this.deps.host.proxy) return;
    await this.stop();
    await this.start();
  }

  /**
   * Empties the caches. Whoever asked (palette, status-bar menu, panel), the views hear of it
   * through `onDidChange` like any other change, so an open panel drops the old figures; also
   * after a clear that failed part-way, since some caches may be empty by then.
   */
  async clearCache(): Promise<boolean> {
    const proxy = this.deps.host.proxy;
    if (!proxy) return false;
    try {
      await proxy.clearCaches();
    } finally {
      this.deps.onDidChange();
    }
    return true;
  }

  async setLayer(layer: LayerSwitch, on: boolean): Promise<void> {
    const proxy = this.deps.host.proxy;
    if (proxy) this.applyLayer(proxy, layer, on);
  }

  /** Flips a layer the running engine has; a layer this engine build lacks keeps only the setting. */
  private applyLayer(proxy: P, layer: LayerSwitch, on: boolean): void {
    if (layer in proxy.stats().layers) proxy.setLayerEnabled(layer, on);
    else this.deps.logger.info(`layer "${layer}" is not part of this engine; the setting applies when it is`);
  }

  stats(): StatsReport | undefined {
    return this.deps.host.proxy?.stats();
  }

  /** Models for the language-model provider: configured ones whose provider has a key. */
  chatModels(): ChatModelEntry[] {
    const settings = this.deps.settings();
    return resolveChatModels(settings.providers, settings.models, (provider) => this.keys.has(provider.name));
  }

  /** `http://127.0.0.1:PORT/r/<id>` forwarding to the model's provider with its key; undefined while stopped. */
  chatRouteUrl(model: ChatModelEntry): string | undefined {
    const proxy = this.deps.host.proxy;
    const key = this.keys.get(model.provider.name);
    if (!proxy || !key) return undefined;
    let id = this.chatRoutes.get(model.provider.name);
    if (!id) {
      id = proxy.addRoute({ providers: [toUpstreamTarget(model.provider, key)], tool: 'copilot' }).id;
      this.chatRoutes.set(model.provider.name, id);
    }
    return `${proxy.url}/r/${id}`;
  }

  /** The integration context for the running proxy (or the last URL it had). */
  context(): IntegrationContext {
    const url = this.deps.host.proxy?.url ?? this.deps.state.get<string>(LAST_URL_KEY) ?? `http://127.0.0.1:${this.deps.settings().port}`;
    return this.deps.integrationContext(url);
  }

  /**
   * Connects the suspended tools when nobody serves them: after a reload the new window's proxy may
   * start while the old one still holds the port, so the tools stay with the old URL, and then the
   * old window's shutdown restores them. Called periodically; cheap when there is nothing to do.
   */
  adoptSuspendedTools(): Promise<void> {
    return this.serial(() => this.adoptNow(), () => undefined);
  }

  private async adoptNow(): Promise<void> {
    const proxy = this.deps.host.proxy;
    if (!proxy || !this.enabled) return;
    const suspended = this.tools.suspended().length > 0;
    const lastUrl = this.deps.state.get<string>(LAST_URL_KEY);
    if (lastUrl !== proxy.url) {
      if (!suspended && this.tools.connected().length === 0) return;
      if (lastUrl && (await this.deps.isIsartorAt(lastUrl))) return;
      // The owner closed (its tools are suspended) or crashed (they point at its dead port).
      this.deps.logger.info(`the proxy at ${lastUrl ?? '(none)'} is gone; connecting its tools to ${proxy.url}`);
      await this.takeOwnership();
    }
    // Tools a user put back by hand are connected again only along with suspended ones, as at startup.
    await this.resumeTools({ reverted: suspended, quiet: true });
  }

  /** Ids of the tools marked connected (for the walkthrough's "connect your tools" step). */
  connectedToolIds(): string[] {
    return this.tools.connected();
  }

  /**
   * Labels of the tools this window connected whose settings no longer go through Isartor (the
   * user edited them back, or a restore happened without a reconnect). Empty while the proxy is
   * off or while another window's proxy serves the tools.
   */
  async disconnectedTools(): Promise<string[]> {
    const proxy = this.deps.host.proxy;
    if (!proxy || this.deps.state.get<string>(LAST_URL_KEY) !== proxy.url) return [];
    const marked = this.tools.connected();
    const lost: string[] = [];
    for (const integration of this.deps.integrations()) {
      if (marked.includes(integration.id) && !(await this.pointsAtIsartor(integration))) lost.push(integration.label);
    }
    return lost;
  }

  /** Whether the tool's settings point at Isartor now (the mark when they cannot be read). */
  private async pointsAtIsartor(integration: Integration): Promise<boolean> {
    return (await this.pointing(integration)) !== 'no';
  }

  /** Where the tool's settings point: at this proxy, at another Isartor URL (moved or gone), or not at Isartor. */
  private async pointing(integration: Integration): Promise<'here' | 'elsewhere' | 'no'> {
    try {
      const detection = await integration.detect(this.context());
      if (detection.state !== 'connected') return 'no';
      return detection.elsewhere ? 'elsewhere' : 'here';
    } catch {
      return this.tools.connected().includes(integration.id) ? 'here' : 'no';
    }
  }

  async isConnected(integration: Integration): Promise<boolean> {
    if (this.tools.connected().includes(integration.id)) return true;
    try {
      return (await integration.detect(this.context())).state === 'connected';
    } catch {
      return false;
    }
  }

  /** Builds the engine configuration the proxy would start with now. */
  engineConfig(): EngineConfig {
    const settings = this.deps.settings();
    return toEngineConfig(settings, this.deps.dataDir(settings), this.keys);
  }

  /** Starts the proxy and connects the suspended tools; restores the connected ones if it cannot start. */
  private async startAndResume(): Promise<boolean> {
    if (await this.start(() => this.serial(() => this.startAndResume(), () => false))) {
      if (this.closing) return true;
      await this.resumeTools();
      return true;
    }
    // Tools may still point at the port of a proxy that crashed; unless another window's Isartor serves them, restore them.
    const lastUrl = this.deps.state.get<string>(LAST_URL_KEY);
    if (!lastUrl || !(await this.deps.isIsartorAt(lastUrl))) await this.suspendTools();
    return false;
  }

  /** Restores every connected tool that holds the proxy's URL (those with `suspend`), keeping it marked for the next start. */
  private async suspendTools(): Promise<void> {
    const ctx = this.context();
    for (const integration of [...this.deps.integrations()].reverse()) {
      if (!integration.suspend || !this.tools.connected().includes(integration.id)) continue;
      try {
        await integration.suspend(ctx);
        this.tools.suspend(integration.id);
      } catch (error) {
        this.deps.logger.error(`could not restore ${integration.label} while Isartor is stopped: ${describeError(error)}`);
      }
    }
  }

  /**
   * Connects again the tools a shutdown restored, when this window's proxy is the one they use,
   * and re-points marked tools left on another Isartor URL (a port that moved, a window that
   * crashed). With `reverted`, a file-based tool still marked connected whose files were put
   * back anyway (a shutdown of an older version lost its bookkeeping) is connected again too.
   * `quiet` (the periodic check) logs failures instead of notifying every few seconds.
   */
  private async resumeTools(options: { reverted: boolean; quiet?: boolean } = { reverted: true }): Promise<void> {
    if (this.deps.state.get<string>(LAST_URL_KEY) !== this.deps.host.proxy?.url) return;
    const suspended = this.tools.suspended();
    const connected = this.tools.connected();
    let changed = false;
    for (const integration of this.deps.integrations()) {
      if (this.closing) return;
      let wanted = suspended.includes(integration.id);
      if (!wanted && connected.includes(integration.id)) {
        const pointing = await this.pointing(integration);
        wanted = pointing === 'elsewhere' || (options.reverted && integration.suspend !== undefined && pointing === 'no');
      }
      if (!wanted) continue;
      try {
        await integration.connect(this.context());
        this.tools.mark(integration.id, true);
        changed = true;
      } catch (error) {
        this.deps.logger.error(`could not connect ${integration.label} again: ${describeError(error)}`);
        if (!options.quiet) this.deps.ui.warn(`Isartor could not connect ${integration.label} again: ${describeError(error)}`);
      }
    }
    if (changed || !options.quiet) this.deps.onDidChange();
  }

  /** Isartor is off but tools are still marked (a crash during Disable): restore those that hold the proxy's URL. */
  private async finishInterruptedDisable(): Promise<void> {
    const marked = new Set([...this.tools.connected(), ...this.tools.suspended()]);
    for (const integration of this.deps.integrations()) {
      if (!integration.suspend || !marked.has(integration.id)) continue;
      try {
        await this.disconnect(integration);
      } catch (error) {
        this.deps.logger.error(`could not restore ${integration.label}: ${describeError(error)}`);
      }
    }
  }

  private async enableProxyOnly(): Promise<boolean> {
    await this.deps.state.update(ENABLED_KEY, true);
    return this.start();
  }

  /**
   * Starts the proxy; on failure shows one notification whose Retry runs `retry` (a queued
   * operation: the notification outlives the one that failed).
   */
  private async start(retry: () => Promise<unknown> = () => this.serial(() => this.start(), () => false)): Promise<boolean> {
    const settings = this.deps.settings();
    for (const problem of settings.problems) this.deps.logger.warn(`settings: ${problem}`);
    const running = this.deps.host.proxy;
    let proxy: P;
    try {
      proxy = await this.startHost(settings);
    } catch (error) {
      void this.deps.ui.startFailed(startFailure(error)).then((choice) => {
        if (choice === 'retry') void retry();
        if (choice === 'log') this.deps.ui.showLog();
      });
      this.deps.onDidChange();
      return false;
    }
    if (proxy === running) return true;
    this.chatRoutes.clear();
    // The layer switches came in with the engine configuration; routes are re-added with their old ids.
    this.deps.routes.attach(proxy);
    const lastUrl = this.deps.state.get<string>(LAST_URL_KEY);
    if (lastUrl && lastUrl !== proxy.url && (await this.deps.isIsartorAt(lastUrl))) {
      // Another window's Isartor serves the tools' URL (globalState is shared by all windows);
      // re-pointing them here would strand them when this window closes first.
      this.deps.logger.info(`another Isartor serves ${lastUrl}; connected tools stay pointed there, this window uses ${proxy.url}`);
    } else {
      await this.deps.state.update(LAST_URL_KEY, proxy.url);
      if (lastUrl && lastUrl !== proxy.url) await this.repoint(lastUrl, proxy.url);
    }
    this.deps.onDidChange();
    return true;
  }

  /**
   * Makes this window's proxy the one the tools use (LAST_URL_KEY) and installs the routes other
   * windows stored since it started. Returns the previous owner's URL, or undefined when this
   * window owned them already.
   */
  private async takeOwnership(): Promise<string | undefined> {
    const proxy = this.deps.host.proxy;
    const previous = this.deps.state.get<string>(LAST_URL_KEY);
    if (!proxy || previous === proxy.url) return undefined;
    await this.deps.state.update(LAST_URL_KEY, proxy.url);
    this.deps.routes.attach(proxy);
    return previous ?? '(none)';
  }

  /**
   * Starts the host. Global storage (or no folder open) is one folder for every window, and its
   * store opens in one process only: a second window then uses its workspace storage if it has one.
   */
  private async startHost(settings: IsartorSettings): Promise<P> {
    const config = this.engineConfig();
    try {
      return (await this.deps.host.start(config)).proxy;
    } catch (error) {
      const own = this.deps.windowDataDir?.();
      if (!isStoreLocked(error) || !own || own === config.dataDir) throw error;
      this.deps.logger.warn(`another VS Code window has Isartor's ${settings.storage} storage open; this window uses its workspace storage (${own})`);
      return (await this.deps.host.start({ ...config, dataDir: own })).proxy;
    }
  }

  private async stop(): Promise<void> {
    this.deps.routes.detach();
    this.chatRoutes.clear();
    await this.deps.host.stop();
  }

  /** The proxy moved (port taken or changed): connect every connected tool again with the new URL. */
  private async repoint(from: string, to: string): Promise<void> {
    this.deps.logger.info(`proxy moved from ${from} to ${to}; re-pointing connected tools`);
    for (const integration of this.deps.integrations()) {
      if (!this.tools.connected().includes(integration.id)) continue;
      try {
        await integration.connect(this.context());
      } catch (error) {
        this.deps.logger.error(`could not re-point ${integration.label}: ${describeError(error)}`);
        this.deps.ui.warn(`Isartor moved to ${to} but could not re-point ${integration.label}. See the log.`);
      }
    }
  }

  private async disconnect(integration: Integration): Promise<void> {
    const ctx = this.context();
    await integration.disconnect(ctx);
    await ctx.routes.releaseRoutes(integration.id);
    this.tools.mark(integration.id, false);
  }

  /** Runs `task` after the operations queued before it; once VS Code is closing, `whenClosing` instead. */
  private serial<T>(task: () => Promise<T>, whenClosing: () => T): Promise<T> {
    return this.queue.run(async () => (this.closing ? whenClosing() : task()));
  }

  private async refreshKeys(): Promise<void> {
    this.keys = await this.deps.keys.all(this.deps.settings().providers);
  }
}

/** The store's lock is held (by another window's extension host, or by `isartor serve`). */
function isStoreLocked(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'StoreLockedError' || /already open in process/.test(describeError(error));
}

/** The start failure as the notification says it: a held store gets what to do about it. */
function startFailure(error: unknown): string {
  if (!isStoreLocked(error)) return describeError(error);
  return `${describeError(error)}. Another VS Code window (or "isartor serve") uses the same storage: close it, open a folder in this window, or set "isartor.storage" to "workspace" so each workspace has its own.`;
}
