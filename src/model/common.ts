// The building blocks of YOLOv5 (models/common.py in the official implementation), each an nn.Module.
// Output channels of every convolution go through a ChannelPlan so that pruned models (explicit channel
// counts in the config) build from the same code as the originals.
import { nn, cat, noGrad, ones, type Tensor } from '../torch/index.js';
import { traceModule, type ChannelTracer } from './trace.js';

/** Returns the channels of the convolution at `path` inside a layer: the config's explicit count, else `nominal`. */
export type ChannelPlan = (path: string, nominal: number) => number;

export const nominalPlan: ChannelPlan = (_path, nominal) => nominal;

export function subPlan(plan: ChannelPlan, prefix: string): ChannelPlan {
  return (path, nominal) => plan(path ? `${prefix}.${path}` : prefix, nominal);
}

export type ActivationFactory = () => nn.Module;

/** The activation named in a config's `activation` key (default SiLU). */
export function activationFactory(spec: string | undefined): ActivationFactory {
  if (spec === undefined || /^nn\.SiLU\(\)$/.test(spec)) return () => new nn.SiLU();
  if (/^nn\.ReLU\(\)$/.test(spec)) return () => new nn.ReLU();
  if (/^nn\.Hardswish\(\)$/.test(spec)) return () => new nn.Hardswish();
  const leaky = /^nn\.LeakyReLU\(([\d.eE+-]*)\)$/.exec(spec);
  if (leaky) {
    const slope = leaky[1] ? Number(leaky[1]) : 0.01;
    return () => new nn.LeakyReLU(slope);
  }
  throw new Error(`unsupported activation '${spec}' (use nn.SiLU(), nn.ReLU(), nn.LeakyReLU(slope) or nn.Hardswish())`);
}

/**
 * A learnable per-channel coefficient after an activation, initialised to 1 (the pruning method's gate).
 * A channel whose gate is 0 outputs exactly 0, so removing it changes nothing downstream.
 */
export class ChannelGate extends nn.Module {
  constructor(channels: number) {
    super();
    this.registerParameter('weight', ones([channels]));
  }
  get weight(): Tensor {
    return this.parameter('weight');
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.weight.view([1, -1, 1, 1]));
  }
}

/** Conv2d + BatchNorm2d + activation (+ optional gate). Padding defaults to 'same' for odd kernels. */
export class Conv extends nn.Module {
  readonly conv: nn.Conv2d;
  constructor(
    c1: number,
    c2: number,
    k = 1,
    s = 1,
    p: number | null = null,
    g = 1,
    d = 1,
    act: ActivationFactory | null = () => new nn.SiLU(),
  ) {
    super();
    const padding = p ?? Math.floor((d * (k - 1) + 1) / 2);
    this.conv = this.registerModule('conv', new nn.Conv2d(c1, c2, k, { stride: s, padding, groups: g, dilation: d, bias: false }));
    // eps and momentum as YOLOv5 sets them in initialize_weights().
    this.registerModule('bn', new nn.BatchNorm2d(c2, { eps: 1e-3, momentum: 0.03 }));
    this.registerModule('act', act ? act() : new nn.Identity());
  }

  get outChannels(): number {
    return this.conv.outChannels;
  }
  get bn(): nn.BatchNorm2d | null {
    return (this.child('bn') as nn.BatchNorm2d | undefined) ?? null;
  }
  get act(): nn.Module {
    return this.child('act')!;
  }
  get gate(): ChannelGate | null {
    return (this.child('gate') as ChannelGate | undefined) ?? null;
  }

  /** Inserts a channel gate (all ones) after the activation; the output is unchanged. */
  addGate(): ChannelGate {
    const gate = new ChannelGate(this.outChannels);
    this.setModule('gate', gate);
    return gate;
  }
  removeGate(): void {
    this.setModule('gate', null);
  }

