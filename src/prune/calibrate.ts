// Statistics measured on a few calibration batches: channel means for bias compensation, activation
// magnitudes to break the initial tie between gates, and fresh BatchNorm running statistics after surgery.
import { nn, noGrad, tidy, type Tensor } from '../torch/index.js';
import { Conv } from '../model/common.js';
import type { DetectionModel } from '../model/yolo.js';

export type Batches = Iterable<Tensor> | AsyncIterable<Tensor>;

/** Mean over (batch, height, width) of each channel, accumulated over batches. */
class ChannelMeans {
  private readonly sums = new Map<nn.Module, Float64Array>();
  private readonly counts = new Map<nn.Module, number>();
  add(module: nn.Module, x: Tensor, transform: (t: Tensor) => Tensor = (t) => t): void {
    const means = tidy(() => transform(x).mean([0, 2, 3]).data() as Float32Array);
    const [batch, , h, w] = x.shape as [number, number, number, number];
    const weight = batch * h * w;
    let sum = this.sums.get(module);
    if (!sum) this.sums.set(module, (sum = new Float64Array(means.length)));
    means.forEach((m, i) => (sum![i]! += m * weight));
    this.counts.set(module, (this.counts.get(module) ?? 0) + weight);
  }
  result<M extends nn.Module>(): Map<M, Float32Array> {
    const out = new Map<M, Float32Array>();
    for (const [module, sum] of this.sums) out.set(module as M, Float32Array.from(sum, (s) => s / this.counts.get(module)!));
    return out;
  }
}

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

/** Per convolution, the mean of each input channel (eval mode), for folding removed channels into biases. */
export async function measureInputMeans(model: DetectionModel, batches: Batches, maxImages = 64): Promise<Map<nn.Conv2d, Float32Array>> {
  const means = new ChannelMeans();
  const convs = [...model.namedModules()].map(([, m]) => m).filter((m) => m instanceof nn.Conv2d);
  model.eval();
  await nn.withForwardHooks(
    convs,
    (module, inputs) => means.add(module, inputs[0] as Tensor),
    () => forEachBatch(batches, maxImages, (x) => void model.forward(x)),
  );
  return means.result<nn.Conv2d>();
}

/** Per Conv block, the mean |activation| of each output channel before its gate: the importance that breaks ties. */
export async function measureActivationMagnitudes(model: DetectionModel, batches: Batches, maxImages = 32): Promise<Map<Conv, Float32Array>> {
  const means = new ChannelMeans();
  const blocks = [...model.namedModules()].map(([, m]) => m).filter((m): m is Conv => m instanceof Conv);
  const acts = new Map<nn.Module, Conv>(blocks.map((b) => [b.act, b]));
  const wasTraining = model.training;
  model.eval();
  try {
    await nn.withForwardHooks(
      acts.keys(),
      (act, _inputs, output) => means.add(acts.get(act)!, output as Tensor, (t) => t.abs()),
      () => forEachBatch(batches, maxImages, (x) => void model.forward(x)),
    );
  } finally {
    model.train(wasTraining);
  }
  return means.result<Conv>();
}

/**
 * Recomputes every BatchNorm's running mean and variance as plain averages over the calibration images
 * (training-mode forwards without gradients), then leaves the model in eval mode.
 */
export async function recalibrateBatchNorm(model: DetectionModel, batches: Batches, maxImages = 256): Promise<number> {
  const norms = [...model.namedModules()].map(([, m]) => m).filter((m): m is nn.BatchNorm2d => m instanceof nn.BatchNorm2d);
  const momenta = norms.map((bn) => bn.momentum);
  noGrad(() =>
    norms.forEach((bn) => {
      bn.runningMean.zero_();
      bn.runningVar.fill_(1);
    }),
  );
  model.train();
  let step = 0;
  try {
    return await forEachBatch(batches, maxImages, (x) => {
      // momentum 1/(k+1) turns the exponential average into the mean over all batches so far.
      norms.forEach((bn) => (bn.momentum = 1 / (step + 1)));
      model.forward(x);
      step++;
    });
  } finally {
    norms.forEach((bn, i) => (bn.momentum = momenta[i]!));
    model.eval();
  }
}
