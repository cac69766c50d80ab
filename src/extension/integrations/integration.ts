/**
 * The contract every tool integration implements (Continue, Claude Code, Roo Code, Cline, Copilot).
 * File-editing integrations take plain paths so their tests run in Node without VS Code.
 */
import type { Logger } from '../../core/logger';
import type { ProviderKind } from '../../core/request';

/** Where a tool sent its requests before Isartor, and in which API style. */
export interface RouteTarget {
  baseUrl: string;
  kind: ProviderKind;
  /** The integration asking, e.g. "continue". */
  tool: string;
}

/** Creates and forgets proxy routes; the shell persists them so route URLs survive restarts. */
export interface RouteRegistry {
  /** A route id forwarding to `target`; the same target and tool get the same id back. */
  ensureRoute(target: RouteTarget): Promise<string>;
  releaseRoutes(tool: string): Promise<void>;
}

export interface IntegrationContext {
  /** e.g. http://127.0.0.1:8787 (no trailing slash). */
  proxyUrl: string;
  routes: RouteRegistry;
  /** The user's home folder; tests point it at a temporary folder. */
  homeDir: string;
  /** Folder of the extension's global storage, where the restore journal lives. */
  journalDir: string;
  logger: Logger;
}

export type ToolState = 'not-installed' | 'available' | 'connected' | 'manual';

export interface Detection {
  state: ToolState;
  /** One line for the Connect quick pick, e.g. "~/.continue/config.yaml: 2 models". */
  detail: string;
  /**
   * Connected, but to an Isartor URL other than `ctx.proxyUrl` (a proxy that moved, or another
   * window's that may have closed): `connect` points it at `ctx.proxyUrl` again.
   */
  elsewhere?: boolean;
  /** Copy-ready values for tools Isartor does not edit (Cline). */
  copyValues?: { label: string; value: string }[];
}

export interface Integration {
  readonly id: 'copilot' | 'continue' | 'cline' | 'roo' | 'claude' | 'codex';
  readonly label: string;
  detect(ctx: IntegrationContext): Promise<Detection>;
  /** Points the tool at the proxy. Idempotent. Writes a journal entry before touching any file. */
  connect(ctx: IntegrationContext): Promise<void>;
  /** Restores the tool exactly as it was (or removes only Isartor's keys if the user edited since). */
  disconnect(ctx: IntegrationContext): Promise<void>;
  /**
   * For tools whose settings hold the proxy's URL (Continue, Claude Code, Codex, Roo Code): puts
   * them back as the journal says the user had them, like `disconnect`, but keeps the tool's
   * routes, so `connect` after the next start points it at the same routes again. Called when the
   * owning window closes or the proxy cannot start, so a tool used meanwhile (in a terminal, or in
   * a window without Isartor) never points at a proxy that is gone. Copilot reaches Isartor in
   * process, holds no URL, and leaves this out.
   */
  suspend?(ctx: IntegrationContext): Promise<void>;
}