  /** Folds BatchNorm into the convolution's weights and bias (inference only). */
  fuse(): void {
    const bn = this.bn;
    if (!bn) return;
    noGrad(() => {
      const scale = bn.weight.div(bn.runningVar.add(bn.eps).sqrt());
      this.conv.weight.mul_(scale.view([-1, 1, 1, 1]));
      const bias = bn.bias.sub(bn.runningMean.mul(scale));
      if (this.conv.hasBias) this.conv.bias!.mul_(scale).add_(bias);
      else this.conv.addBias(bias.detach());
      scale.dispose();
    });
    this.setModule('bn', null);
  }

  forward(x: Tensor): Tensor {
    let y = this.conv.forward(x);
    const bn = this.bn;
    if (bn) y = bn.forward(y);
    y = this.act.forward(y) as Tensor;
    const gate = this.gate;
    return gate ? gate.forward(y) : y;
  }

  trace<N>(g: ChannelTracer<N>, x: N): N {
    return g.conv(this, x);
  }
}

/** 1×1 then 3×3 convolution, with a residual add when `add`. */
export class Bottleneck extends nn.Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly add: boolean;
  /**
   * @param c1 actual input channels
   * @param c2 nominal output channels
   * @param residual whether the nominal architecture adds input and output (shortcut and c1 == c2 nominally);
   *   then the output must carry the input's channels, so it is not taken from the plan.
   */
  constructor(c1: number, c2: number, residual: boolean, g: number, e: number, plan: ChannelPlan, act: ActivationFactory) {
    super();
    const hidden = plan('cv1', Math.trunc(c2 * e));
    this.add = residual;
    this.cv1 = this.registerModule('cv1', new Conv(c1, hidden, 1, 1, null, 1, 1, act));
    this.cv2 = this.registerModule('cv2', new Conv(hidden, residual ? c1 : plan('cv2', c2), 3, 1, null, g, 1, act));
  }
  get outChannels(): number {
    return this.cv2.outChannels;
  }
  forward(x: Tensor): Tensor {
    const y = this.cv2.forward(this.cv1.forward(x));
    return this.add ? x.add(y) : y;
  }
  trace<N>(g: ChannelTracer<N>, x: N): N {
    const y = this.cv2.trace(g, this.cv1.trace(g, x));
    return this.add ? g.add(x, y) : y;
  }
}

/** CSP bottleneck with three convolutions: cv3(cat(m(cv1(x)), cv2(x))). */
export class C3 extends nn.Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly cv3: Conv;
  readonly m: nn.Sequential;
  constructor(c1: number, c2: number, n: number, shortcut: boolean, g: number, e: number, plan: ChannelPlan, act: ActivationFactory) {
    super();
    const hidden = Math.trunc(c2 * e);
    this.cv1 = this.registerModule('cv1', new Conv(c1, plan('cv1', hidden), 1, 1, null, 1, 1, act));
    this.cv2 = this.registerModule('cv2', new Conv(c1, plan('cv2', hidden), 1, 1, null, 1, 1, act));
    const blocks: Bottleneck[] = [];
    let channels = this.cv1.outChannels;
    for (let i = 0; i < n; i++) {
      const block = new Bottleneck(channels, hidden, shortcut, g, 1.0, subPlan(plan, `m.${i}`), act);
      blocks.push(block);
      channels = block.outChannels;
    }
    this.m = this.registerModule('m', new nn.Sequential(...blocks));
    this.cv3 = this.registerModule('cv3', new Conv(channels + this.cv2.outChannels, plan('cv3', c2), 1, 1, null, 1, 1, act));
  }
  get outChannels(): number {
    return this.cv3.outChannels;
  }
  forward(x: Tensor): Tensor {
    return this.cv3.forward(cat([this.m.forward(this.cv1.forward(x)), this.cv2.forward(x)], 1));
  }
  trace<N>(g: ChannelTracer<N>, x: N): N {
    return this.cv3.trace(g, g.cat([traceModule(this.m, g, this.cv1.trace(g, x)), this.cv2.trace(g, x)]));
  }
}

