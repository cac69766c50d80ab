/**
 * The panel's two charts (chart.js, bundled; no remote resources): deflections per layer over time
 * and requests by layer. Colours come from the editor theme's chart variables.
 */
import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip } from 'chart.js';
import type { LedgerSummary } from '../src/core/ledger-types';
import { LAYER_LABELS } from '../src/extension/statusView';
import { buildTimeline, TIMELINE_LAYERS } from './timeline';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Legend, Tooltip);

/** Theme variable per ledger layer (VS Code defines --vscode-charts-* in every theme). */
const LAYER_COLOURS: Record<string, [variable: string, fallback: string]> = {
  l1a: ['--vscode-charts-green', '#89d185'],
  l1b: ['--vscode-charts-blue', '#3794ff'],
  l2: ['--vscode-charts-purple', '#b180d7'],
  l3: ['--vscode-charts-orange', '#d18616'],
  error: ['--vscode-charts-red', '#f14c4c'],
};

function themeColour(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

function layerColour(layer: string): string {
  const [variable, fallback] = LAYER_COLOURS[layer] ?? ['--vscode-foreground', '#cccccc'];
  return themeColour(variable, fallback);
}

/** Owns the two chart instances and updates them in place (no re-creation, no flicker). */
export class SavingsCharts {
  private timeline: Chart<'bar'> | undefined;
  private byLayer: Chart<'doughnut'> | undefined;

  constructor(
    private readonly timelineCanvas: HTMLCanvasElement,
    private readonly byLayerCanvas: HTMLCanvasElement,
  ) {}

  update(summary: LedgerSummary): { timelineUnit: 'day' | 'hour' } {
    Chart.defaults.color = themeColour('--vscode-foreground', '#cccccc');
    Chart.defaults.font.family = themeColour('--vscode-font-family', 'sans-serif');
    const timeline = buildTimeline(summary);
    const datasets = TIMELINE_LAYERS.map((layer) => ({
      label: LAYER_LABELS[layer] ?? layer,
      data: timeline.series[layer],
      backgroundColor: layerColour(layer),
      stack: 'requests',
    }));
    if (!this.timeline) {
      this.timeline = new Chart(this.timelineCanvas, {
        type: 'bar',
        data: { labels: timeline.labels, datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: { x: { stacked: true, grid: { display: false } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } },
        },
      });
    } else {
      this.timeline.data.labels = timeline.labels;
      this.timeline.data.datasets = datasets;
      this.timeline.update();
    }

    const layers = Object.keys(LAYER_LABELS).filter((layer) => (summary.byLayer[layer]?.requests ?? 0) > 0);
    const data = {
      labels: layers.map((layer) => LAYER_LABELS[layer] ?? layer),
      datasets: [{ data: layers.map((layer) => summary.byLayer[layer]!.requests), backgroundColor: layers.map(layerColour), borderWidth: 0 }],
    };
    if (!this.byLayer) {
      this.byLayer = new Chart(this.byLayerCanvas, {
        type: 'doughnut',
        data,
        options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } } },
      });
    } else {
      this.byLayer.data = data;
      this.byLayer.update();
    }
    return { timelineUnit: timeline.unit };
  }
}
