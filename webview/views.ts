/**
 * Renders the savings panel's sections from a snapshot: header, totals, layer switches, cache,
 * per-tool and per-model tables and the latest requests. Charts live in charts.ts.
 */
import type { LedgerTotals } from '../src/core/ledger-types';
import { answeredRequests, deflectionRate, formatCount, formatUsd, formatUsdEstimated, LAYER_LABELS, LAYER_TAGS, moneyNotes, savedShare } from '../src/shared/format';
import { h, replaceChildren, table } from './dom';
import type { LayerSwitchName, PanelSnapshot } from './protocol';

/** What the views ask the host to do; main.ts turns these into protocol commands. */
export interface PanelActions {
  setEnabled(enabled: boolean): void;
  setLayer(layer: LayerSwitchName, enabled: boolean): void;
  clearCache(): void;
  showLog(): void;
}

/** The element of each section, created once so charts and focus survive updates. */
export interface PanelSections {
  header: HTMLElement;
  totals: HTMLElement;
  timelineCaption: HTMLElement;
  layers: HTMLElement;
  cache: HTMLElement;
  tools: HTMLElement;
  models: HTMLElement;
  recent: HTMLElement;
}

const STATE_TEXT: Record<PanelSnapshot['state'], string> = { off: 'Off', starting: 'Starting…', on: 'On', error: 'Error' };

export function renderHeader(section: HTMLElement, snapshot: PanelSnapshot, actions: PanelActions): void {
  const toggle = h('button', { type: 'button', id: 'toggle-enabled' }, snapshot.enabled ? 'Disable' : 'Enable');
  toggle.addEventListener('click', () => actions.setEnabled(!snapshot.enabled));
  const log = h('button', { type: 'button', class: 'secondary' }, 'Show Log');
  log.addEventListener('click', () => actions.showLog());
  replaceChildren(
    section,
    h('h1', {}, 'Isartor Savings'),
    h('span', { class: `badge state-${snapshot.state}`, role: 'status' }, STATE_TEXT[snapshot.state]),
    snapshot.proxyUrl ? h('code', { class: 'url' }, snapshot.proxyUrl) : null,
    snapshot.error ? h('p', { class: 'error' }, snapshot.error) : null,
    snapshot.disconnected.length
      ? h('p', { class: 'warning', role: 'alert' }, `${snapshot.disconnected.join(', ')} ${snapshot.disconnected.length === 1 ? 'does' : 'do'} not go through Isartor: its settings were changed back. Use Connect Tools… to connect again.`)
      : null,
    snapshot.state !== 'on' && snapshot.summary.totals.requests > 0 ? h('p', { class: 'note' }, 'Isartor is off; these are the figures recorded so far.') : null,
    h('div', { class: 'actions' }, toggle, log),
  );
}

export function renderTotals(section: HTMLElement, snapshot: PanelSnapshot): void {
  const totals = snapshot.summary.totals;
  const card = (label: string, value: string, note?: string): HTMLElement =>
    h('div', { class: 'card' }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), note ? h('div', { class: 'card-note' }, note) : null);
  replaceChildren(
    section,
    card('Requests', formatCount(totals.requests)),
    card('Deflected', formatCount(totals.deflected), `${deflectionRate(totals)} local · ${formatCount(totals.deflected)} of ${formatCount(answeredRequests(totals))} answered requests`),
    card('Money saved', formatUsdEstimated(totals.savedUsd, totals), `${formatCount(totals.savedTokens)} tokens`),
    card('Spent in the cloud', formatUsd(snapshot.spentUsd), `${savedShare(totals.savedUsd, snapshot.spentUsd)} of the bill saved`),
    ...moneyNotes(totals).map((note) => h('p', { class: 'note money-note' }, note)),
  );
}

const SWITCH_LEDGER_LAYER: Record<LayerSwitchName, string | undefined> = { exact: 'l1a', semantic: 'l1b', local: 'l2', optimiser: undefined };

