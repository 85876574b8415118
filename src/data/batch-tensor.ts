// Images of one size to the network's input layout.
import { tensor, type Tensor } from '../torch/index.js';
import type { RgbImage } from './image.js';
import { preprocessor, uninitialisedFloats } from './preprocess.js';

/** A float32 network input in [B, 3, H, W] layout, scaled to [0, 1]. */
export interface NetworkInput {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Stacks HWC uint8 RGB images into a [B, 3, H, W] float32 array scaled to [0, 1], without touching libtorch. */
export function imagesToInput(images: readonly RgbImage[]): NetworkInput {
  if (images.length === 0) throw new RangeError('network input: no images');
  const { width, height } = images[0]!;
  const plane = width * height;
  const out = uninitialisedFloats(images.length * 3 * plane);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height) {
      throw new RangeError(`network input: image ${b} is ${image.width}x${image.height}, expected ${width}x${height}`);
    }
    // At its own size: a conversion only, the interpolation is never used.
    preprocessor.toInput(image, width, height, 'linear', out.subarray(b * 3 * plane, (b + 1) * 3 * plane));
  });
  return { data: out, shape: [images.length, 3, height, width] };
}

/** The same as a libtorch tensor. */
export function imagesToTensor(images: readonly RgbImage[]): Tensor {
  const { data, shape } = imagesToInput(images);
  return tensor(data, shape);
}
