/**
 * Entry point of the savings panel: builds the page once, asks the host for a snapshot, and
 * re-renders on every snapshot notification. Talks to the host only through protocol.ts.
 */
import { SavingsCharts } from './charts';
import { pickTransport } from './transport';
import { h } from './dom';
import type { IpcMessage, PanelSnapshot, ResponseParams } from './protocol';
import { ClearCacheCommand, createMessage, GetSnapshotRequest, isMessageOf, ResponseMethod, SetEnabledCommand, SetLayerCommand, ShowLogCommand, SnapshotNotification } from './protocol';
import type { PanelActions, PanelSections } from './views';
import { renderCache, renderHeader, renderLayers, renderRecent, renderSlices, renderTotals } from './views';

const transport = pickTransport();
let nextId = 0;
const pending = new Map<string, (params: ResponseParams<unknown>) => void>();

function send<P>(message: IpcMessage<P>): void {
  transport.send(message);
}

function request<R>(message: IpcMessage<unknown>): Promise<R> {
  return new Promise((resolve, reject) => {
    pending.set(message.id, (params) => (params.ok ? resolve(params.value as R) : reject(new Error(params.error))));
    send(message);
  });
}

const id = (): string => `webview-${++nextId}`;

const actions: PanelActions = {
  setEnabled: (enabled) => send(createMessage(SetEnabledCommand, id(), { enabled })),
  setLayer: (layer, enabled) => send(createMessage(SetLayerCommand, id(), { layer, enabled })),
  clearCache: () => send(createMessage(ClearCacheCommand, id(), {})),
  showLog: () => send(createMessage(ShowLogCommand, id(), {})),
};

function buildPage(root: HTMLElement): { sections: PanelSections; charts: SavingsCharts } {
  const section = (name: string, ...children: Node[]): HTMLElement => h('section', { class: name, id: name }, ...children);
  const timelineCanvas = h('canvas', { 'aria-label': 'Deflections per layer over time', role: 'img' });
  const byLayerCanvas = h('canvas', { 'aria-label': 'Deflections by layer', role: 'img' });
  const timelineCaption = h('h2', {}, 'Requests per layer');
  const sections: PanelSections = {
    header: section('header'),
    totals: section('totals'),
    timelineCaption,
    layers: section('layers'),
    cache: section('cache'),
    tools: section('tools'),
    models: section('models'),
    recent: section('recent'),
  };
  root.replaceChildren(
    sections.header,
    sections.totals,
    h(
      'div',
      { class: 'charts' },
      section('timeline', timelineCaption, h('div', { class: 'chart-box' }, timelineCanvas)),
      section('by-layer', h('h2', {}, 'Deflections by layer'), h('div', { class: 'chart-box' }, byLayerCanvas)),
    ),
    h('div', { class: 'columns' }, sections.layers, sections.cache),
    sections.tools,
    sections.models,
    sections.recent,
  );
  const charts = new SavingsCharts(timelineCanvas, byLayerCanvas);
  charts.followTheme();
  return { sections, charts };
}

function render(page: { sections: PanelSections; charts: SavingsCharts }, snapshot: PanelSnapshot): void {
  const { sections } = page;
  renderHeader(sections.header, snapshot, actions);
  renderTotals(sections.totals, snapshot);
  const { timelineUnit } = page.charts.update(snapshot.summary);
  sections.timelineCaption.textContent = timelineUnit === 'day' ? 'Requests per layer, by day' : 'Requests per layer, by hour (latest requests)';
  renderLayers(sections.layers, snapshot, actions);
  renderCache(sections.cache, snapshot, actions);
  renderSlices(sections.tools, 'By tool', snapshot.summary.byTool, 'Tool');
  renderSlices(sections.models, 'By model', snapshot.summary.byModel, 'Model');
  renderRecent(sections.recent, snapshot);
  document.body.dataset.state = snapshot.state;
  document.body.dataset.requests = String(snapshot.summary.totals.requests);
}

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const page = buildPage(root);
  transport.onMessage((message) => {
    if (message.method === ResponseMethod && message.completionId) {
      pending.get(message.completionId)?.(message.params as ResponseParams<unknown>);
      pending.delete(message.completionId);
    } else if (isMessageOf(message, SnapshotNotification)) {
      render(page, message.params);
    }
  });
  request<PanelSnapshot>(createMessage(GetSnapshotRequest, id(), {}))
    .then((snapshot) => render(page, snapshot))
    .catch((error: unknown) => {
      root.prepend(h('p', { class: 'error' }, `Could not load savings: ${error instanceof Error ? error.message : String(error)}`));
    });
}

main();
