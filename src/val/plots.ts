// The pictures of a validation run, as YOLOv5's val.py saves them: the confusion matrix, the precision-recall curve,
// the F1-, precision- and recall-confidence curves, and the first batches with their labels and predictions.
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../torch/index.js';
import { drawBatch } from '../plot/batch.js';
import type { Size } from '../data/letterbox.js';
import { legendWidth, SERIES_COLOURS, type Panel, type Series } from '../plot/figure.js';
import { saveFigure } from '../plot/render.js';
import type { ConfusionMatrix } from './confusion-matrix.js';
import { smooth, type ClassMetricsTable } from './metrics.js';
import { DETECTION_COLUMNS } from './nms.js';

/** Up to this many classes, each curve is coloured and named in the legend; beyond, they are thin grey lines. */
const LEGEND_CLASSES = 20;
/** Normalised cells below this are left blank (they would read 0.00). */
const BLANK_BELOW = 0.005;

/** confusion_matrix.png: each true class's share per predicted class (columns sum to 1), background last. */
export async function plotConfusionMatrix(matrix: ConfusionMatrix, names: readonly string[], path: string): Promise<void> {
  const n = matrix.nc + 1;
  const values = matrix.normalisedByTruth().map((v) => (v < BLANK_BELOW ? Number.NaN : v));
  const labels = names.length === matrix.nc && names.length < 99 ? [...names] : Array.from({ length: matrix.nc }, (_, i) => String(i));
  labels.push('background');
  // About 20 pixels a cell, within bounds, plus room for names of up to 14 characters (longer ones shrink the cells).
  const side = Math.min(1800, Math.max(640, n * 20));
  const labelRoom = Math.min(14, Math.max(...labels.map((l) => l.length))) * 8 + 40;
  await saveFigure(
    [
      {
        kind: 'heatmap',
        title: 'Confusion Matrix',
        xLabel: 'True',
        yLabel: 'Predicted',
        values,
        rows: n,
        columns: n,
        rowLabels: labels,
        columnLabels: labels,
        annotateDecimals: matrix.nc < 30 ? 2 : undefined,
        colourBar: true,
      },
    ],
    path,
    { panelWidth: side + labelRoom + 90, panelHeight: side + labelRoom + 50, margin: { left: 10, right: 10, top: 40, bottom: 10 } },
  );
}

const mean = (curves: readonly Float64Array[]): Float64Array =>
  Float64Array.from(curves[0] ?? [], (_, g) => curves.reduce((sum, curve) => sum + curve[g]!, 0) / curves.length);

type LinesPanel = Extract<Panel, { kind: 'lines' }>;

/** Per-class curves over the 1000-point grid, and their mean drawn thick and labelled `meanLabel`. */
function curvesPanel(
  table: ClassMetricsTable,
  curves: readonly Float64Array[],
  meanCurve: Float64Array,
  meanLabel: string,
  axes: Pick<LinesPanel, 'title' | 'xLabel' | 'yLabel'>,
  classLabel: (ci: number) => string,
): LinesPanel {
  const x = Array.from(table.confidenceGrid);
  const named = table.classes.length <= LEGEND_CLASSES;
  const series: Series[] = curves.map((curve, ci) => ({
    x,
    y: Array.from(curve),
    width: 1,
    ...(named ? { label: classLabel(ci), colour: SERIES_COLOURS[ci % SERIES_COLOURS.length] } : { colour: '#9a9a9a' }),
  }));
  series.push({ x, y: Array.from(meanCurve), width: 3, colour: '#0000ff', label: meanLabel });
  return { kind: 'lines', ...axes, series, xRange: { min: 0, max: 1 }, yRange: { min: 0, max: 1 }, legend: 'outside' };
}

async function saveCurves(panel: LinesPanel, path: string): Promise<void> {
  const legend = legendWidth(panel.series.map((s) => s.label ?? ''));
  await saveFigure([panel], path, { panelWidth: 700 + legend, panelHeight: 560, margin: { right: legend + 24 } });
}

