/** Builds the savings panel's snapshot and the status bar's input from the proxy's stats report. */
import type { StatsReport } from '../../core/engine';
import type { LayerSwitchName, PanelSnapshot } from '../../../webview/protocol';
import { emptySummary, LAYER_SWITCH_NAMES } from '../../../webview/protocol';
import type { IsartorSettings } from '../config';
import type { HostSnapshot } from './proxyHost';

export const LAYER_SWITCH_LABELS: Record<LayerSwitchName, string> = {
  exact: 'L1a exact cache',
  semantic: 'L1b semantic cache',
  local: 'L2 local model',
  optimiser: 'L2.5 optimiser',
};

export interface SnapshotInput {
  host: HostSnapshot;
  enabled: boolean;
  /** Undefined while the proxy is not running. */
  stats?: StatsReport;
  settings: Pick<IsartorSettings, 'layers'>;
}

/**
 * The panel's view of things. Layer switches show the engine's live state when it runs (a layer
 * the engine does not have yet still shows the user's setting).
 *
 * @example buildPanelSnapshot({ host: { state: 'off' }, enabled: false, settings }).cache // null
 */
export function buildPanelSnapshot(input: SnapshotInput): PanelSnapshot {
  const { host, stats } = input;
  const snapshot: PanelSnapshot = {
    state: host.state,
    enabled: input.enabled,
    summary: stats?.ledger ?? emptySummary(),
    layers: LAYER_SWITCH_NAMES.map((name) => {
      const live = stats?.layers[name];
      const view: PanelSnapshot['layers'][number] = { name, label: LAYER_SWITCH_LABELS[name], enabled: live?.enabled ?? input.settings.layers[name] };
      if (live?.detail) view.detail = live.detail;
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
