// MixUp (YOLOv5 `mixup`): two training images blended with a Beta(32, 32) ratio (almost always near 0.5), labels of
// both kept.
import type { RgbImage } from '../image.js';
import type { Rng } from '../../util/random.js';

/** Gamma(shape, 1) for shape ≥ 1, by Marsaglia and Tsang's method. */
function sampleGamma(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.next();
    if (Math.log(1 - u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  return x / (x + sampleGamma(rng, b));
}

export const MIXUP_ALPHA = 32;

/** `a·ratio + b·(1 - ratio)`, truncated to 8 bits; both images must have the same size. */
export function blendImages(a: RgbImage, b: RgbImage, ratio: number): RgbImage {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`mixup: images differ in size (${a.width}x${a.height} and ${b.width}x${b.height})`);
  }
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! * ratio + b.data[i]! * (1 - ratio);
  return { data: out, width: a.width, height: a.height };
}
