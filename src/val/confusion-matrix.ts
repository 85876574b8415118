// The detection confusion matrix of YOLOv5's validation (utils/metrics.py ConfusionMatrix): predictions above a
// confidence threshold are paired one-to-one with labels by IoU regardless of class, and each pair counts as
// (predicted class, true class); an unpaired label is a missed object (predicted "background"), an unpaired
// prediction a false alarm (true "background").
import { boxIouAt, type BoxArray } from './boxes.js';
import { DETECTION_COLUMNS } from './nms.js';

export class ConfusionMatrix {
  /** (nc + 1) × (nc + 1) counts, row = predicted class, column = true class; index nc is background. */
  readonly counts: Float64Array;

  constructor(
    readonly nc: number,
    readonly conf = 0.25,
    readonly iouThres = 0.45,
  ) {
    this.counts = new Float64Array((nc + 1) * (nc + 1));
  }

  /** The count of objects of class `truth` predicted as `predicted` (nc: background). */
  at(predicted: number, truth: number): number {
    return this.counts[predicted * (this.nc + 1) + truth]!;
  }

  private count(predicted: number, truth: number): void {
    this.counts[predicted * (this.nc + 1) + truth]! += 1;
  }

  /**
   * Adds one image. `detections`: rows [x1, y1, x2, y2, conf, class]; labels: classes and [x1, y1, x2, y2] rows,
   * in the same pixels as the detections.
   *
   * YOLOv5 v7.0 counts a false alarm only in an image where some prediction was paired, and skips images without
   * labels altogether; both lose false alarms, so here every unpaired prediction counts (as Ultralytics' later
   * ConfusionMatrix does).
   */
  processImage(detections: BoxArray, labelClasses: ArrayLike<number>, labelBoxes: BoxArray): void {
    const kept: number[] = [];
    for (let d = 0; d < detections.length / DETECTION_COLUMNS; d++) if (detections[d * DETECTION_COLUMNS + 4]! > this.conf) kept.push(d);
    const candidates: { label: number; detection: number; iou: number }[] = [];
    for (let l = 0; l < labelClasses.length; l++) {
      for (const d of kept) {
        const iou = boxIouAt(labelBoxes, l, detections, d, 4, DETECTION_COLUMNS);
        if (iou > this.iouThres) candidates.push({ label: l, detection: d, iou });
      }
    }
    // Best overlap first: each detection keeps only its best pair, and of those each label the best one.
    candidates.sort((a, b) => b.iou - a.iou);
    const seenDetections = new Set<number>();
    const labelMatch = new Map<number, number>();
    for (const { label, detection } of candidates) {
      if (seenDetections.has(detection)) continue;
      seenDetections.add(detection);
      if (!labelMatch.has(label)) labelMatch.set(label, detection);
    }

    const classOf = (d: number) => Math.trunc(detections[d * DETECTION_COLUMNS + 5]!);
    for (let l = 0; l < labelClasses.length; l++) {
      const d = labelMatch.get(l);
      this.count(d === undefined ? this.nc : classOf(d), Math.trunc(labelClasses[l]!));
    }
    const matched = new Set(labelMatch.values());
    for (const d of kept) if (!matched.has(d)) this.count(classOf(d), this.nc);
  }

  /** Each column (true class) divided by its total, as the plotted matrix shows it. */
  normalisedByTruth(): Float64Array {
    const n = this.nc + 1;
    const out = new Float64Array(this.counts.length);
    for (let t = 0; t < n; t++) {
      let total = 0;
      for (let p = 0; p < n; p++) total += this.at(p, t);
      for (let p = 0; p < n; p++) out[p * n + t] = this.at(p, t) / (total + 1e-9);
    }
    return out;
  }
}
