/**
 * The panel's two charts (chart.js, bundled; no remote resources): deflections per layer over time
 * and requests by layer. Colours come from the editor theme's chart variables.
 */
import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip } from 'chart.js';
import type { LedgerSummary } from '../src/core/ledger-types';
import { DEFLECTING_LAYERS, LAYER_LABELS, type LedgerLayerId } from '../src/shared/format';
import { LAYER_COLOURS, themeKindOf } from '../src/shared/layerColours';
import { buildTimeline, TIMELINE_LAYERS } from './timeline';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Legend, Tooltip);

function themeColour(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

/** The layer's colour for the theme the webview shows now (its body class follows theme switches). */
function layerColour(layer: LedgerLayerId): string {
  return LAYER_COLOURS[themeKindOf(document.body.className)][layer];
}

/** Owns the two chart instances and updates them in place (no re-creation, no flicker). */
export class SavingsCharts {
  private timeline: Chart<'bar'> | undefined;
  private byLayer: Chart<'doughnut'> | undefined;
  private last: LedgerSummary | undefined;

  constructor(
    private readonly timelineCanvas: HTMLCanvasElement,
    private readonly byLayerCanvas: HTMLCanvasElement,
  ) {}

  /** Redraws with the current theme's colours (VS Code changes the body class and variables live). */
  followTheme(): void {
    const redraw = (): void => {
      if (!this.last) return;
      // Legend and axis colours are read when a chart is built, so the charts are built again.
      this.timeline?.destroy();
      this.byLayer?.destroy();
      this.timeline = undefined;
      this.byLayer = undefined;
      this.update(this.last);
    };
    new MutationObserver(redraw).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  }

  update(summary: LedgerSummary): { timelineUnit: 'day' | 'hour' } {
    Chart.defaults.color = themeColour('--vscode-foreground', '#cccccc');
    Chart.defaults.font.family = themeColour('--vscode-font-family', 'sans-serif');
    const timeline = buildTimeline(summary);
    const datasets = TIMELINE_LAYERS.map((layer) => ({
      label: LAYER_LABELS[layer],
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

    // Deflections only: the cloud's share is what is left, and would dwarf the layers that save.
    const layers = DEFLECTING_LAYERS.filter((layer) => (summary.byLayer[layer]?.requests ?? 0) > 0);
    const data = {
      labels: layers.map((layer) => LAYER_LABELS[layer]),
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
    this.last = summary;
    return { timelineUnit: timeline.unit };
  }
}
