// Box arithmetic on flat row-major arrays. A row holds a box in its first four columns; `rowLength` lets the same
// functions work on detection rows [x1, y1, x2, y2, conf, cls] in place.
import type { Size } from '../data/letterbox.js';

export type BoxArray = Float32Array | Float64Array;

function rowCount(boxes: BoxArray, rowLength: number): number {
  if (boxes.length % rowLength !== 0) throw new RangeError(`box array of length ${boxes.length} is not made of rows of ${rowLength}`);
  return boxes.length / rowLength;
}

/** Centre/size boxes to corner boxes, in place. */
export function xywhToXyxy<T extends BoxArray>(boxes: T, rowLength = 4): T {
  for (let i = 0, n = rowCount(boxes, rowLength); i < n; i++) {
    const o = i * rowLength;
    const [cx, cy, w, h] = [boxes[o]!, boxes[o + 1]!, boxes[o + 2]!, boxes[o + 3]!];
    boxes[o] = cx - w / 2;
    boxes[o + 1] = cy - h / 2;
    boxes[o + 2] = cx + w / 2;
    boxes[o + 3] = cy + h / 2;
  }
  return boxes;
}

/** Corner boxes to centre/size boxes, in place. */
export function xyxyToXywh<T extends BoxArray>(boxes: T, rowLength = 4): T {
  for (let i = 0, n = rowCount(boxes, rowLength); i < n; i++) {
    const o = i * rowLength;
    const [x1, y1, x2, y2] = [boxes[o]!, boxes[o + 1]!, boxes[o + 2]!, boxes[o + 3]!];
    boxes[o] = (x1 + x2) / 2;
    boxes[o + 1] = (y1 + y2) / 2;
    boxes[o + 2] = x2 - x1;
    boxes[o + 3] = y2 - y1;
  }
  return boxes;
}

/** IoU of corner boxes a[i] and b[j] (rows of `rowLength`); eps keeps empty boxes finite. */
export function boxIouAt(a: BoxArray, i: number, b: BoxArray, j: number, rowLengthA = 4, rowLengthB = 4, eps = 1e-7): number {
  const p = i * rowLengthA;
  const q = j * rowLengthB;
  const iw = Math.min(a[p + 2]!, b[q + 2]!) - Math.max(a[p]!, b[q]!);
  const ih = Math.min(a[p + 3]!, b[q + 3]!) - Math.max(a[p + 1]!, b[q + 1]!);
  const inter = Math.max(iw, 0) * Math.max(ih, 0);
  const areaA = (a[p + 2]! - a[p]!) * (a[p + 3]! - a[p + 1]!);
  const areaB = (b[q + 2]! - b[q]!) * (b[q + 3]! - b[q + 1]!);
  return inter / (areaA + areaB - inter + eps);
}

/** Pairwise IoU matrix [n(a) × n(b)] of corner boxes. */
export function boxIou(a: BoxArray, b: BoxArray, rowLengthA = 4, rowLengthB = 4): Float64Array {
  const na = rowCount(a, rowLengthA);
  const nb = rowCount(b, rowLengthB);
  const out = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) out[i * nb + j] = boxIouAt(a, i, b, j, rowLengthA, rowLengthB);
  return out;
}

/** Clamps corner boxes to an image, in place. */
export function clipBoxes<T extends BoxArray>(boxes: T, size: Size, rowLength = 4): T {
  for (let i = 0, n = rowCount(boxes, rowLength); i < n; i++) {
    const o = i * rowLength;
    boxes[o] = Math.min(Math.max(boxes[o]!, 0), size.width);
    boxes[o + 1] = Math.min(Math.max(boxes[o + 1]!, 0), size.height);
    boxes[o + 2] = Math.min(Math.max(boxes[o + 2]!, 0), size.width);
    boxes[o + 3] = Math.min(Math.max(boxes[o + 3]!, 0), size.height);
  }
  return boxes;
}

/** How an image was placed in the network input: scaled by `gain`, then shifted by `pad` (left, top). */
export interface Placement {
  gain: number;
  pad: [number, number];
}

/** Maps corner boxes from network-input pixels back to original image pixels (undo padding and scale), clipped. */
export function scaleBoxesToOriginal<T extends BoxArray>(boxes: T, placement: Placement, original: Size, rowLength = 4): T {
  const { gain, pad } = placement;
  for (let i = 0, n = rowCount(boxes, rowLength); i < n; i++) {
    const o = i * rowLength;
    boxes[o] = (boxes[o]! - pad[0]) / gain;
    boxes[o + 1] = (boxes[o + 1]! - pad[1]) / gain;
    boxes[o + 2] = (boxes[o + 2]! - pad[0]) / gain;
    boxes[o + 3] = (boxes[o + 3]! - pad[1]) / gain;
  }
  return clipBoxes(boxes, original, rowLength);
}

/** Labels as classes plus corner boxes. */
export interface LabelBoxes {
  classes: Float64Array;
  /** Rows of [x1, y1, x2, y2]. */
  boxes: Float64Array;
}

/**
 * Normalised label rows [class, cx, cy, w, h] of an image resized to `resized` and padded by `pad` inside an input of
 * size `input`, as corner boxes in input pixels, kept just inside the input.
 */
export function labelsToInputPixels(labels: Float32Array, resized: Size, pad: [number, number], input: Size): LabelBoxes {
  const n = rowCount(labels, 5);
  const classes = new Float64Array(n);
  const boxes = new Float64Array(n * 4);
  // YOLOv5 clips labels to just inside the letterboxed image (1e-3 px), which its validation inherits.
  const maxX = input.width - 1e-3;
  const maxY = input.height - 1e-3;
  for (let i = 0; i < n; i++) {
    const [cls, cx, cy, w, h] = [labels[i * 5]!, labels[i * 5 + 1]!, labels[i * 5 + 2]!, labels[i * 5 + 3]!, labels[i * 5 + 4]!];
    classes[i] = cls;
    boxes[i * 4] = Math.min(Math.max(resized.width * (cx - w / 2) + pad[0], 0), maxX);
    boxes[i * 4 + 1] = Math.min(Math.max(resized.height * (cy - h / 2) + pad[1], 0), maxY);
    boxes[i * 4 + 2] = Math.min(Math.max(resized.width * (cx + w / 2) + pad[0], 0), maxX);
    boxes[i * 4 + 3] = Math.min(Math.max(resized.height * (cy + h / 2) + pad[1], 0), maxY);
  }
  return { classes, boxes };
}

/** Each image's labels (input pixels) as training targets: rows [image, class, cx, cy, w, h] normalised to `input`. */
export function targetRows(labels: readonly LabelBoxes[], input: Size): number[] {
  const rows: number[] = [];
  labels.forEach(({ classes, boxes }, image) => {
    classes.forEach((cls, k) => {
      const [x1, y1, x2, y2] = [boxes[4 * k]!, boxes[4 * k + 1]!, boxes[4 * k + 2]!, boxes[4 * k + 3]!];
      rows.push(image, cls, (x1 + x2) / 2 / input.width, (y1 + y2) / 2 / input.height, (x2 - x1) / input.width, (y2 - y1) / input.height);
    });
  });
  return rows;
}
