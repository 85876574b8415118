// The augmentation part of YOLOv5's hyperparameters, with the defaults of data/hyps/hyp.scratch-low.yaml.

export interface AugmentHyp {
  /** HSV jitter: each gain is drawn from 1 ± this fraction. */
  hsv_h: number;
  hsv_s: number;
  hsv_v: number;
  /** Rotation range, ± degrees. */
  degrees: number;
  /** Translation range, ± fraction of the output size. */
  translate: number;
  /** Scale range, 1 ± this gain. */
  scale: number;
  /** Shear range, ± degrees. */
  shear: number;
  /** Perspective range, ± this fraction (0 … 0.001 is sensible). */
  perspective: number;
  /** Probabilities. */
  flipud: number;
  fliplr: number;
  mosaic: number;
  mixup: number;
}

export const DEFAULT_AUGMENT_HYP: Readonly<AugmentHyp> = Object.freeze({
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0,
  translate: 0.1,
  scale: 0.5,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0.5,
  mosaic: 1,
  mixup: 0,
});

const PROBABILITIES: readonly (keyof AugmentHyp)[] = ['flipud', 'fliplr', 'mosaic', 'mixup'];

/** The defaults overridden by `hyp`'s augmentation keys (other keys, e.g. lr0, are ignored); checks every value. */
export function resolveAugmentHyp(hyp: Partial<Record<keyof AugmentHyp, unknown>> = {}): AugmentHyp {
  const resolved = { ...DEFAULT_AUGMENT_HYP };
  for (const key of Object.keys(DEFAULT_AUGMENT_HYP) as (keyof AugmentHyp)[]) {
    const value = hyp[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`hyperparameter ${key} must be a non-negative number, got ${JSON.stringify(value)}`);
    }
    if (PROBABILITIES.includes(key) && value > 1) throw new Error(`hyperparameter ${key} is a probability, got ${value}`);
    resolved[key] = value;
  }
  if (resolved.scale >= 1) throw new Error(`hyperparameter scale must be below 1 (scales are drawn from 1 ± scale), got ${resolved.scale}`);
  return resolved;
}
