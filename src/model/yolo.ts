// The YOLOv5 detection model: a graph of layers built from a config (official models/yolo.py: parse_model, Model).
import { nn, keep, noGrad, tidy, zeros, type Tensor } from '../torch/index.js';
import { type ModelConfig, cloneConfig, validateModelConfig } from './config.js';
import {
  C3,
  Bottleneck,
  Concat,
  Conv,
  Focus,
  SPP,
  SPPF,
  activationFactory,
  subPlan,
  type ActivationFactory,
  type ChannelPlan,
} from './common.js';
import { Detect } from './detect.js';
import { traceModule, type ChannelTracer } from './trace.js';

/** One row of the config, built. */
export interface Layer {
  index: number;
  /** Indices of the layers feeding this one (-1 already resolved). */
  from: number[];
  /** The module name as written in the config (Conv, C3, Concat, nn.Upsample, Detect, ...). */
  type: string;
  module: nn.Module;
  outChannels: number;
  /** The row's argument list after scaling, as the summary prints it. */
  args: unknown[];
  repeats: number;
}

/** Layers whose outputs a forward pass hands out besides the predictions, by layer index. */
export interface LayerTap {
  layers: ReadonlySet<number>;
  /** Filled by the forward pass; the tensors belong to the caller's scope, as the predictions do. */
  outputs: Map<number, Tensor>;
}

const makeDivisible = (x: number, divisor = 8): number => Math.ceil(x / divisor) * divisor;

function resolveArg(value: unknown, config: ModelConfig): unknown {
  if (value === 'None') return null;
  if (value === 'nc') return config.nc;
  if (value === 'anchors') return config.anchors;
  if (value === 'True') return true;
  if (value === 'False') return false;
  return value;
}

/** Placeholder anchors for configs that give only a count (AutoAnchor replaces them before training). */
function anchorList(anchors: number[][] | number, levels: number): number[][] {
  if (Array.isArray(anchors)) return anchors;
  return Array.from({ length: levels }, () => Array.from({ length: anchors * 2 }, (_, i) => i + 1));
}

export interface ModelOptions {
  /** Overrides the config's number of classes. */
  nc?: number;
  /** Class names; default `class0..`. */
  names?: string[];
  /** Input channels (default config `ch` or 3). */
  ch?: number;
  /** Where the config came from, for error messages. */
  source?: string;
}

export class DetectionModel extends nn.Module {
  readonly config: ModelConfig;
  readonly layers: Layer[];
  /** Outputs other than the previous one that later layers read. */
  private readonly saved: Set<number>;
  names: string[];

  constructor(config: ModelConfig, options: ModelOptions = {}) {
    super();
    const source = options.source ?? 'model config';
    this.config = cloneConfig(validateModelConfig(cloneConfig(config), source));
    if (options.nc !== undefined && options.nc !== this.config.nc) this.config.nc = options.nc;
    if (options.ch !== undefined) this.config.ch = options.ch;
    const { layers, saved } = buildLayers(this.config, source);
    this.layers = layers;
    this.saved = saved;
    const sequence = new nn.Sequential(...layers.map((l) => l.module));
    this.registerModule('model', sequence);
    this.names = options.names ?? Array.from({ length: this.config.nc }, (_, i) => `class${i}`);
    if (this.names.length !== this.config.nc) {
      throw new Error(`${source}: ${this.names.length} class names for nc=${this.config.nc}`);
    }
    this.initStrides();
    this.detect.initializeBiases();
  }

  get detect(): Detect {
    return this.layers[this.layers.length - 1]!.module as Detect;
  }
  get nc(): number {
    return this.config.nc;
  }
  get stride(): number[] {
    return this.detect.stride;
  }
  get inputChannels(): number {
    return this.config.ch ?? 3;
  }

