// Non-maximum suppression with YOLOv5's semantics (`non_max_suppression`): candidates by objectness, score =
// objectness × class probability, per-class suppression (boxes of different classes never suppress each other
// unless agnostic), at most `maxNms` boxes considered and `maxDet` kept. Plain typed arrays: no tensor round trips.
import { tidy, type Tensor } from '../torch/index.js';
import { integer, number } from '../util/check.js';

export interface NmsOptions {
  /** Minimum objectness and minimum score. */
  confThres?: number;
  /** Boxes overlapping a better one by more than this are dropped. */
  iouThres?: number;
  /** Keep only these class indices. */
  classes?: readonly number[];
  /** Suppress across classes. */
  agnostic?: boolean;
  /** One detection per (box, class) pair scoring above confThres, instead of only the best class. */
  multiLabel?: boolean;
  maxDet?: number;
  /** Only this many best-scoring candidates enter suppression. */
  maxNms?: number;
}

export interface ImageNmsOptions extends NmsOptions {
  /**
   * Label rows [class, cx, cy, w, h] (input pixels) that join the candidates as certain predictions (YOLOv5's
   * `labels` argument, for --save-hybrid autolabelling).
   */
  labels?: Float32Array;
}

export interface BatchNmsOptions extends NmsOptions {
  /** Per image, label rows joining the candidates (see ImageNmsOptions). */
  labels?: readonly Float32Array[];
}

/** What detection keeps when not told otherwise (detect.py's --conf-thres and --iou-thres). */
export const DETECT_THRESHOLDS = { conf: 0.25, iou: 0.45 } as const;

/** Columns of a detection row: x1, y1, x2, y2, score, class. */
export const DETECTION_COLUMNS = 6;

const MAX_NMS = 30000;
/** YOLOv5 separates classes by shifting boxes this far per class index; kept so float32 rounding matches. */
const CLASS_OFFSET = 7680;

function checkOptions(o: Required<Omit<NmsOptions, 'classes'>>): void {
  number('confidence threshold', o.confThres, { min: 0, max: 1 });
  number('IoU threshold', o.iouThres, { min: 0, max: 1 });
  integer('maxDet', o.maxDet, { min: 1 });
}

/**
 * Greedy suppression over boxes already sorted by descending score (torchvision `nms`): a box is dropped when its
 * IoU with a kept box is above `iouThres`. Stops after `limit` boxes are kept. Returns kept positions, ascending.
 */
export function greedyNms(boxes: Float32Array, iouThres: number, limit = Infinity, positions?: ArrayLike<number>): number[] {
  const n = positions ? positions.length : boxes.length / 4;
  const at = (k: number): number => (positions ? positions[k]! : k);
  const suppressed = new Uint8Array(n);
  const kept: number[] = [];
  for (let a = 0; a < n && kept.length < limit; a++) {
    if (suppressed[a]) continue;
    const i = at(a) * 4;
    kept.push(at(a));
    const [ax1, ay1, ax2, ay2] = [boxes[i]!, boxes[i + 1]!, boxes[i + 2]!, boxes[i + 3]!];
    const areaA = (ax2 - ax1) * (ay2 - ay1);
    for (let b = a + 1; b < n; b++) {
      if (suppressed[b]) continue;
      const j = at(b) * 4;
      const iw = Math.min(ax2, boxes[j + 2]!) - Math.max(ax1, boxes[j]!);
      if (iw <= 0) continue;
      const ih = Math.min(ay2, boxes[j + 3]!) - Math.max(ay1, boxes[j + 1]!);
      if (ih <= 0) continue;
      const inter = iw * ih;
      const areaB = (boxes[j + 2]! - boxes[j]!) * (boxes[j + 3]! - boxes[j + 1]!);
      if (inter / (areaA + areaB - inter) > iouThres) suppressed[b] = 1;
    }
  }
  return kept;
}

/** Model output rows followed by label rows [class, cx, cy, w, h] as outputs of objectness and class score 1. */
function withLabelRows(rows: Float32Array, rowLength: number, labels: Float32Array): Float32Array {
  const count = labels.length / 5;
  const out = new Float32Array(rows.length + count * rowLength);
  out.set(rows);
  for (let l = 0; l < count; l++) {
    const o = rows.length + l * rowLength;
    out.set(labels.subarray(l * 5 + 1, l * 5 + 5), o);
    out[o + 4] = 1;
    out[o + 5 + labels[l * 5]!] = 1;
  }
  return out;
}

/**
 * NMS for one image. `rows` holds `rowLength` = 5 + nc values per anchor: cx, cy, w, h, objectness, class
 * probabilities. Returns detection rows [x1, y1, x2, y2, score, class], best first.
 */
