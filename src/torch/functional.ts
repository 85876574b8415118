// Stateless neural-network operators (torch.nn.functional).
import { callOp, Tensor } from './tensor.js';
import type { Handle } from './native.js';

function t(qualified: string, ...args: unknown[]): Tensor {
  return new Tensor(callOp(qualified, ...args) as Handle);
}
const opt = (x: Tensor | null | undefined): Handle | null => (x ? x.handle : null);
const pair = (v: number | readonly [number, number]): number[] => (typeof v === 'number' ? [v, v] : [...v]);

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const [inputRank, weightRank] = [input.ndim, weight.ndim];
  if (inputRank !== 4 || weightRank !== 4) {
    throw new RangeError(`conv2d: expected 4-D input and weight but received ${inputRank}-D input and ${weightRank}-D weight`);
  }
  return t(
    'aten::conv2d',
    input.handle,
    weight.handle,
    opt(bias),
    pair(options.stride ?? 1),
    pair(options.padding ?? 0),
    pair(options.dilation ?? 1),
    options.groups ?? 1,
  );
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions): Tensor {
  return t(
    'aten::batch_norm',
    input.handle,
    opt(o.weight),
    opt(o.bias),
    opt(runningMean),
    opt(runningVar),
    o.training,
    o.momentum ?? 0.1,
    o.eps ?? 1e-5,
    false,
  );
}

export function maxPool2d(
  input: Tensor,
  kernelSize: number | [number, number],
  stride: number | [number, number] = kernelSize,
  padding: number | [number, number] = 0,
): Tensor {
  return t('aten::max_pool2d', input.handle, pair(kernelSize), pair(stride), pair(padding), [1, 1], false);
}

/** Nearest-neighbour upsampling by an integer factor (nn.Upsample(scale_factor, mode='nearest')). */
export function upsampleNearest(input: Tensor, scaleFactor: number): Tensor {
  if (input.ndim !== 4) throw new RangeError(`upsampleNearest: expected a 4-D input but received ${input.ndim}-D`);
  if (!Number.isInteger(scaleFactor) || scaleFactor < 1) {
    throw new TypeError(`upsampleNearest: expected a positive integer scale factor but received ${scaleFactor}`);
  }
  const [, , height, width] = input.shape as [number, number, number, number];
  return t('aten::upsample_nearest2d', input.handle, [height * scaleFactor, width * scaleFactor], scaleFactor, scaleFactor);
}

/** Bilinear resize to [height, width] (F.interpolate(size=..., mode='bilinear', align_corners=False)). */
export function resizeBilinear(input: Tensor, size: readonly [number, number]): Tensor {
  if (input.ndim !== 4) throw new RangeError(`resizeBilinear: expected a 4-D input but received ${input.ndim}-D`);
  return t('aten::upsample_bilinear2d', input.handle, [...size], false, null, null);
}

/** Constant padding; `pads` as in F.pad: [left, right, top, bottom, ...] from the last dimension backwards. */
export function pad(input: Tensor, pads: readonly number[], value = 0): Tensor {
  return t('aten::constant_pad_nd', input.handle, pads, value);
}

export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return t('aten::linear', input.handle, weight.handle, opt(bias));
}

export type Reduction = 'none' | 'mean' | 'sum';
const reductionCode = (r: Reduction): number => ({ none: 0, mean: 1, sum: 2 })[r];

export interface BceOptions {
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, o: BceOptions = {}): Tensor {
  return t(
    'aten::binary_cross_entropy_with_logits',
    input.handle,
    target.handle,
    opt(o.weight),
    opt(o.posWeight),
    reductionCode(o.reduction ?? 'mean'),
  );
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return t('aten::mse_loss', input.handle, target.handle, reductionCode(reduction));
}

export function crossEntropy(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return t('aten::cross_entropy_loss', input.handle, target.handle, null, reductionCode(reduction), -100, 0);
}