/** Spatial pyramid pooling, fast: three chained k×k max pools, concatenated. Same output as SPP(k, 2k-1, 3k-2). */
export class SPPF extends nn.Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly m: nn.MaxPool2d;
  constructor(c1: number, c2: number, k: number, c1Nominal: number, plan: ChannelPlan, act: ActivationFactory) {
    super();
    this.cv1 = this.registerModule('cv1', new Conv(c1, plan('cv1', Math.floor(c1Nominal / 2)), 1, 1, null, 1, 1, act));
    this.cv2 = this.registerModule('cv2', new Conv(this.cv1.outChannels * 4, plan('cv2', c2), 1, 1, null, 1, 1, act));
    this.m = this.registerModule('m', new nn.MaxPool2d(k, 1, Math.floor(k / 2)));
  }
  get outChannels(): number {
    return this.cv2.outChannels;
  }
  forward(x: Tensor): Tensor {
    const a = this.cv1.forward(x);
    const b = this.m.forward(a);
    const c = this.m.forward(b);
    return this.cv2.forward(cat([a, b, c, this.m.forward(c)], 1));
  }
  trace<N>(g: ChannelTracer<N>, x: N): N {
    const a = this.cv1.trace(g, x);
    const b = g.same(a);
    const c = g.same(b);
    return this.cv2.trace(g, g.cat([a, b, c, g.same(c)]));
  }
}

/** Spatial pyramid pooling with parallel max pools of sizes k. */
export class SPP extends nn.Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly pools: nn.MaxPool2d[];
  constructor(c1: number, c2: number, k: number[], c1Nominal: number, plan: ChannelPlan, act: ActivationFactory) {
    super();
    this.cv1 = this.registerModule('cv1', new Conv(c1, plan('cv1', Math.floor(c1Nominal / 2)), 1, 1, null, 1, 1, act));
    this.cv2 = this.registerModule('cv2', new Conv(this.cv1.outChannels * (k.length + 1), plan('cv2', c2), 1, 1, null, 1, 1, act));
    const pools = new nn.Sequential(...k.map((size) => new nn.MaxPool2d(size, 1, Math.floor(size / 2))));
    this.registerModule('m', pools);
    this.pools = pools.layers as nn.MaxPool2d[];
  }
  get outChannels(): number {
    return this.cv2.outChannels;
  }
  forward(x: Tensor): Tensor {
    const a = this.cv1.forward(x);
    return this.cv2.forward(cat([a, ...this.pools.map((p) => p.forward(a))], 1));
  }
  trace<N>(g: ChannelTracer<N>, x: N): N {
    const a = this.cv1.trace(g, x);
    return this.cv2.trace(g, g.cat([a, ...this.pools.map(() => g.same(a))]));
  }
}

/** Space-to-depth (each 2×2 block of pixels onto channels), then a Conv. */
export class Focus extends nn.Module {
  readonly conv: Conv;
  constructor(c1: number, c2: number, k: number, s: number, p: number | null, g: number, plan: ChannelPlan, act: ActivationFactory) {
    super();
    this.conv = this.registerModule('conv', new Conv(c1 * 4, plan('conv', c2), k, s, p, g, 1, act));
  }
  get outChannels(): number {
    return this.conv.outChannels;
  }
  forward(x: Tensor): Tensor {
    const even = (t: Tensor, dim: number) => t.slice(dim, 0, null, 2);
    const odd = (t: Tensor, dim: number) => t.slice(dim, 1, null, 2);
    return this.conv.forward(cat([even(even(x, 2), 3), even(odd(x, 2), 3), odd(even(x, 2), 3), odd(odd(x, 2), 3)], 1));
  }
  trace<N>(g: ChannelTracer<N>, x: N): N {
    return this.conv.trace(g, g.cat([g.same(x), g.same(x), g.same(x), g.same(x)]));
  }
}

export class Concat extends nn.Module {
  constructor(readonly dimension = 1) {
    super();
  }
  forward(xs: Tensor[]): Tensor {
    return cat(xs, this.dimension);
  }
  trace<N>(g: ChannelTracer<N>, xs: N[]): N {
    return g.cat(xs);
  }
}