  /** Strides from a probe forward (feature-map sizes for a 256-pixel input); anchors become stride units. */
  private initStrides(): void {
    const detect = this.detect;
    const probe = 256;
    const strides = noGrad(() =>
      tidy(() => {
        const wasTraining = this.training;
        this.train(true);
        const shapes = this.forward(zeros([1, this.inputChannels, probe, probe])).map((x) => x.shape[2]!);
        this.train(wasTraining);
        return shapes.map((h) => probe / h);
      }),
    );
    detect.stride = strides;
    noGrad(() => {
      const divisor = keep(zeros([strides.length, 1, 1]));
      strides.forEach((s, i) => divisor.select(0, i).fill_(s));
      detect.anchors.div_(divisor);
      divisor.dispose();
    });
    // The probe in training mode updated BatchNorm statistics; reset them to their initial values.
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof nn.BatchNorm2d) {
          m.runningMean.zero_();
          m.runningVar.fill_(1);
          m.buffer('num_batches_tracked').zero_();
        }
      }
    });
  }

  /**
   * Runs the layer graph with any kind of value: tensors for the forward pass, channel-graph nodes for pruning
   * analysis. `step` computes one layer's output from its input (a list for multi-input layers).
   */
  run<T>(input: T, step: (layer: Layer, input: T | T[]) => T): T {
    const outputs: (T | undefined)[] = [];
    let current = input;
    for (const layer of this.layers) {
      const from = layer.from;
      const layerInput: T | T[] =
        from.length === 1 && from[0] === layer.index - 1
          ? current
          : from.length === 1
            ? outputs[from[0]!]!
            : from.map((f) => (f === layer.index - 1 ? current : outputs[f]!));
      current = step(layer, layerInput);
      if (this.saved.has(layer.index)) outputs[layer.index] = current;
    }
    return current;
  }

  /**
   * Describes the model's channel flow to `tracer`, starting from the input image's channels; `onLayer` sees each
   * layer's output.
   */
  trace<N>(tracer: ChannelTracer<N>, input: N, onLayer?: (layer: Layer, output: N) => void): void {
    this.run(input, (layer, x) => {
      const output = traceModule(layer.module, tracer, x);
      onLayer?.(layer, output);
      return output;
    });
  }

  /**
   * Raw per-level outputs [batch, anchors, ny, nx, 5 + nc] (logits), as training needs them; with `tap`, also the
   * outputs of the layers it names (feature distillation reads them).
   */
  forward(x: Tensor, tap?: LayerTap): Tensor[] {
    this.checkInput(x);
    // Each layer in its own scope frees what it computes on the way to its output as soon as the layer is done
    // (what backward needs, autograd holds on its own): without it a forward keeps every intermediate alive.
    return this.run<Tensor | Tensor[]>(x, (layer, input) => {
      const output = tidy(() => layer.module.forward(input) as Tensor | Tensor[]);
      if (tap?.layers.has(layer.index)) tap.outputs.set(layer.index, output as Tensor);
      return output;
    }) as Tensor[];
  }

  /** Decoded predictions [batch, boxes, 5 + nc]: cx, cy, w, h (input pixels), objectness, class scores. */
  infer(x: Tensor): Tensor {
    return this.detect.decode(this.forward(x));
  }

  private checkInput(x: Tensor): void {
    const shape = x.shape;
    const maxStride = Math.max(...this.stride, 32);
    if (shape.length !== 4 || shape[1] !== this.inputChannels) {
      throw new Error(`model input must be [batch, ${this.inputChannels}, height, width], got [${shape.join(', ')}]`);
    }
    if (shape[2]! % maxStride || shape[3]! % maxStride) {
      throw new Error(`model input size ${shape[2]}×${shape[3]} must be a multiple of the largest stride ${maxStride}`);
    }
  }

  /** An independent copy: the same architecture, gates, names and weights (in training mode, as a new model). */
  clone(): DetectionModel {
    const copy = new DetectionModel(this.architecture(), { names: [...this.names] });
    const modules = new Map(copy.namedModules());
    for (const [name, m] of this.namedModules()) if (m instanceof Conv && m.gate) (modules.get(name) as Conv).addGate();
    copy.loadStateDict(this.stateDict());
    return copy;
  }

  /** Folds every BatchNorm into its convolution (faster inference; training no longer possible). */
  fuse(): this {
    for (const [, m] of this.namedModules()) if (m instanceof Conv) m.fuse();
    return this;
  }

  override loadStateDict(state: nn.StateDict, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const result = super.loadStateDict(state, options);
    this.detect.clearGridCache();
    return result;
  }

  /** The config a checkpoint stores: it rebuilds exactly this architecture (channels included). */
  architecture(): ModelConfig {
    return cloneConfig(this.config);
  }
}

