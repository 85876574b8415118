// The learning-rate recipe of YOLOv5 as pure functions of (epoch, iteration), so a resumed run lands on exactly
// the values the uninterrupted run would use: a per-epoch linear or cosine decay to lr0·lrf, and a warmup over
// the first iterations that ramps the weights' learning rates up from 0, the biases' down from warmup_bias_lr,
// the momentum up from warmup_momentum, and gradient accumulation up to the nominal batch.
import type { Hyp } from './hyp.js';

/** Default nominal batch size: gradients accumulate until about this many images have been seen. */
export const NOMINAL_BATCH = 64;
/** The warmup lasts at least this many iterations. */
export const MIN_WARMUP_ITERATIONS = 100;

/** Linear interpolation clamped to the end values (numpy.interp with two points). */
export function interp(x: number, [x0, x1]: readonly [number, number], [y0, y1]: readonly [number, number]): number {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
}

/** Rounds to the nearest integer, ties to even (numpy.round). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The learning-rate factor of an epoch: linear 1 → lrf, or a half cosine 1 → lrf over `epochs`. */
export function lrFactor(kind: 'linear' | 'cosine', lrf: number, epochs: number): (epoch: number) => number {
  if (kind === 'cosine') return (epoch) => ((1 - Math.cos((epoch * Math.PI) / epochs)) / 2) * (lrf - 1) + 1;
  return (epoch) => (1 - epoch / epochs) * (1 - lrf) + lrf;
}

export interface StepHyper {
  /** Learning rate per optimizer group: biases, weights with decay, weights without decay. */
  lr: [number, number, number];
  /** Learning rate of the channel gates (the fourth group). */
  gateLr: number;
  momentum: number;
  /** Optimizer steps happen once this many batches have accumulated. */
  accumulate: number;
}

export interface ScheduleOptions {
  epochs: number;
  batchesPerEpoch: number;
  batchSize: number;
  cosine: boolean;
  /** Images per optimizer step that gradients accumulate to (default 64, as YOLOv5). */
  nominalBatch?: number;
  /**
   * The gates' learning rate at the start, decaying with the epoch factor and without warmup: sparsity training
   * must move them within the few steps a fine-tuning schedule has. Default: the gates follow the weights.
   */
  gateLr?: number;
  /** The warmup lasts at least this many iterations (default 100, as YOLOv5). */
  minWarmupIterations?: number;
}

export class TrainingSchedule {
  readonly warmupIterations: number;
  readonly factor: (epoch: number) => number;
  /** Batches per optimizer step once warmup is over. */
  readonly accumulate: number;
  private readonly nominalBatch: number;

  constructor(
    private readonly hyp: Pick<Hyp, 'lr0' | 'lrf' | 'momentum' | 'warmup_epochs' | 'warmup_momentum' | 'warmup_bias_lr'>,
    private readonly options: ScheduleOptions,
  ) {
    this.warmupIterations = Math.max(Math.round(hyp.warmup_epochs * options.batchesPerEpoch), options.minWarmupIterations ?? MIN_WARMUP_ITERATIONS);
    this.factor = lrFactor(options.cosine ? 'cosine' : 'linear', hyp.lrf, options.epochs);
    this.nominalBatch = options.nominalBatch ?? NOMINAL_BATCH;
    this.accumulate = Math.max(roundHalfEven(this.nominalBatch / options.batchSize), 1);
  }

  /** Weight decay scaled to the images per optimizer step (the hyp value is for the nominal batch). */
  weightDecay(weightDecay: number): number {
    return (weightDecay * this.options.batchSize * this.accumulate) / this.nominalBatch;
  }

  /** Hyperparameters for batch `batch` (0-based) of `epoch`. */
  at(epoch: number, batch: number): StepHyper {
    const { hyp } = this;
    const ni = batch + this.options.batchesPerEpoch * epoch;
    const lr = hyp.lr0 * this.factor(epoch);
    const gateLr = this.options.gateLr === undefined ? undefined : this.options.gateLr * this.factor(epoch);
    if (ni > this.warmupIterations) return { lr: [lr, lr, lr], gateLr: gateLr ?? lr, momentum: hyp.momentum, accumulate: this.accumulate };
    const span = [0, this.warmupIterations] as const;
    const weightLr = interp(ni, span, [0, lr]);
    return {
      lr: [interp(ni, span, [hyp.warmup_bias_lr, lr]), weightLr, weightLr],
      gateLr: gateLr ?? weightLr,
      momentum: interp(ni, span, [hyp.warmup_momentum, hyp.momentum]),
      accumulate: Math.max(1, roundHalfEven(interp(ni, span, [1, this.nominalBatch / this.options.batchSize]))),
    };
  }
}