export function nmsImage(modelRows: Float32Array, rowLength: number, options: ImageNmsOptions = {}): Float32Array {
  const o = {
    confThres: options.confThres ?? DETECT_THRESHOLDS.conf,
    iouThres: options.iouThres ?? DETECT_THRESHOLDS.iou,
    agnostic: options.agnostic ?? false,
    multiLabel: options.multiLabel ?? false,
    maxDet: options.maxDet ?? 300,
    maxNms: options.maxNms ?? MAX_NMS,
  };
  checkOptions(o);
  const nc = rowLength - 5;
  if (nc < 1 || modelRows.length % rowLength !== 0) throw new RangeError(`NMS input rows of ${rowLength} values (expected 5 + classes)`);
  const rows = options.labels?.length ? withLabelRows(modelRows, rowLength, options.labels) : modelRows;
  const multiLabel = o.multiLabel && nc > 1;
  const allowed = options.classes ? new Set(options.classes) : undefined;

  // Candidates as (anchor, class, score), in anchor-major order like YOLOv5's nonzero().
  const anchors: number[] = [];
  const classes: number[] = [];
  const scores: number[] = [];
  const count = rows.length / rowLength;
  for (let a = 0; a < count; a++) {
    const base = a * rowLength;
    const obj = rows[base + 4]!;
    if (!(obj > o.confThres)) continue;
    if (multiLabel) {
      for (let c = 0; c < nc; c++) {
        const score = Math.fround(rows[base + 5 + c]! * obj);
        if (score > o.confThres && (!allowed || allowed.has(c))) {
          anchors.push(a);
          classes.push(c);
          scores.push(score);
        }
      }
    } else {
      // Compared as float32 products, so near-ties resolve to the first class as in the reference.
      let best = 0;
      let score = Math.fround(rows[base + 5]! * obj);
      for (let c = 1; c < nc; c++) {
        const s = Math.fround(rows[base + 5 + c]! * obj);
        if (s > score) {
          best = c;
          score = s;
        }
      }
      if (score > o.confThres && (!allowed || allowed.has(best))) {
        anchors.push(a);
        classes.push(best);
        scores.push(score);
      }
    }
  }
  if (scores.length === 0) return new Float32Array(0);

  const order = scores.map((_, k) => k).sort((p, q) => scores[q]! - scores[p]!);
  if (order.length > o.maxNms) order.length = o.maxNms;

  // Corner boxes in score order, and the same boxes shifted apart per class (float32, as YOLOv5 computes them).
  const n = order.length;
  const corners = new Float32Array(n * 4);
  const shifted = new Float32Array(n * 4);
  const groups = new Map<number, number[]>();
  for (let k = 0; k < n; k++) {
    const cand = order[k]!;
    const base = anchors[cand]! * rowLength;
    const [cx, cy, hw, hh] = [rows[base]!, rows[base + 1]!, rows[base + 2]! / 2, rows[base + 3]! / 2];
    corners.set([cx - hw, cy - hh, cx + hw, cy + hh], k * 4);
    const shift = o.agnostic ? 0 : classes[cand]! * CLASS_OFFSET;
    for (let m = 0; m < 4; m++) shifted[k * 4 + m] = corners[k * 4 + m]! + shift;
    const group = o.agnostic ? 0 : classes[cand]!;
    let members = groups.get(group);
    if (!members) groups.set(group, (members = []));
    members.push(k);
  }

  // Classes never overlap after the shift, so suppressing within each class gives the same result, much faster.
  const kept: number[] = [];
  for (const members of groups.values()) kept.push(...greedyNms(shifted, o.iouThres, o.maxDet, members));
  kept.sort((p, q) => p - q);
  if (kept.length > o.maxDet) kept.length = o.maxDet;

  const out = new Float32Array(kept.length * DETECTION_COLUMNS);
  kept.forEach((k, r) => {
    out.set(corners.subarray(k * 4, k * 4 + 4), r * DETECTION_COLUMNS);
    out[r * DETECTION_COLUMNS + 4] = scores[order[k]!]!;
    out[r * DETECTION_COLUMNS + 5] = classes[order[k]!]!;
  });
  return out;
}

/**
 * NMS over a batch of model outputs [B, N, 5 + nc]. Only anchors above the objectness threshold are copied out of
 * the tensor. Returns one detection array per image.
 */
export function nonMaxSuppression(prediction: Tensor, options: BatchNmsOptions = {}): Float32Array[] {
  const [batch, , rowLength] = prediction.shape;
  if (prediction.ndim !== 3 || rowLength === undefined || rowLength < 6) {
    throw new RangeError(`NMS expects predictions [batch, anchors, 5 + classes], got [${prediction.shape.join(', ')}]`);
  }
  const confThres = options.confThres ?? DETECT_THRESHOLDS.conf;
  const results: Float32Array[] = [];
  for (let b = 0; b < batch!; b++) {
    const rows = tidy(() => {
      const image = prediction.select(0, b);
      return image.index([image.select(1, 4).gt(confThres)]).float().data() as Float32Array;
    });
    results.push(nmsImage(rows, rowLength, { ...options, labels: options.labels?.[b] }));
  }
  return results;
}
