// Several letterboxed images in one network input, padded to a common shape as YOLOv5's AutoShape batches them.
import type { NetworkInput } from '../data/batch-tensor.js';
import { LETTERBOX_GREY } from '../data/letterbox.js';
import { uninitialisedFloats } from '../data/preprocess.js';

/** Where an image's own input sits in its slot of the batch: its top-left corner. */
export interface Offset {
  left: number;
  top: number;
}

/**
 * One [n, 3, H, W] input from single-image inputs [1, 3, h, w]: H and W the largest of each (stride multiples, as
 * the inputs are), every image centred in its slot on letterbox grey. Each image keeps the scale it has alone, so
 * images whose inputs share a shape get exactly the input they would get alone.
 */
export function stackInputs(inputs: readonly NetworkInput[]): { input: NetworkInput; offsets: Offset[] } {
  if (inputs.length === 1) return { input: inputs[0]!, offsets: [{ left: 0, top: 0 }] };
  const height = Math.max(...inputs.map((one) => one.shape[2]));
  const width = Math.max(...inputs.map((one) => one.shape[3]));
  const plane = height * width;
  const data = uninitialisedFloats(inputs.length * 3 * plane);
  const offsets = inputs.map((one, b): Offset => {
    const [, , h, w] = one.shape;
    const slot = data.subarray(b * 3 * plane, (b + 1) * 3 * plane);
    if (h === height && w === width) {
      slot.set(one.data);
      return { left: 0, top: 0 };
    }
    const offset = { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2) };
    slot.fill(LETTERBOX_GREY / 255);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        const from = (c * h + y) * w;
        slot.set(one.data.subarray(from, from + w), c * plane + (offset.top + y) * width + offset.left);
      }
    }
    return offset;
  });
  return { input: { data, shape: [inputs.length, 3, height, width] }, offsets };
}
