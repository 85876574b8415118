// Fitting images to the network input: shrink the long side to the inference size, then pad to the batch shape.
import type { NetworkInput } from './batch-tensor.js';
import type { RgbImage } from './image.js';
import { preprocessor, uninitialisedFloats, type Placement, type Preprocessor } from './preprocess.js';
import { number } from '../util/check.js';

export interface Size {
  width: number;
  height: number;
}

export const LETTERBOX_GREY = 114;

export interface LetterboxOptions {
  /** Padding value for all three channels. */
  color?: number;
  /** Pad only up to the next multiple of `stride` instead of the full target (minimum rectangle). */
  auto?: boolean;
  /** Stretch to the target without keeping the aspect ratio (no padding). */
  scaleFill?: boolean;
  /** Allow enlarging; validation turns this off so small images are not upsampled. */
  scaleup?: boolean;
  stride?: number;
  /** The implementation: by default the one chosen when the library loads (see preprocess.ts). */
  preprocessor?: Preprocessor;
}

export interface Letterboxed {
  image: RgbImage;
  /** Scale factors applied (width, height). */
  ratio: [number, number];
  /** Padding added on the left and on the top before rounding; each side gets about this much. */
  pad: [number, number];
}

/** Where letterboxing puts an image: its resized size and the padding on each side. */
interface LetterboxPlan {
  resized: Size;
  placement: Placement;
  ratio: [number, number];
  pad: [number, number];
}

function planLetterbox(image: Size, target: Size | number, options: LetterboxOptions): LetterboxPlan {
  const { color = LETTERBOX_GREY, auto = true, scaleFill = false, scaleup = true, stride = 32 } = options;
  const shape = typeof target === 'number' ? { width: target, height: target } : target;

  let r = Math.min(shape.height / image.height, shape.width / image.width);
  if (!scaleup) r = Math.min(r, 1);
  let ratio: [number, number] = [r, r];
  // At least one pixel: a very long, thin image (1x8000) would otherwise round to an empty side.
  let unpadded = { width: Math.max(1, Math.round(image.width * r)), height: Math.max(1, Math.round(image.height * r)) };
  let dw = shape.width - unpadded.width;
  let dh = shape.height - unpadded.height;
  if (auto) {
    dw %= stride;
    dh %= stride;
  } else if (scaleFill) {
    dw = 0;
    dh = 0;
    unpadded = { ...shape };
    ratio = [shape.width / image.width, shape.height / image.height];
  }
  dw /= 2;
  dh /= 2;
  // The ±0.1 splits an odd padding as floor on the top/left and ceil on the bottom/right.
  const top = Math.round(dh - 0.1);
  const left = Math.round(dw - 0.1);
  const placement = {
    width: unpadded.width + left + Math.round(dw + 0.1),
    height: unpadded.height + top + Math.round(dh + 0.1),
    left,
    top,
    pad: color,
  };
  return { resized: unpadded, placement, ratio, pad: [dw, dh] };
}

/** Resizes keeping the aspect ratio and pads to `target` (YOLOv5 `letterbox`). */
export function letterbox(image: RgbImage, target: Size | number, options: LetterboxOptions = {}): Letterboxed {
  const { resized, placement, ratio, pad } = planLetterbox(image, target, options);
  const asImage = (size: Size): boolean => size.width === image.width && size.height === image.height;
  const using = options.preprocessor ?? preprocessor;
  const boxed = asImage(resized) && asImage(placement) ? image : using.toRgb(image, resized.width, resized.height, 'linear', placement);
  return { image: boxed, ratio, pad };
}

/** The network input of `letterbox` (batch of one, [1, 3, H, W] float32 in [0, 1]), in one pass where the image addon is built. */
export function letterboxInput(image: RgbImage, target: Size | number, options: LetterboxOptions = {}): { input: NetworkInput; ratio: [number, number]; pad: [number, number] } {
  const { resized, placement, ratio, pad } = planLetterbox(image, target, options);
  const data = uninitialisedFloats(3 * placement.width * placement.height);
  (options.preprocessor ?? preprocessor).toInput(image, resized.width, resized.height, 'linear', data, placement);
  return { input: { data, shape: [1, 3, placement.height, placement.width] }, ratio, pad };
}

/**
 * Scales so the long side equals `imgsz` (YOLOv5 `load_image`): the new size is truncated to whole pixels, and
 * shrinking uses area averaging unless augmenting.
 */
export function fitLongSide(image: RgbImage, imgsz: number, options: { augment?: boolean } = {}): RgbImage {
  const r = imgsz / Math.max(image.width, image.height);
  if (r === 1) return image;
  const interpolation = options.augment || r > 1 ? 'linear' : 'area';
  return preprocessor.toRgb(image, Math.max(1, Math.trunc(image.width * r)), Math.max(1, Math.trunc(image.height * r)), interpolation);
}

/** The smallest multiple of `stride` not below `imgsz` (inputs must divide by the model's largest stride). */
export function strideMultiple(imgsz: number, stride: number): number {
  number('image size', imgsz, { min: 0, minExclusive: true });
  number('stride', stride, { min: 0, minExclusive: true });
  return Math.ceil(imgsz / stride) * stride;
}

/**
 * YOLOv5's check_img_size for sizes as given on the command line (one, or height and width): each rounded up to a
 * multiple of the model's largest stride and to at least `floor`, with the warning YOLOv5 prints when one changes.
 */
export function checkImgSize(sizes: readonly number[], stride: number, floor = 0): { sizes: number[]; warning?: string } {
  const fitted = sizes.map((s) => Math.max(strideMultiple(s, stride), floor));
  if (fitted.every((s, i) => s === sizes[i])) return { sizes: fitted };
  return { sizes: fitted, warning: `WARNING: --img ${sizes.join(' ')} must be a multiple of max stride ${stride}, updating to ${fitted.join(' ')}` };
}
