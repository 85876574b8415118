// Standard layers, initialised as PyTorch initialises them.
import { Module } from './module.js';
import { Tensor, cat, empty, full, ones, zeros } from '../tensor.js';
import type { ProcessGroup } from '../distributed.js';
import * as F from '../functional.js';
import { noGrad } from '../scope.js';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

function checkPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`expected a positive integer for ${what} but received ${value}`);
  }
}

/** PyTorch's default: kaiming_uniform(a=√5) for weights, U(±1/√fan_in) for biases — both bound 1/√fan_in. */
function uniformInit(shape: number[], fanIn: number): Tensor {
  const bound = 1 / Math.sqrt(Math.max(fanIn, 1));
  return noGrad(() => empty(shape).uniform_(-bound, bound));
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    checkPositiveInt(inChannels, 'Conv2d inChannels');
    checkPositiveInt(outChannels, 'Conv2d outChannels');
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`Conv2d: channels ${inChannels}→${outChannels} are not divisible by groups=${this.groups}`);
    }
    const fanIn = (inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    this.registerParameter('weight', uniformInit([outChannels, inChannels / this.groups, ...this.kernelSize], fanIn));
    if (options.bias ?? true) this.registerParameter('bias', uniformInit([outChannels], fanIn));
  }

  get weight(): Tensor {
    return this.parameter('weight');
  }
  get bias(): Tensor | null {
    return this.hasBias ? this.parameter('bias') : null;
  }
  get hasBias(): boolean {
    return this.hasParameter('bias');
  }
  /** Adds a zero bias (used when folding BatchNorm into the convolution). */
  addBias(value: Tensor): void {
    this.registerParameter('bias', value);
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  eps: number;
  momentum: number;
  /**
   * Synchronized BatchNorm (PyTorch's SyncBatchNorm): in training, the batch statistics are those of every rank's
   * batch together, gathered with this group (each rank must then run the same BatchNorm layers in the same order).
   */
  syncGroup: ProcessGroup | undefined;

  constructor(numFeatures: number, options: { eps?: number; momentum?: number } = {}) {
    super();
    checkPositiveInt(numFeatures, 'BatchNorm2d numFeatures');
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.registerParameter('weight', ones([numFeatures]));
    this.registerParameter('bias', zeros([numFeatures]));
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  get weight(): Tensor {
    return this.parameter('weight');
  }
  get bias(): Tensor {
    return this.parameter('bias');
  }
  get runningMean(): Tensor {
    return this.buffer('running_mean');
  }
  get runningVar(): Tensor {
    return this.buffer('running_var');
  }

  forward(x: Tensor): Tensor {
    if (this.training) noGrad(() => this.buffer('num_batches_tracked').add_(1));
    if (this.training && this.syncGroup && this.syncGroup.worldSize > 1) return this.syncForward(x, this.syncGroup);
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  /**
   * Batch statistics over all ranks, in two passes (the mean, then the centred second moment) so the variance is
   * as exact as the local kernel's; each reduction is differentiable, so the gradients account for every rank's
   * images as one batch's would.
   */
  private syncForward(x: Tensor, group: ProcessGroup): Tensor {
    const c = this.numFeatures;
    const local = x.numel / c;
    const sums = group.allReduceSumWithGrad(cat([x.sum([0, 2, 3]), full([1], local)]));
    const count = sums.narrow(0, c, 1);
    const mean = sums.narrow(0, 0, c).div(count);
    const centred = x.sub(mean.view([1, c, 1, 1]));
    const variance = group.allReduceSumWithGrad(centred.square().sum([0, 2, 3])).div(count);
    noGrad(() => {
      const n = count.item() as number;
      this.runningMean.mul_(1 - this.momentum).add_(mean.detach().mul(this.momentum));
      this.runningVar.mul_(1 - this.momentum).add_(variance.detach().mul((this.momentum * n) / Math.max(n - 1, 1)));
    });
    const scale = variance.add(this.eps).pow(-0.5).mul(this.weight);
    return centred.mul(scale.view([1, c, 1, 1])).add(this.bias.view([1, c, 1, 1]));
  }
}

/** Uses synchronized BatchNorm (see BatchNorm2d.syncGroup) in every BatchNorm layer of `module`; undefined stops it. */
export function syncBatchNorm(module: Module, group: ProcessGroup | undefined): void {
  for (const [, m] of module.namedModules()) if (m instanceof BatchNorm2d) m.syncGroup = group;
}

/** Training mode for `module` except its BatchNorm layers, which normalise with their running statistics and keep them. */
export function trainWithFrozenBatchNorm(module: Module): void {
  module.train();
  for (const [, m] of module.namedModules()) if (m instanceof BatchNorm2d) m.eval();
}

export class Linear extends Module {
  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    checkPositiveInt(inFeatures, 'Linear inFeatures');
    checkPositiveInt(outFeatures, 'Linear outFeatures');
    this.registerParameter('weight', uniformInit([outFeatures, inFeatures], inFeatures));
    if (options.bias ?? true) this.registerParameter('bias', uniformInit([outFeatures], inFeatures));
  }
  forward(x: Tensor): Tensor {
    const bias = this.hasParameter('bias') ? this.parameter('bias') : null;
    return F.linear(x, this.parameter('weight'), bias);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride: number = kernelSize,
    readonly padding: number = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.stride, this.padding);
  }
}

export class Upsample extends Module {
  constructor(readonly scaleFactor: number, readonly mode: 'nearest' = 'nearest') {
    super();
    if (mode !== 'nearest') throw new TypeError(`Upsample: only mode 'nearest' is supported, received '${mode}'`);
    checkPositiveInt(scaleFactor, 'Upsample scaleFactor');
  }
  forward(x: Tensor): Tensor {
    return F.upsampleNearest(x, this.scaleFactor);
  }
}

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((y, layer) => layer.forward(y) as Tensor, x);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
}
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return x.hardswish();
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
