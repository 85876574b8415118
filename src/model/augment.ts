// Test-time augmentation as YOLOv5 defines it: the batch at three scales, the middle one mirrored left-right,
// each run through the model, its boxes mapped back to the input's pixels, and all of them handed to one NMS.
import { cat, F, type Tensor } from '../torch/index.js';
import type { DetectionModel } from './yolo.js';

/** Scales of the augmented passes, and which of them is mirrored (YOLOv5's s = [1, 0.83, 0.67], f = [None, 3, None]). */
export const TTA_PASSES: readonly { scale: number; flip: boolean }[] = [
  { scale: 1, flip: false },
  { scale: 0.83, flip: true },
  { scale: 0.67, flip: false },
];
/** The grey that fills the padding of a shrunken pass (YOLOv5's letterbox colour 114/255, rounded as it does). */
const PAD_VALUE = 0.447;

/**
 * Shrinks a [B, 3, H, W] batch to ⌊H·ratio⌋ × ⌊W·ratio⌋ (bilinear) and pads it on the right and bottom to the next
 * multiple of `step`, so the model accepts it.
 */
function shrink(x: Tensor, ratio: number, step: number): Tensor {
  if (ratio === 1) return x;
  const [, , h, w] = x.shape as [number, number, number, number];
  const size: [number, number] = [Math.trunc(h * ratio), Math.trunc(w * ratio)];
  const padded = [h, w].map((v) => Math.ceil((v * ratio) / step) * step) as [number, number];
  return F.pad(F.resizeBilinear(x, size), [0, padded[1] - size[1], 0, padded[0] - size[0]], PAD_VALUE);
}

/**
 * Decoded predictions [B, N, 5 + nc] of the augmented passes, in the input's pixels. The full-size pass leaves out
 * its coarsest level and the smallest pass its finest: there each would only see objects at a size the other
 * passes see better.
 */
export function augmentedInfer(model: DetectionModel, x: Tensor): Tensor {
  const width = x.shape[3]!;
  const step = Math.max(...model.stride, 32);
  const parts = TTA_PASSES.map(({ scale, flip }, pass) => {
    const raw = model.forward(shrink(flip ? x.flip([3]) : x, scale, step));
    // Boxes per level, in the order decode concatenates them.
    const counts = raw.map((level) => level.shape[1]! * level.shape[2]! * level.shape[3]!);
    let y = model.detect.decode(raw);
    raw.forEach((level) => level.dispose());
    const first = pass === TTA_PASSES.length - 1 ? counts[0]! : 0;
    const last = pass === 0 ? counts.length - 1 : counts.length;
    const kept = counts.slice(0, last).reduce((a, b) => a + b, 0) - first;
    if (first > 0 || kept !== y.shape[1]) y = y.narrow(1, first, kept);
    const xy = y.narrow(2, 0, 2).div(scale);
    const wh = y.narrow(2, 2, 2).div(scale);
    const cx = flip ? xy.narrow(2, 0, 1).neg().add(width) : xy.narrow(2, 0, 1);
    return cat([cx, xy.narrow(2, 1, 1), wh, y.narrow(2, 4, y.shape[2]! - 4)], 2);
  });
  return cat(parts, 1);
}