/**
 * PR_curve.png, F1_curve.png, P_curve.png and R_curve.png in `saveDir` from the per-class curves of a validation.
 * Returns the files written (none when no class has labels).
 */
export async function plotMetricCurves(table: ClassMetricsTable, names: readonly string[], saveDir: string): Promise<string[]> {
  if (table.classes.length === 0) return [];
  const className = (ci: number) => names[table.classes[ci]!] ?? String(table.classes[ci]);
  const map50 = table.ap.reduce((sum, row) => sum + row[0]!, 0) / table.ap.length;
  const charts: [string, LinesPanel][] = [
    [
      'PR_curve.png',
      curvesPanel(
        table,
        table.prCurves,
        mean(table.prCurves),
        `all classes ${map50.toFixed(3)} mAP@0.5`,
        { title: 'Precision-Recall Curve', xLabel: 'Recall', yLabel: 'Precision' },
        (ci) => `${className(ci)} ${table.ap[ci]![0]!.toFixed(3)}`,
      ),
    ],
  ];
  for (const [file, metric, curves] of [
    ['F1_curve.png', 'F1', table.f1Curves],
    ['P_curve.png', 'Precision', table.precisionCurves],
    ['R_curve.png', 'Recall', table.recallCurves],
  ] as const) {
    // The mean curve smoothed as YOLOv5 plots it; the legend names its best value and where it is.
    const meanCurve = smooth(mean(curves), 0.05);
    let best = 0;
    for (let g = 1; g < meanCurve.length; g++) if (meanCurve[g]! > meanCurve[best]!) best = g;
    const label = `all classes ${meanCurve[best]!.toFixed(2)} at ${table.confidenceGrid[best]!.toFixed(3)}`;
    charts.push([file, curvesPanel(table, curves, meanCurve, label, { title: `${metric}-Confidence Curve`, xLabel: 'Confidence', yLabel: metric }, className)]);
  }
  const files: string[] = [];
  for (const [file, panel] of charts) {
    files.push(join(saveDir, file));
    await saveCurves(panel, files.at(-1)!);
  }
  return files;
}

export interface BatchPicture {
  /** The batch as the network saw it, [B, 3, H, W] in [0, 1]. */
  images: Tensor;
  /** Label rows [image, class, cx, cy, w, h] normalised to the batch shape. */
  targets: readonly number[];
  /** Per image, detection rows [x1, y1, x2, y2, conf, class] in input pixels. */
  detections: readonly Float32Array[];
  shape: Size;
  paths: readonly string[];
}

/** val_batch<i>_labels.jpg and val_batch<i>_pred.jpg: a batch with its labels, and with the predictions. */
export async function plotValBatch(batch: BatchPicture, index: number, names: readonly string[], saveDir: string): Promise<string[]> {
  const { width, height } = batch.shape;
  const predictions: number[] = [];
  batch.detections.forEach((det, image) => {
    for (let d = 0; d < det.length; d += DETECTION_COLUMNS) {
      const [x1, y1, x2, y2, conf, cls] = det.subarray(d, d + DETECTION_COLUMNS);
      predictions.push(image, cls!, (x1! + x2!) / 2 / width, (y1! + y2!) / 2 / height, (x2! - x1!) / width, (y2! - y1!) / height, conf!);
    }
  });
  const files = [join(saveDir, `val_batch${index}_labels.jpg`), join(saveDir, `val_batch${index}_pred.jpg`)];
  for (const [rows, rowLength, file] of [
    [batch.targets, 6, files[0]!],
    [predictions, 7, files[1]!],
  ] as const) {
    const targets = tidy(() => tensor([...rows], [rows.length / rowLength, rowLength]));
    try {
      await drawBatch(batch.images, targets, names, file, { paths: batch.paths });
    } finally {
      targets.dispose();
    }
  }
  return files;
}
