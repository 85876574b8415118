// The pictures of a training run: results.png (curves per epoch), labels.jpg and labels_correlogram.jpg (what the
// training labels look like); the final validation draws its own (val/plots.ts).
import { extent, padRange } from '../plot/axes.js';
import { saveFigure } from '../plot/render.js';
import type { Panel } from '../plot/figure.js';
import { classColor } from '../plot/draw.js';
import { extraColumns, type EpochRecord } from './results.js';

/** Gaussian smoothing with mirrored edges (scipy's gaussian_filter1d, mode 'reflect', truncate 4σ). */
export function gaussianSmooth(values: readonly number[], sigma = 3): number[] {
  const n = values.length;
  if (n === 0) return [];
  const radius = Math.round(4 * sigma);
  const weights = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-0.5 * ((k - radius) / sigma) ** 2));
  const total = weights.reduce((a, b) => a + b, 0);
  const at = (i: number): number => {
    // Reflect about the edges (… c b a | a b c …) until inside.
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
    return values[j]!;
  };
  return values.map((_, i) => weights.reduce((sum, w, k) => sum + w * at(i + k - radius), 0) / total);
}

/**
 * results.png: one panel per column, the values with dots and a smoothed dashed line; YOLOv5's ten in its order
 * (training losses, P and R in the first row, validation losses and mAPs in the second), then hook columns.
 */
export async function plotResults(records: readonly EpochRecord[], path: string): Promise<void> {
  if (records.length === 0) return;
  const x = records.map((r) => r.epoch);
  const columns: [string, number[]][] = [
    ['train/box_loss', records.map((r) => r.train[0])],
    ['train/obj_loss', records.map((r) => r.train[1])],
    ['train/cls_loss', records.map((r) => r.train[2])],
    ['metrics/precision', records.map((r) => r.precision)],
    ['metrics/recall', records.map((r) => r.recall)],
    ['val/box_loss', records.map((r) => r.val[0])],
    ['val/obj_loss', records.map((r) => r.val[1])],
    ['val/cls_loss', records.map((r) => r.val[2])],
    ['metrics/mAP_0.5', records.map((r) => r.map50)],
    ['metrics/mAP_0.5:0.95', records.map((r) => r.map)],
    ...extraColumns(records).map((k): [string, number[]] => [k, records.map((r) => r.extra[k] ?? Number.NaN)]),
  ];
  const panels: Panel[] = columns.map(([title, y]) => ({
    kind: 'lines',
    title,
    xLabel: 'epoch',
    series: [
      { x, y, label: 'results', markers: true },
      { x, y: gaussianSmooth(y), label: 'smooth', dashed: true, colour: '#ff7f0e' },
    ],
  }));
  await saveFigure(panels, path, { columns: Math.min(5, panels.length), panelWidth: 360, panelHeight: 280 });
}

/** labels.jpg: instances per class, box shapes (centred), box centres, and box widths vs heights. */
export async function plotLabels(labels: readonly Float32Array[], names: readonly string[], path: string): Promise<void> {
  const counts = new Array<number>(names.length).fill(0);
  const cx: number[] = [];
  const cy: number[] = [];
  const w: number[] = [];
  const h: number[] = [];
  const classes: number[] = [];
  for (const rows of labels) {
    for (let r = 0; r + 4 < rows.length; r += 5) {
      const cls = rows[r]!;
      counts[cls] = (counts[cls] ?? 0) + 1;
      classes.push(cls);
      cx.push(rows[r + 1]!);
      cy.push(rows[r + 2]!);
      w.push(rows[r + 3]!);
      h.push(rows[r + 4]!);
    }
  }
  const unit = { min: 0, max: 1 };
  const panels: Panel[] = [
    { kind: 'bars', title: 'instances per class', yLabel: 'instances', categories: names, values: counts, colours: names.map((_, i) => classColor(i)) },
    {
      kind: 'rects',
      title: 'box shapes (first 1000)',
      rects: w.slice(0, 1000).map((bw, i) => ({ cx: 0.5, cy: 0.5, w: bw, h: h[i]!, colour: classColor(classes[i]!) })),
    },
    { kind: 'scatter', title: 'box centres', xLabel: 'x', yLabel: 'y', x: cx, y: cy.map((v) => 1 - v), xRange: unit, yRange: unit, radius: 1.5, opacity: 0.3 },
    { kind: 'scatter', title: 'box sizes', xLabel: 'width', yLabel: 'height', x: w, y: h, xRange: unit, yRange: unit, radius: 1.5, opacity: 0.3 },
  ];
  await saveFigure(panels, path, { columns: 2, panelWidth: 480, panelHeight: 420 });
}

/** Label rows [class, cx, cy, w, h] per image, as four columns: x, y, width, height. */
function boxColumns(labels: readonly Float32Array[]): number[][] {
  const columns: number[][] = [[], [], [], []];
  for (const rows of labels) for (let r = 0; r + 4 < rows.length; r += 5) columns.forEach((column, k) => column.push(rows[r + 1 + k]!));
  return columns;
}

/**
 * labels_correlogram.jpg: the labels' x, y, width and height against each other (2-D histograms below the
 * diagonal, each one's histogram on it), as seaborn's corner pairplot in YOLOv5's plot_labels.
 */
export async function plotLabelCorrelogram(labels: readonly Float32Array[], path: string): Promise<void> {
  const variables = ['x', 'y', 'width', 'height'];
  const columns = boxColumns(labels);
  const ranges = columns.map((values) => padRange(extent(values), 0.02));
  const panels: (Panel | null)[] = [];
  for (let row = 0; row < 4; row++) {
    for (let column = 0; column < 4; column++) {
      const axes = { xLabel: row === 3 ? variables[column] : undefined, yLabel: column === 0 ? (row === 0 ? 'instances' : variables[row]) : undefined };
      if (column > row) panels.push(null);
      else if (column === row) panels.push({ kind: 'histogram', ...axes, values: columns[row]!, bins: 50, xRange: ranges[row], colour: '#4c72b0' });
      else panels.push({ kind: '2d-histogram', ...axes, x: columns[column]!, y: columns[row]!, bins: 50, xRange: ranges[column], yRange: ranges[row] });
    }
  }
  await saveFigure(panels, path, { columns: 4, panelWidth: 300, panelHeight: 300 });
}
