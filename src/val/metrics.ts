// Detection metrics as YOLOv5 computes them (`utils/metrics.py`, `val.py`): detections matched to labels at ten
// IoU thresholds, per-class precision/recall curves, AP by 101-point interpolation, and P/R at the confidence that
// maximises the (smoothed) mean F1.
import { boxIouAt } from './boxes.js';
import { DETECTION_COLUMNS } from './nms.js';

/** NumPy's linspace: start + i·step, the last value exactly `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** 0.50, 0.55, …, 0.95 at float32 precision, as YOLOv5 holds them. */
export const IOU_THRESHOLDS: readonly number[] = Array.from(linspace(0.5, 0.95, 10), (v) => Math.fround(v));

/**
 * NumPy's interp: piecewise-linear through (xp, fp) with xp increasing; `left`/`right` outside the range.
 * With repeated xp values the last one wins, as in NumPy.
 */
export function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>, left = fp[0]!, right = fp[fp.length - 1]!): number {
  const n = xp.length;
  if (x < xp[0]!) return left;
  if (x > xp[n - 1]!) return right;
  // Last j with xp[j] <= x.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  const j = lo;
  if (j === n - 1 || xp[j] === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  return slope * (x - xp[j]!) + fp[j]!;
}

/** Box filter over `fraction` of the curve (both sides together), edges extended (YOLOv5 `smooth`). */
export function smooth(y: ArrayLike<number>, fraction = 0.05): Float64Array {
  const width = Math.floor(Math.round(y.length * fraction * 2) / 2) + 1; // odd
  const half = Math.floor(width / 2);
  const out = new Float64Array(y.length);
  const at = (i: number): number => y[Math.min(Math.max(i, 0), y.length - 1)]!;
  for (let i = 0; i < y.length; i++) {
    let sum = 0;
    for (let k = i - half; k <= i + half; k++) sum += at(k);
    out[i] = sum / width;
  }
  return out;
}

function trapezoid(y: ArrayLike<number>, x: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return area;
}

const RECALL_POINTS = linspace(0, 1, 101);

/**
 * The precision envelope of one precision/recall curve (points in detection order): sentinels at recall 0 and 1,
 * each precision raised to the best precision at any higher recall.
 */
export function precisionEnvelope(recall: ArrayLike<number>, precision: ArrayLike<number>): { recall: Float64Array; precision: Float64Array } {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[0] = 0;
  mpre[0] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i]!;
    mpre[i + 1] = precision[i]!;
  }
  mrec[n + 1] = 1;
  mpre[n + 1] = 0;
  for (let i = n; i >= 0; i--) mpre[i] = Math.max(mpre[i]!, mpre[i + 1]!);
  return { recall: mrec, precision: mpre };
}

/**
 * Average precision of one precision/recall curve (points in detection order): the area under the precision
 * envelope, sampled at 101 recall points (COCO's interpolation).
 */
export function computeAp(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const envelope = precisionEnvelope(recall, precision);
  const sampled = Array.from(RECALL_POINTS, (x) => interp(x, envelope.recall, envelope.precision));
  return trapezoid(sampled, RECALL_POINTS);
}

/**
 * Which detections are true positives at each IoU threshold (YOLOv5 `process_batch`). A detection may match a label
 * of its class with IoU ≥ threshold; each detection takes its best-IoU label, and each label keeps only the first
 * (highest-scoring) detection that took it.
 * `detections`: rows [x1, y1, x2, y2, score, class], best first; labels: classes and [x1, y1, x2, y2] rows.
 * Returns [detections × thresholds] flags.
 */
