/**
 * The typed message protocol between the savings panel (webview) and the extension host. Both sides
 * import this file; it holds no `vscode` and no DOM code. Three kinds of message: commands
 * (webview → host, no answer), requests (webview → host, typed response) and notifications
 * (host → webview).
 */
import type { LedgerSummary } from '../src/core/ledger-types';

/** The state of the embedded proxy, as the panel shows it. */
export type PanelState = 'off' | 'starting' | 'on' | 'error';

/** The layers a user can switch on and off from the panel (engine layer ids). */
export type LayerSwitchName = 'exact' | 'semantic' | 'local' | 'optimiser';
export const LAYER_SWITCH_NAMES: readonly LayerSwitchName[] = ['exact', 'semantic', 'local', 'optimiser'];

export interface LayerSwitchView {
  name: LayerSwitchName;
  label: string;
  enabled: boolean;
  /** The engine's one-line state for the layer, e.g. "idle: no model configured". */
  detail?: string;
}

/** Everything the panel renders, sent whole: small (at most 100 recent records) and simple to apply. */
export interface PanelSnapshot {
  state: PanelState;
  /** Whether the user has Isartor enabled (persisted), independent of the proxy's state. */
  enabled: boolean;
  proxyUrl?: string;
  error?: string;
  /** Every request counted so far; read from disk while the proxy is not running. */
  summary: LedgerSummary;
  /** What the requests that reached the cloud cost (estimated from the price table). */
  spentUsd: number;
  /** Tools Isartor connected whose settings no longer go through it (labels). */
  disconnected: string[];
  layers: LayerSwitchView[];
  /** Entries and bytes of the answer caches; null while the proxy is not running. */
  cache: { entries: number; bytes: number } | null;
}

/** A message on the wire. `id` is unique per sender; a response names the request in `completionId`. */
export interface IpcMessage<Params = unknown> {
  id: string;
  method: string;
  params: Params;
  completionId?: string;
}

/** webview → host, fire and forget. */
export class IpcCommand<Params> {
  readonly kind = 'command';
  declare readonly params: Params;
  constructor(readonly method: string) {}
}

/** webview → host, answered by exactly one `ResponseMessage` with the same `completionId`. */
export class IpcRequest<Params, Response> {
  readonly kind = 'request';
  declare readonly params: Params;
  declare readonly response: Response;
  constructor(readonly method: string) {}
}

/** host → webview. */
export class IpcNotification<Params> {
  readonly kind = 'notification';
  declare readonly params: Params;
  constructor(readonly method: string) {}
}

// --- commands (webview → host) ---

/** Webview → host: empty the exact and semantic caches. */
export const ClearCacheCommand = new IpcCommand<Record<string, never>>('isartor/clearCache');
/** Webview → host: switch one layer on or off (persisted in the user's settings). */
export const SetLayerCommand = new IpcCommand<{ layer: LayerSwitchName; enabled: boolean }>('isartor/setLayer');
/** Webview → host: run Enable or Disable. */
export const SetEnabledCommand = new IpcCommand<{ enabled: boolean }>('isartor/setEnabled');
/** Webview → host: reveal the "Isartor" log. */
export const ShowLogCommand = new IpcCommand<Record<string, never>>('isartor/showLog');

// --- requests (webview → host, with a response) ---

/** Webview → host: the current snapshot; sent once the panel's script has loaded. */
export const GetSnapshotRequest = new IpcRequest<Record<string, never>, PanelSnapshot>('isartor/getSnapshot');

/** Host → webview: the answer to a request. */
export const ResponseMethod = 'isartor/response';
export type ResponseParams<R> = { ok: true; value: R } | { ok: false; error: string };

// --- notifications (host → webview) ---

/** Host → webview: a new snapshot (state change, new ledger records; throttled by the host). */
export const SnapshotNotification = new IpcNotification<PanelSnapshot>('isartor/snapshot');

/** Builds a message of `type` with `params`. */
export function createMessage<P>(type: IpcCommand<P> | IpcRequest<P, unknown> | IpcNotification<P>, id: string, params: P): IpcMessage<P> {
  return { id, method: type.method, params };
}

/** True when `message` is of `type` (narrowing its params). Validate first with `parseWebviewMessage`. */
export function isMessageOf<P>(message: IpcMessage, type: IpcCommand<P> | IpcRequest<P, unknown> | IpcNotification<P>): message is IpcMessage<P> {
  return message.method === type.method;
}

const PARAM_CHECKS: Record<string, (params: Record<string, unknown>) => boolean> = {
  [ClearCacheCommand.method]: () => true,
  [ShowLogCommand.method]: () => true,
  [GetSnapshotRequest.method]: () => true,
  [SetLayerCommand.method]: (params) => LAYER_SWITCH_NAMES.includes(params.layer as LayerSwitchName) && typeof params.enabled === 'boolean',
  [SetEnabledCommand.method]: (params) => typeof params.enabled === 'boolean',
};

/**
 * Validates a message from the webview. The webview is untrusted input like any other: anything
 * that is not one of the known methods with well-formed params is rejected (undefined).
 */
export function parseWebviewMessage(raw: unknown): IpcMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const message = raw as Record<string, unknown>;
  if (typeof message.id !== 'string' || message.id.length === 0 || message.id.length > 100) return undefined;
  if (typeof message.method !== 'string') return undefined;
  const check = Object.prototype.hasOwnProperty.call(PARAM_CHECKS, message.method) ? PARAM_CHECKS[message.method] : undefined;
  const params = message.params ?? {};
  if (!check || typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  if (!check(params as Record<string, unknown>)) return undefined;
  return { id: message.id, method: message.method, params };
}

/** An empty ledger summary, for a panel whose proxy has never run. */
export function emptySummary(): LedgerSummary {
  const zero = { requests: 0, deflected: 0, failed: 0, inputTokens: 0, outputTokens: 0, savedTokens: 0, savedUsd: 0, spentUsd: 0, estimated: 0, unpriced: 0, spentMissing: 0 };
  return { totals: { ...zero }, byLayer: {}, byTool: {}, byModel: {}, byDay: {}, semanticRejected: {}, recent: [] };
}
