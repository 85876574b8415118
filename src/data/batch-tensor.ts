// Images of one size to the network's input layout.
import { tensor, type Tensor } from '../torch/index.js';
import type { RgbImage } from './image.js';

/** Stacks HWC uint8 RGB images into a float32 [B, 3, H, W] tensor scaled to [0, 1]. */
export function imagesToTensor(images: readonly RgbImage[]): Tensor {
  if (images.length === 0) throw new RangeError('imagesToTensor: no images');
  const { width, height } = images[0]!;
  const plane = width * height;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(`imagesToTensor: image ${b} is ${image.width}x${image.height}, expected ${width}x${height}`);
    }
    const base = b * 3 * plane;
    const src = image.data;
    for (let p = 0, s = 0; p < plane; p++, s += 3) {
      out[base + p] = src[s]! / 255;
      out[base + plane + p] = src[s + 1]! / 255;
      out[base + 2 * plane + p] = src[s + 2]! / 255;
    }
  });
  return tensor(out, [images.length, 3, height, width]);
}