export function matchDetections(
  detections: Float32Array | Float64Array,
  labelClasses: ArrayLike<number>,
  labelBoxes: Float32Array | Float64Array,
  thresholds: readonly number[] = IOU_THRESHOLDS,
): Uint8Array {
  const nd = detections.length / DETECTION_COLUMNS;
  const nl = labelClasses.length;
  const t = thresholds.length;
  const correct = new Uint8Array(nd * t);
  if (nd === 0 || nl === 0) return correct;
  // IoU at float32 precision, like the reference, so ties with the float32 thresholds resolve the same way.
  const iou = new Float32Array(nd * nl);
  for (let d = 0; d < nd; d++) {
    for (let l = 0; l < nl; l++) {
      if (labelClasses[l] === detections[d * DETECTION_COLUMNS + 5]) iou[d * nl + l] = boxIouAt(detections, d, labelBoxes, l, DETECTION_COLUMNS, 4);
    }
  }
  const taken = new Uint8Array(nl);
  thresholds.forEach((threshold, k) => {
    taken.fill(0);
    for (let d = 0; d < nd; d++) {
      let best = -1;
      for (let l = 0; l < nl; l++) {
        const v = iou[d * nl + l]!;
        if (labelClasses[l] === detections[d * DETECTION_COLUMNS + 5] && v >= threshold && (best < 0 || v > iou[d * nl + best]!)) best = l;
      }
      if (best >= 0 && !taken[best]) {
        taken[best] = 1;
        correct[d * t + k] = 1;
      }
    }
  });
  return correct;
}

/** Per-image results gathered during validation. */
export class DetectionStats {
  private readonly correct: Uint8Array[] = [];
  private readonly scores: number[] = [];
  private readonly predClasses: number[] = [];
  private readonly labelClasses: number[] = [];

  constructor(readonly thresholds: readonly number[] = IOU_THRESHOLDS) {}

  add(correct: Uint8Array, detections: Float32Array | Float64Array, labelClasses: ArrayLike<number>): void {
    this.correct.push(correct);
    for (let d = 0; d < detections.length / DETECTION_COLUMNS; d++) {
      this.scores.push(detections[d * DETECTION_COLUMNS + 4]!);
      this.predClasses.push(detections[d * DETECTION_COLUMNS + 5]!);
    }
    for (let l = 0; l < labelClasses.length; l++) this.labelClasses.push(labelClasses[l]!);
  }

  /** Number of labels per class index, for classes 0..nc-1. */
  instancesPerClass(nc: number): number[] {
    const counts = new Array<number>(nc).fill(0);
    for (const c of this.labelClasses) counts[c] = (counts[c] ?? 0) + 1;
    return counts;
  }

  /**
   * Per-class metrics. Like YOLOv5, reports no class at all when not a single detection was correct at any
   * threshold (all metrics 0).
   */
  compute(): ClassMetricsTable {
    const t = this.thresholds.length;
    const tp = new Uint8Array(this.scores.length * t);
    let offset = 0;
    for (const c of this.correct) {
      tp.set(c, offset);
      offset += c.length;
    }
    const anyCorrect = tp.some((flag) => flag === 1);
    return anyCorrect ? apPerClass(tp, this.scores, this.predClasses, this.labelClasses, t) : apPerClass(new Uint8Array(0), [], [], [], t);
  }
}

export interface ClassMetricsTable {
  /** Classes that have labels, ascending; every other array is indexed like this one. */
  classes: number[];
  /** Labels per class. */
  instances: number[];
  /** Precision and recall at the confidence of maximum mean F1. */
  precision: number[];
  recall: number[];
  f1: number[];
  /** True and false positives implied by P and R at that confidence. */
  truePositives: number[];
  falsePositives: number[];
  /** AP at each IoU threshold, per class. */
  ap: number[][];
  /** Confidence grid (1000 points, 0..1) and the per-class precision/recall/F1 curves over it. */
  confidenceGrid: Float64Array;
  precisionCurves: Float64Array[];
  recallCurves: Float64Array[];
  f1Curves: Float64Array[];
  /**
   * Per class, the precision envelope at IoU 0.5 over the same grid read as recall (what the PR curve plots); all
   * zero for a class without predictions, so that the curves' mean matches mAP50.
   */
  prCurves: Float64Array[];
}

const EPS = 1e-16;

/** NumPy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per-class AP and P/R (YOLOv5 `ap_per_class`). `tp`: [n × thresholds] flags; `scores`, `predClasses`: per detection;
 * `labelClasses`: one entry per label. Classes without labels are ignored.
 */
