// Statistics measured on a few calibration batches: input channel statistics for reconstructing removed channels,
// activation magnitudes to break the initial tie between gates, and fresh BatchNorm running statistics after surgery.
import { nn, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { Conv } from '../model/common.js';
import type { DetectionModel } from '../model/yolo.js';
import type { InputStatistics } from './reconstruct.js';

export type Batches = Iterable<Tensor> | AsyncIterable<Tensor>;

async function forEachBatch(batches: Batches, limit: number, run: (x: Tensor) => void): Promise<number> {
  let seen = 0;
  for await (const x of batches) {
    if (seen >= limit) break;
    noGrad(() => tidy(() => run(x)));
    seen += x.shape[0]!;
  }
  if (seen === 0) throw new Error('calibration needs at least one batch of images');
  return seen;
}

/**
 * Sums of each channel (and optionally of each product of two channels) over all pixels, accumulated over
 * batches. Values are taken relative to the first batch's channel means: a channel with a large mean and a tiny
 * spread (common after sparsity training) would otherwise lose its covariance to float32 cancellation.
 */
class ChannelMoments {
  private readonly sum: Float64Array;
  private readonly products: Float64Array | undefined;
  private shift: Float32Array | undefined;
  private count = 0;
  constructor(
    private readonly channels: number,
    withProducts: boolean,
  ) {
    this.sum = new Float64Array(channels);
    this.products = withProducts ? new Float64Array(channels * channels) : undefined;
  }
  add(x: Tensor): void {
    const [batch, channels, h, w] = x.shape as [number, number, number, number];
    const n = batch * h * w;
    tidy(() => {
      this.shift ??= x.mean([0, 2, 3]).data() as Float32Array;
      const flat = x.transpose(0, 1).reshape([channels, n]).sub(tensor(this.shift, [channels, 1]));
      (flat.sum(1).data() as Float32Array).forEach((v, c) => (this.sum[c]! += v));
      if (this.products) (flat.matmul(flat.transpose(0, 1)).data() as Float32Array).forEach((v, i) => (this.products![i]! += v));
    });
    this.count += n;
  }
  result(): InputStatistics {
    const c = this.channels;
    const offset = Float64Array.from(this.sum, (s) => s / this.count);
    const mean = Float32Array.from(offset, (o, i) => this.shift![i]! + o);
    if (!this.products) return { mean };
    const covariance = Float64Array.from(this.products, (p, i) => p / this.count - offset[Math.floor(i / c)]! * offset[i % c]!);
    return { mean, covariance };
  }
}

function accumulate<K>(moments: Map<K, ChannelMoments>, key: K, x: Tensor, withProducts: boolean): void {
  let entry = moments.get(key);
  if (!entry) moments.set(key, (entry = new ChannelMoments(x.shape[1]!, withProducts)));
  entry.add(x);
}

/** Runs `measure` with the model in eval mode, then restores its mode. */
async function inEvalMode<T>(model: DetectionModel, measure: () => Promise<T>): Promise<T> {
  const wasTraining = model.training;
  model.eval();
  try {
    return await measure();
  } finally {
    model.train(wasTraining);
  }
}

/**
 * Per convolution, the mean of each input channel (eval mode) and, with `covariance`, their covariance: what
 * surgery needs to replace removed input channels by their means or by their least-squares reconstruction.
 */
export async function measureInputStatistics(
  model: DetectionModel,
  batches: Batches,
  maxImages = 64,
  { covariance = true } = {},
): Promise<Map<nn.Conv2d, InputStatistics>> {
  const moments = new Map<nn.Conv2d, ChannelMoments>();
  const convs = [...model.namedModules()].map(([, m]) => m).filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
  await inEvalMode(model, () =>
    nn.withForwardHooks(
      convs,
      (module, inputs) => accumulate(moments, module as nn.Conv2d, inputs[0] as Tensor, covariance),
      () => forEachBatch(batches, maxImages, (x) => void model.forward(x)),
    ),
  );
  return new Map([...moments].map(([conv, m]) => [conv, m.result()]));
}

/** Per Conv block, the mean |activation| of each output channel before its gate: the importance that breaks ties. */
export async function measureActivationMagnitudes(model: DetectionModel, batches: Batches, maxImages = 32): Promise<Map<Conv, Float32Array>> {
  const moments = new Map<Conv, ChannelMoments>();
  const blocks = [...model.namedModules()].map(([, m]) => m).filter((m): m is Conv => m instanceof Conv);
  const acts = new Map<nn.Module, Conv>(blocks.map((b) => [b.act, b]));
  await inEvalMode(model, () =>
    nn.withForwardHooks(
      acts.keys(),
      (act, _inputs, output) => accumulate(moments, acts.get(act)!, (output as Tensor).abs(), false),
      () => forEachBatch(batches, maxImages, (x) => void model.forward(x)),
    ),
  );
  return new Map([...moments].map(([block, m]) => [block, m.result().mean]));
}

export interface BatchNormStats {
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * The mean and (unbiased) variance of every BatchNorm's input over the calibration images, keyed by the
 * BatchNorm's module name. One training-mode pass, so each layer sees inputs normalised by current-batch
 * statistics (as if every earlier layer were already recalibrated); statistics are pooled exactly over all images
 * (averaging per-batch variances would leave out the variance between batches). Running statistics are untouched.
 */
export async function measureBatchNormInputs(model: DetectionModel, batches: Batches, maxImages = 256): Promise<Map<string, BatchNormStats>> {
  const norms = [...model.namedModules()].filter((e): e is [string, nn.BatchNorm2d] => e[1] instanceof nn.BatchNorm2d);
  const names = new Map<nn.Module, string>(norms.map(([name, bn]) => [bn, name]));
  const sums = new Map<string, { sum: Float64Array; squares: Float64Array; count: number }>();
  const momenta = norms.map(([, bn]) => bn.momentum);
  const wasTraining = model.training;
  norms.forEach(([, bn]) => (bn.momentum = 0)); // running = (1 - 0)·running + 0·batch: left as it is
  model.train();
  try {
    await nn.withForwardHooks(
      names.keys(),
      (module, inputs) => {
        const x = inputs[0] as Tensor;
        const [batch, channels, h, w] = x.shape as [number, number, number, number];
        const [mean, square] = tidy(() => [x.mean([0, 2, 3]).data(), x.square().mean([0, 2, 3]).data()] as Float32Array[]);
        const name = names.get(module)!;
        let entry = sums.get(name);
        if (!entry) sums.set(name, (entry = { sum: new Float64Array(channels), squares: new Float64Array(channels), count: 0 }));
        const n = batch * h * w;
        for (let c = 0; c < channels; c++) {
          entry.sum[c]! += mean![c]! * n;
          entry.squares[c]! += square![c]! * n;
        }
        entry.count += n;
      },
      () => forEachBatch(batches, maxImages, (x) => void model.forward(x)),
    );
  } finally {
    norms.forEach(([, bn], i) => (bn.momentum = momenta[i]!));
    model.train(wasTraining);
  }
  const stats = new Map<string, BatchNormStats>();
  for (const [name, { sum, squares, count }] of sums) {
    const mean = Float32Array.from(sum, (v) => v / count);
    const unbiased = count / Math.max(1, count - 1);
    stats.set(name, { mean, variance: Float32Array.from(squares, (v, c) => Math.max(0, v / count - mean[c]! ** 2) * unbiased) });
  }
  return stats;
}

/**
 * Moves the pruned model's BatchNorm statistics by the shift surgery caused, measured on calibration images:
 * mean = original + (after − before), variance = original · after / before, per kept channel. Applying the
 * measured change to the original statistics (estimated on the full training set) instead of replacing them with
 * estimates from a few hundred images keeps an unchanged layer exactly as it was.
 * @param kept the original channel index of each of the pruned BatchNorm's channels
 */
export function shiftBatchNormStatistics(
  original: DetectionModel,
  before: Map<string, BatchNormStats>,
  pruned: DetectionModel,
  after: Map<string, BatchNormStats>,
  kept: (batchNormName: string) => number[],
): void {
  const originals = new Map([...original.namedModules()].filter((e): e is [string, nn.BatchNorm2d] => e[1] instanceof nn.BatchNorm2d));
  noGrad(() =>
    tidy(() => {
      for (const [name, bn] of pruned.namedModules()) {
        if (!(bn instanceof nn.BatchNorm2d)) continue;
        const source = originals.get(name);
        const [b, a] = [before.get(name), after.get(name)];
        if (!source || !b || !a) throw new Error(`BatchNorm ${name}: no statistics measured before and after surgery`);
        const index = kept(name);
        const mean = source.runningMean.data() as Float32Array;
        const variance = source.runningVar.data() as Float32Array;
        const newMean = Float32Array.from(index, (c, i) => mean[c]! + (a.mean[i]! - b.mean[c]!));
        const newVariance = Float32Array.from(index, (c, i) => variance[c]! * ((a.variance[i]! + 1e-12) / (b.variance[c]! + 1e-12)));
        bn.runningMean.copy_(tensor(newMean));
        bn.runningVar.copy_(tensor(newVariance));
      }
    }),
  );
}