/** What a block's builder knows about its row. */
interface RowContext {
  /** "file: layer i (Type)", for messages. */
  where: string;
  config: ModelConfig;
  /** The row's arguments with None/nc/anchors/True/False resolved. */
  args: unknown[];
  /** Repeats after depth scaling. */
  n: number;
  /** Layers feeding the row (-1: the previous one). */
  from: number[];
  /** Input channels from the first source, as built and in the unpruned architecture. */
  c1: number;
  c1n: number;
  inActual(from: number): number;
  inNominal(from: number): number;
  /** Output channels of the row's width argument, scaled by the width multiple. */
  scaled(c2: unknown): number;
  plan: ChannelPlan;
  act: ActivationFactory;
  /** Outputs per anchor of each Detect level. */
  no: number;
  /** n copies of a plain module in a Sequential (one copy: the module itself). */
  repeated(make: (i: number, plan: ChannelPlan, cin: number) => nn.Module & { outChannels: number }): nn.Module & { outChannels: number };
}

/** A built row: its module, output channels as built and unpruned, arguments as the summary prints them. */
interface BuiltRow {
  module: nn.Module;
  out: number;
  outNominal: number;
  args: unknown[];
  /** Repeats the summary shows (default: the row's n). */
  repeats?: number;
}

/** A block with a width argument first, built from (input, scaled output) channels. */
function widthBlock(make: (row: RowContext, c2: number) => { module: nn.Module & { outChannels: number }; args: unknown[]; repeats?: number }) {
  return (row: RowContext): BuiltRow => {
    const c2 = row.scaled(row.args[0]);
    const { module, args, repeats } = make(row, c2);
    return { module, out: module.outChannels, outNominal: c2, args, ...(repeats !== undefined ? { repeats } : {}) };
  };
}

/** The blocks a config may name, each one entry: a new block is a new row of this table. */
const BLOCKS: Record<string, (row: RowContext) => BuiltRow> = {
  Conv: widthBlock((row, c2) => {
    const [, k = 1, s = 1, p = null, g = 1, d = 1, useAct = true] = row.args as [number, number?, number?, (number | null)?, number?, number?, boolean?];
    return { module: row.repeated((_i, pl, cin) => new Conv(cin, pl('', c2), k, s, p, g, d, useAct ? row.act : null)), args: [row.c1n, c2, ...row.args.slice(1)] };
  }),
  Bottleneck: widthBlock((row, c2) => {
    const [, shortcut = true, g = 1, e = 0.5] = row.args as [number, boolean?, number?, number?];
    const module = row.repeated((i, pl, cin) => new Bottleneck(cin, c2, shortcut && (i > 0 ? c2 : row.c1n) === c2, g, e, pl, row.act));
    return { module, args: [row.c1n, c2, ...row.args.slice(1)] };
  }),
  C3: widthBlock((row, c2) => {
    const [, shortcut = true, g = 1, e = 0.5] = row.args as [number, boolean?, number?, number?];
    return { module: new C3(row.c1, c2, row.n, shortcut, g, e, row.plan, row.act), args: [row.c1n, c2, row.n, ...row.args.slice(1)], repeats: 1 };
  }),
  SPPF: widthBlock((row, c2) => {
    const [, k = 5] = row.args as [number, number?];
    return { module: new SPPF(row.c1, c2, k, row.c1n, row.plan, row.act), args: [row.c1n, c2, k] };
  }),
  SPP: widthBlock((row, c2) => {
    const [, k = [5, 9, 13]] = row.args as [number, number[]?];
    return { module: new SPP(row.c1, c2, k, row.c1n, row.plan, row.act), args: [row.c1n, c2, k] };
  }),
  Focus: widthBlock((row, c2) => {
    const [, k = 1, s = 1, p = null, g = 1] = row.args as [number, number?, number?, (number | null)?, number?];
    return { module: new Focus(row.c1, c2, k, s, p, g, row.plan, row.act), args: [row.c1n, c2, ...row.args.slice(1)] };
  }),
  Concat: (row) => {
    const [dimension = 1] = row.args as [number?];
    if (dimension !== 1) throw new Error(`${row.where}: only channel concatenation (dimension 1) is supported`);
    const sum = (channels: (f: number) => number) => row.from.reduce((total, f) => total + channels(f), 0);
    return { module: new Concat(dimension), out: sum(row.inActual), outNominal: sum(row.inNominal), args: row.args };
  },
  'nn.Upsample': (row) => {
    const [size, scale = 2, mode = 'nearest'] = row.args as [unknown, number?, string?];
    if (size !== null) throw new Error(`${row.where}: only scale_factor upsampling is supported (size must be None)`);
    return { module: new nn.Upsample(scale, mode as 'nearest'), out: row.c1, outNominal: row.c1n, args: row.args };
  },
  Detect: (row) => {
    const [ncArg, anchorsArg] = row.args as [number, number[][] | number];
    const nc = row.config.nc;
    if (ncArg !== nc) throw new Error(`${row.where}: Detect nc ${ncArg} differs from the config's nc ${nc}`);
    const levelAnchors = anchorList(anchorsArg, row.from.length);
    return { module: new Detect(nc, levelAnchors, row.from.map(row.inActual)), out: row.no, outNominal: row.no, args: [nc, levelAnchors, row.from.map(row.inNominal)] };
  },
};