export function apPerClass(
  tp: Uint8Array,
  scores: ArrayLike<number>,
  predClasses: ArrayLike<number>,
  labelClasses: ArrayLike<number>,
  thresholdCount: number,
): ClassMetricsTable {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const counts = new Map<number, number>();
  for (let i = 0; i < labelClasses.length; i++) counts.set(labelClasses[i]!, (counts.get(labelClasses[i]!) ?? 0) + 1);
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const grid = linspace(0, 1, 1000);
  const negGrid = Array.from(grid, (x) => -x);

  const ap = classes.map(() => new Array<number>(thresholdCount).fill(0));
  const precisionCurves = classes.map(() => new Float64Array(grid.length));
  const recallCurves = classes.map(() => new Float64Array(grid.length));
  const prCurves = classes.map(() => new Float64Array(grid.length));
  classes.forEach((cls, ci) => {
    const members = order.filter((i) => predClasses[i] === cls);
    const labels = counts.get(cls)!;
    if (members.length === 0) return;
    const negScores = members.map((i) => -scores[i]!);
    for (let k = 0; k < thresholdCount; k++) {
      const recall = new Float64Array(members.length);
      const precision = new Float64Array(members.length);
      let tps = 0;
      members.forEach((i, m) => {
        tps += tp[i * thresholdCount + k]!;
        recall[m] = tps / (labels + EPS);
        precision[m] = tps / (m + 1);
      });
      ap[ci]![k] = computeAp(recall, precision);
      if (k === 0) {
        const envelope = precisionEnvelope(recall, precision);
        for (let g = 0; g < grid.length; g++) prCurves[ci]![g] = interp(grid[g]!, envelope.recall, envelope.precision);
        for (let g = 0; g < grid.length; g++) {
          recallCurves[ci]![g] = interp(negGrid[g]!, negScores, recall, 0);
          precisionCurves[ci]![g] = interp(negGrid[g]!, negScores, precision, 1);
        }
      }
    }
  });

  const f1Curves = classes.map((_, ci) =>
    Float64Array.from(grid, (_x, g) => {
      const p = precisionCurves[ci]![g]!;
      const r = recallCurves[ci]![g]!;
      return (2 * p * r) / (p + r + EPS);
    }),
  );
  const meanF1 = Float64Array.from(grid, (_x, g) => f1Curves.reduce((sum, curve) => sum + curve[g]!, 0) / Math.max(classes.length, 1));
  const smoothed = smooth(meanF1, 0.1);
  let best = 0;
  for (let g = 1; g < smoothed.length; g++) if (smoothed[g]! > smoothed[best]!) best = g;

  const precision = precisionCurves.map((curve) => curve[best]!);
  const recall = recallCurves.map((curve) => curve[best]!);
  const instances = classes.map((c) => counts.get(c)!);
  const truePositives = recall.map((r, ci) => roundHalfEven(r * instances[ci]!));
  return {
    classes,
    instances,
    precision,
    recall,
    f1: f1Curves.map((curve) => curve[best]!),
    truePositives,
    falsePositives: truePositives.map((tps, ci) => roundHalfEven(tps / (precision[ci]! + EPS) - tps)),
    ap,
    confidenceGrid: grid,
    precisionCurves,
    recallCurves,
    f1Curves,
    prCurves,
  };
}

export interface SummaryMetrics {
  /** Mean precision and recall over classes with labels. */
  mp: number;
  mr: number;
  /** Mean AP at IoU 0.5 and averaged over 0.5:0.95. */
  map50: number;
  map: number;
}

export function summarize(table: ClassMetricsTable): SummaryMetrics {
  const k = table.classes.length;
  if (k === 0) return { mp: 0, mr: 0, map50: 0, map: 0 };
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    mp: mean(table.precision),
    mr: mean(table.recall),
    map50: mean(table.ap.map((row) => row[0]!)),
    map: mean(table.ap.map(mean)),
  };
}