export function renderLayers(section: HTMLElement, snapshot: PanelSnapshot, actions: PanelActions): void {
  const rows = snapshot.layers.map((layer) => {
    const input = h('input', { type: 'checkbox', id: `layer-${layer.name}`, checked: layer.enabled, disabled: snapshot.state === 'starting' });
    input.addEventListener('change', () => actions.setLayer(layer.name, input.checked));
    const ledgerLayer = SWITCH_LEDGER_LAYER[layer.name];
    const slice = ledgerLayer ? snapshot.summary.byLayer[ledgerLayer] : undefined;
    // The optimiser answers nothing itself: its savings are booked on the l3 (cloud) records.
    const optimised = layer.name === 'optimiser' ? snapshot.summary.byLayer.l3 : undefined;
    const figures = slice
      ? `${formatCount(slice.requests)} answered · ${formatCount(slice.savedTokens)} tokens · ${formatUsd(slice.savedUsd)}`
      : optimised
        ? `on ${formatCount(optimised.requests)} cloud requests · ${formatCount(optimised.savedTokens)} tokens · ${formatUsd(optimised.savedUsd)} net of cache writes`
        : undefined;
    return h(
      'li',
      { class: 'switch' },
      h('label', { for: `layer-${layer.name}` }, input, h('span', { class: 'switch-name' }, layer.label)),
      figures ? h('span', { class: 'switch-figures' }, figures) : null,
      layer.detail ? h('span', { class: 'switch-detail' }, layer.detail) : null,
    );
  });
  replaceChildren(section, h('h2', {}, 'Layers'), h('ul', { class: 'switches' }, ...rows));
}

export function renderCache(section: HTMLElement, snapshot: PanelSnapshot, actions: PanelActions): void {
  const clear = h('button', { type: 'button', id: 'clear-cache', disabled: snapshot.cache === null }, 'Clear');
  clear.addEventListener('click', () => actions.clearCache());
  const text = snapshot.cache ? `${formatCount(snapshot.cache.entries)} entries · ${formatBytes(snapshot.cache.bytes)}` : 'Not running';
  replaceChildren(section, h('h2', {}, 'Cache'), h('div', { class: 'cache-row' }, h('span', { id: 'cache-size' }, text), clear));
}

/** Rows of a per-tool or per-model table, busiest first. */
function sliceRows(slices: Record<string, LedgerTotals>): string[][] {
  return Object.entries(slices)
    .sort(([, a], [, b]) => b.requests - a.requests)
    .map(([name, t]) => [name, formatCount(t.requests), deflectionRate(t), formatCount(t.savedTokens), formatUsd(t.savedUsd)]);
}

export function renderSlices(section: HTMLElement, title: string, slices: Record<string, LedgerTotals>, firstColumn: string): void {
  // Narrow views drop the "Deflected" column first (class col-2); Tokens and Saved always stay.
  replaceChildren(section, h('h2', {}, title), table([firstColumn, 'Requests', 'Local', 'Tokens', 'Saved'], sliceRows(slices)));
}

export function renderRecent(section: HTMLElement, snapshot: PanelSnapshot): void {
  const rows = snapshot.summary.recent.slice(0, 50).map((record) => [
    new Date(record.time).toLocaleTimeString(),
    record.tool,
    record.model,
    h('span', { class: `layer layer-${record.layer}`, title: LAYER_LABELS[record.layer] ?? record.layer }, LAYER_TAGS[record.layer] ?? record.layer),
    `${Math.round(record.latencyMs)} ms`,
    formatCount(record.savedTokens),
    formatUsd(record.savedUsd),
  ]);
  replaceChildren(section, h('h2', {}, 'Latest requests'), table(['Time', 'Tool', 'Model', 'Layer', 'Latency', 'Tokens', 'Saved'], rows, 4, 'No requests yet'));
}

/** "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB'];
  const power = Math.min(units.length - 1, Math.floor(Math.log(bytes) / Math.log(1024)));
  return `${(bytes / 1024 ** power).toFixed(power === 0 ? 0 : 1)} ${units[power]}`;
}