/** parse_model: scales depth and width, wires `from` indices, and builds each row's module. */
function buildLayers(config: ModelConfig, source: string): { layers: Layer[]; saved: Set<number> } {
  const rows = [...config.backbone, ...config.head];
  const gd = config.depth_multiple;
  const gw = config.width_multiple;
  const act = activationFactory(config.activation);
  const anchorsRow = rows.find((r) => r[2] === 'Detect');
  const levels = anchorsRow ? (Array.isArray(anchorsRow[0]) ? anchorsRow[0].length : 1) : 3;
  const anchors = anchorList(config.anchors, levels);
  const no = (anchors[0]!.length / 2) * (config.nc + 5);
  const inputChannels = config.ch ?? 3;
  const actual: number[] = []; // output channels per layer as built
  const nominal: number[] = []; // output channels per layer of the unpruned architecture
  const layers: Layer[] = [];
  const saved = new Set<number>();

  rows.forEach(([fromRaw, nRaw, type, argsRaw], index) => {
    const where = `${source}: layer ${index} (${type})`;
    const from = (Array.isArray(fromRaw) ? fromRaw : [fromRaw]).map((f) => (f < 0 ? index + f : f));
    if (from.some((f) => f < -1 || f >= index) || (index === 0 && from.some((f) => f !== -1))) {
      throw new Error(`${where}: 'from' ${JSON.stringify(fromRaw)} must refer to earlier layers`);
    }
    const build = Object.hasOwn(BLOCKS, type) ? BLOCKS[type]! : undefined;
    if (!build) throw new Error(`${where}: unknown module '${type}' (supported: ${Object.keys(BLOCKS).join(', ')})`);
    const inActual = (f: number) => (f === -1 ? inputChannels : actual[f]!);
    const inNominal = (f: number) => (f === -1 ? inputChannels : nominal[f]!);
    const n = nRaw > 1 ? Math.max(Math.round(nRaw * gd), 1) : nRaw;
    const explicit = config.channels?.[String(index)] ?? {};
    const plan: ChannelPlan = (path, value) => explicit[path] ?? value;
    const c1 = inActual(from[0]!);
    const row: RowContext = {
      where,
      config,
      args: argsRaw.map((a) => resolveArg(a, config)),
      n,
      from,
      c1,
      c1n: inNominal(from[0]!),
      inActual,
      inNominal,
      scaled: (c) => {
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 1) throw new Error(`${where}: output channels must be a positive integer, got ${JSON.stringify(c)}`);
        return c === no ? c : makeDivisible(c * gw, 8);
      },
      plan,
      act,
      no,
      repeated: (make) => {
        // A row with n > 1 of a plain module is a Sequential of n copies, named 0..n-1 as in PyTorch.
        if (n === 1) return make(0, plan, c1);
        const parts: (nn.Module & { outChannels: number })[] = [];
        let cin = c1;
        for (let i = 0; i < n; i++) {
          const part = make(i, subPlan(plan, String(i)), cin);
          parts.push(part);
          cin = part.outChannels;
        }
        return Object.assign(new nn.Sequential(...parts), { outChannels: cin });
      },
    };
    const built = build(row);
    for (const f of from) if (f !== -1 && f !== index - 1) saved.add(f);
    actual.push(built.out);
    nominal.push(built.outNominal);
    layers.push({ index, from: from.map((f) => (f === -1 ? index - 1 : f)), type, module: built.module, outChannels: built.out, args: built.args, repeats: built.repeats ?? n });
  });
  if (!(layers[layers.length - 1]?.module instanceof Detect)) throw new Error(`${source}: the last layer must be Detect`);
  return { layers, saved };
}
