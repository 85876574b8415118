// Rectangular batches (YOLOv5 `rect=True`): images sorted by aspect ratio so each batch needs little padding, and
// each batch gets the smallest stride-multiple shape that holds its images at the inference size.
import { numpyArgsort } from './argsort.js';
import type { Size } from './letterbox.js';
import { integer } from '../util/check.js';

export interface RectBatch {
  /** Indices into the input list, in the order they appear in the batch. */
  indices: number[];
  /** Network input size of this batch. */
  shape: Size;
}

export interface RectBatchOptions {
  imgsz: number;
  batchSize: number;
  /** The model's largest stride; shapes are multiples of it. */
  stride: number;
  /** Extra margin in strides (0.5 for validation), so boxes near the border keep some context. */
  pad?: number;
}

export function planRectBatches(sizes: readonly Size[], options: RectBatchOptions): RectBatch[] {
  const { imgsz, batchSize, stride, pad = 0.5 } = options;
  integer('batch size', batchSize, { min: 1 });
  const aspect = sizes.map((s) => s.height / s.width);
  // Images of equal ratio fall into batches as in YOLOv5 only in numpy's (unstable) order.
  const order = numpyArgsort(aspect);
  const toShape = (relative: number): number => Math.ceil((relative * imgsz) / stride + pad) * stride;

  const batches: RectBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const lo = aspect[indices[0]!]!;
    const hi = aspect[indices[indices.length - 1]!]!;
    // Relative (height, width): landscape batches keep the full width, portrait ones the full height.
    const [h, w] = hi < 1 ? [hi, 1] : lo > 1 ? [1, 1 / lo] : [1, 1];
    batches.push({ indices, shape: { width: toShape(w), height: toShape(h) } });
  }
  return batches;
}
