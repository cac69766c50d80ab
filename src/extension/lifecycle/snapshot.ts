/** Builds the savings panel's snapshot and the status bar's input from the proxy's stats report. */
import type { StatsReport } from '../../core/engine';
import type { LedgerSummary } from '../../core/ledger-types';
import type { LayerSwitchName, PanelSnapshot } from '../../../webview/protocol';
import { emptySummary, LAYER_SWITCH_NAMES } from '../../../webview/protocol';
import { SWITCH_LABELS } from '../../shared/format';
import type { IsartorSettings } from '../config';
import type { HostSnapshot } from './proxyHost';

export const LAYER_SWITCH_LABELS: Record<LayerSwitchName, string> = SWITCH_LABELS;

export interface SnapshotInput {
  host: HostSnapshot;
  enabled: boolean;
  /** Undefined while the proxy is not running. */
  stats?: StatsReport;
  /** The ledger as last written to disk: what the panel shows while the proxy is not running. */
  storedSummary?: LedgerSummary;
  /** Labels of connected tools whose settings no longer go through Isartor. */
  disconnected?: string[];
  settings: Pick<IsartorSettings, 'layers' | 'prices'>;
}

/**
 * The panel's view of things. Layer switches show the engine's live state when it runs (a layer
 * the engine does not have yet still shows the user's setting).
 *
 * @example buildPanelSnapshot({ host: { state: 'off' }, enabled: false, settings }).cache // null
 */
export function buildPanelSnapshot(input: SnapshotInput): PanelSnapshot {
  const { host, stats } = input;
  const summary = stats?.ledger ?? input.storedSummary ?? emptySummary();
  const snapshot: PanelSnapshot = {
    state: host.state,
    enabled: input.enabled,
    summary,
    // What the cloud billed, summed from the records (each priced when it was recorded).
    spentUsd: summary.totals.spentUsd ?? 0,
    disconnected: input.disconnected ?? [],
    layers: LAYER_SWITCH_NAMES.map((name) => {
      const live = stats?.layers[name];
      const view: PanelSnapshot['layers'][number] = { name, label: LAYER_SWITCH_LABELS[name], enabled: live?.enabled ?? input.settings.layers[name] };
      if (live?.detail) view.detail = plainDetail(live.detail);
      else if (stats && !live) view.detail = 'not part of this engine build';
      return view;
    }),
    cache: stats ? totalCache(stats.caches) : null,
  };
  if (host.url) snapshot.proxyUrl = host.url;
  if (host.error) snapshot.error = host.error;
  return snapshot;
}

function totalCache(caches: StatsReport['caches']): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  for (const cache of Object.values(caches)) {
    entries += cache.entries;
    bytes += cache.bytes;
  }
  return { entries, bytes };
}

/**
 * The engine's one-line layer state in words a user reads: internal ids ("lexical-v1-d128-b0.5")
 * and option lists ("cacheHints, whitespace, htmlComments") are replaced by what they mean.
 *
 * @example plainDetail('embedder lexical-v1-d128-b0.5, 12 entries') // "built-in word matching, 12 entries"
 */
export function plainDetail(detail: string): string {
  return detail
    .replace(/\blexical-v\d+[a-z0-9.-]*/gi, 'built-in word matching')
    .replace(/\btransformers:(?:dir:)?([^\s,;]+)/gi, (_, model: string) => `model ${model.split(/[\\/]/).filter(Boolean).at(-1) ?? model}`)
    .replace(/\bthreshold (0?\.\d+|1)\b/g, (_, value: string) => `matches at ${Math.round(Number(value) * 100)}% similarity`)
    .replace(/\bcacheHints\b/g, 'adds prompt-cache hints')
    .replace(/\bhtmlComments\b/g, 'drops HTML comments')
    .replace(/\bwhitespace\b/g, 'trims extra whitespace')
    .replace(/\bdedupeBlocks\b/g, 'drops repeated blocks')
    .replace(/^on: /, '');
}
