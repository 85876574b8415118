// Walks a DetectionModel's layer graph and emits the equivalent ONNX nodes: BatchNorm folded into the
// convolutions, channel gates folded into their consumers where exact (see graph-builder.ts), and the Detect
// head's inference decode, so the graph's output is [batch, boxes, 5 + nc] like model.infer().
import { nn, noGrad, tidy, type Tensor } from '../torch/index.js';
import { Bottleneck, C3, Concat, Conv, Focus, SPP, SPPF } from '../model/common.js';
import { Detect } from '../model/detect.js';
import type { DetectionModel } from '../model/yolo.js';
import { GraphBuilder, type ConvSpec } from './graph-builder.js';

/** Input height and width: fixed sizes, or null for dynamic axes (the decode grid is then computed in the graph). */
export interface GraphShape {
  batch: number | null;
  height: number | null;
  width: number | null;
}

const INT64_MAX = Number.MAX_SAFE_INTEGER;

function floats(t: Tensor): Float32Array {
  return noGrad(() => tidy(() => t.detach().float().contiguous().data() as Float32Array));
}

/** A convolution's weights with an optional BatchNorm folded in (computed in float64, stored as float32). */
function convSpec(conv: nn.Conv2d, bn: nn.BatchNorm2d | null): ConvSpec {
  const weight = floats(conv.weight);
  const out = conv.outChannels;
  const bias = conv.bias ? floats(conv.bias) : new Float32Array(out);
  if (bn) {
    const [gamma, beta, mean, variance] = [bn.weight, bn.bias, bn.runningMean, bn.runningVar].map(floats) as Float32Array[];
    const perOutput = weight.length / out;
    for (let o = 0; o < out; o++) {
      const scale = gamma![o]! / Math.sqrt(variance![o]! + bn.eps);
      for (let i = o * perOutput; i < (o + 1) * perOutput; i++) weight[i] = weight[i]! * scale;
      bias[o] = (bias[o]! - mean![o]!) * scale + beta![o]!;
    }
  }
  return {
    weight,
    weightDims: conv.weight.shape as [number, number, number, number],
    bias,
    strides: conv.stride,
    pads: conv.padding,
    dilations: conv.dilation,
    groups: conv.groups,
  };
}

function activation(b: GraphBuilder, act: nn.Module, x: string, name: string): string {
  if (act instanceof nn.Identity) return x;
  if (act instanceof nn.SiLU) return b.elementwise('Mul', [x, b.elementwise('Sigmoid', [x], {}, `${name}/Sigmoid`)], {}, `${name}/Mul`);
  if (act instanceof nn.ReLU) return b.elementwise('Relu', [x], {}, `${name}/Relu`);
  if (act instanceof nn.LeakyReLU) return b.elementwise('LeakyRelu', [x], { alpha: { float: act.negativeSlope } }, `${name}/LeakyRelu`);
  if (act instanceof nn.Hardswish) {
    // x · clamp(x/6 + 1/2, 0, 1); the HardSwish operator itself needs opset 14.
    const gate = b.elementwise('HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }, `${name}/HardSigmoid`);
    return b.elementwise('Mul', [x, gate], {}, `${name}/Mul`);
  }
  throw new Error(`ONNX export: unsupported activation ${act.constructor.name} in ${name}`);
}

function emitConv(b: GraphBuilder, m: Conv, x: string, name: string): string {
  let y = b.conv(x, convSpec(m.conv, m.bn), `${name}/Conv`);
  y = activation(b, m.act, y, `${name}/act`);
  const gate = m.gate;
  return gate ? b.scaleChannels(y, floats(gate.weight), `${name}/gate`) : y;
}

function emitMaxPool(b: GraphBuilder, m: nn.MaxPool2d, x: string, name: string): string {
  return b.maxPool(x, m.kernelSize, m.stride, m.padding, `${name}/MaxPool`);
}

/** Emits one module of the layer graph (recursively for blocks); returns its output value. */
function emitModule(b: GraphBuilder, m: nn.Module, input: string | string[], name: string): string {
  if (m instanceof Concat) {
    if (m.dimension !== 1) throw new Error(`ONNX export: ${name} concatenates along dimension ${m.dimension}; only channels (1) are supported`);
    return b.concatChannels(Array.isArray(input) ? input : [input], `${name}/Concat`);
  }
  if (Array.isArray(input)) throw new Error(`ONNX export: ${name} (${m.constructor.name}) takes one input, got ${input.length}`);
  const x = input;
  const sub = (child: string) => `${name}.${child}`;
  if (m instanceof Conv) return emitConv(b, m, x, name);
  if (m instanceof nn.Sequential) return m.layers.reduce((y, layer, i) => emitModule(b, layer, y, sub(String(i))), x);
  if (m instanceof Bottleneck) {
    const y = emitConv(b, m.cv2, emitConv(b, m.cv1, x, sub('cv1')), sub('cv2'));
    return m.add ? b.elementwise('Add', [x, y], {}, `${name}/Add`) : y;
  }
  if (m instanceof C3) {
    const a = emitModule(b, m.m, emitConv(b, m.cv1, x, sub('cv1')), sub('m'));
    const c = emitConv(b, m.cv2, x, sub('cv2'));
    return emitConv(b, m.cv3, b.concatChannels([a, c], `${name}/Concat`), sub('cv3'));
  }
  if (m instanceof SPPF) {
    const a = emitConv(b, m.cv1, x, sub('cv1'));
    const p1 = emitMaxPool(b, m.m, a, `${sub('m')}_1`);
    const p2 = emitMaxPool(b, m.m, p1, `${sub('m')}_2`);
    const p3 = emitMaxPool(b, m.m, p2, `${sub('m')}_3`);
    return emitConv(b, m.cv2, b.concatChannels([a, p1, p2, p3], `${name}/Concat`), sub('cv2'));
  }
  if (m instanceof SPP) {
    const a = emitConv(b, m.cv1, x, sub('cv1'));
    const pooled = m.pools.map((p, i) => emitMaxPool(b, p, a, sub(`m.${i}`)));
    return emitConv(b, m.cv2, b.concatChannels([a, ...pooled], `${name}/Concat`), sub('cv2'));
  }
  if (m instanceof Focus) return emitConv(b, m.conv, focusSlices(b, x, name), sub('conv'));
  if (m instanceof nn.Upsample) return b.upsampleNearest(x, m.scaleFactor, `${name}/Resize`);
  if (m instanceof nn.MaxPool2d) return emitMaxPool(b, m, x, name);
  throw new Error(`ONNX export: no ONNX translation for module ${m.constructor.name} (${name})`);
}

/** Space-to-depth as four strided slices, in Focus' order: (even rows, even cols), (odd, even), (even, odd), (odd, odd). */
function focusSlices(b: GraphBuilder, x: string, name: string): string {
  const axes = b.int64Constant(`${name}.slice_axes`, [2, 3]);
  const steps = b.int64Constant(`${name}.slice_steps`, [2, 2]);
  const ends = b.int64Constant(`${name}.slice_ends`, [INT64_MAX, INT64_MAX]);
  const channels = b.channelsOf(x);
  const parts = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ].map(([row, col]) => {
    const starts = b.int64Constant(`${name}.slice_starts`, [row!, col!]);
    return b.op('Slice', [x, starts, ends, axes, steps], {}, `${name}/Slice`, channels);
  });
  return b.concatChannels(parts, `${name}/Concat`);
}

/** Cell offsets minus 0.5, [ny·nx, 2] rows of (x, y), as Detect's grid (computed in the graph for dynamic sizes). */
function decodeGrid(b: GraphBuilder, head: string, name: string, shape: GraphShape, stride: number): string {
  if (shape.height !== null && shape.width !== null) {
    const ny = shape.height / stride;
    const nx = shape.width / stride;
    const grid = new Float32Array(ny * nx * 2);
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        grid[(y * nx + x) * 2] = x - 0.5;
        grid[(y * nx + x) * 2 + 1] = y - 0.5;
      }
    }
    return b.floatConstant(name, grid, [ny * nx, 2]);
  }
  const dims = b.op('Shape', [head], {}, `${name}/Shape`);
  const axis = (i: number) => {
    const index = b.int64Constant(`${name}.dim${i}`, [i], []);
    const size = b.op('Gather', [dims, index], { axis: 0 }, `${name}/Gather`);
    const sizeF = b.op('Cast', [size], { to: 1 }, `${name}/Cast`);
    const zero = b.floatConstant(`${name}.zero`, Float32Array.of(0), []);
    const one = b.floatConstant(`${name}.one`, Float32Array.of(1), []);
    return b.op('Range', [zero, sizeF, one], {}, `${name}/Range`);
  };
  const ys = axis(2);
  const xs = axis(3);
  const hw = b.op(
    'Slice',
    [dims, b.int64Constant(`${name}.hw_start`, [2]), b.int64Constant(`${name}.hw_end`, [4]), b.int64Constant(`${name}.hw_axis`, [0])],
    {},
    `${name}/Slice`,
  );
  const column = b.int64Constant(`${name}.column`, [-1, 1]);
  const spread = (v: string, shape: number[]) =>
    b.op('Reshape', [b.op('Expand', [b.op('Reshape', [v, b.int64Constant(`${name}.shape`, shape)], {}, `${name}/Reshape`), hw], {}, `${name}/Expand`), column], {}, `${name}/Reshape`);
  const cells = b.op('Concat', [spread(xs, [1, -1]), spread(ys, [-1, 1])], { axis: 1 }, `${name}/Concat`);
  return b.op('Sub', [cells, b.floatConstant(`${name}.half`, Float32Array.of(0.5), [])], {}, `${name}/Sub`);
}

/** Detect: per level, head conv → [batch, anchors, cells, outputs] → sigmoid → boxes in input pixels; levels concatenated. */
function emitDetect(b: GraphBuilder, detect: Detect, inputs: string[], shape: GraphShape, prefix: string): string {
  const { na, no } = detect;
  const anchors = floats(detect.anchors); // [nl, na, 2] in stride units
  const slice = (x: string, start: number, end: number, name: string) =>
    b.op(
      'Slice',
      [x, b.int64Constant(`${name}.start`, [start]), b.int64Constant(`${name}.end`, [end]), b.int64Constant(`${name}.axis`, [3])],
      {},
      `${name}/Slice`,
    );
  const levels = inputs.map((x, i) => {
    const name = `${prefix}.m.${i}`;
    const stride = detect.stride[i]!;
    const head = b.conv(x, convSpec(detect.heads[i]!, null), `${name}/Conv`);
    const split = b.op('Reshape', [head, b.int64Constant(`${name}.shape`, [0, na, no, -1])], {}, `${name}/Reshape`);
    const p = b.op('Sigmoid', [b.op('Transpose', [split], { perm: [0, 1, 3, 2] }, `${name}/Transpose`)], {}, `${name}/Sigmoid`);
    const two = b.floatConstant(`${name}.two`, Float32Array.of(2), []);
    // Same operation order as Detect.decode, so both runtimes round alike.
    const grid = decodeGrid(b, head, `${name}.grid`, shape, stride);
    const xy = b.op('Mul', [b.op('Add', [b.op('Mul', [slice(p, 0, 2, `${name}.xy`), two], {}, `${name}/Mul`), grid], {}, `${name}/Add`), b.floatConstant(`${name}.stride`, Float32Array.of(stride), [])], {}, `${name}/Mul`);
    const anchorPixels = Float32Array.from(anchors.subarray(i * na * 2, (i + 1) * na * 2), (a) => Math.fround(a * stride));
    const anchorGrid = b.floatConstant(`${name}.anchor_grid`, anchorPixels, [na, 1, 2]);
    const wh = b.op('Mul', [b.op('Pow', [b.op('Mul', [slice(p, 2, 4, `${name}.wh`), two], {}, `${name}/Mul`), two], {}, `${name}/Pow`), anchorGrid], {}, `${name}/Mul`);
    const conf = slice(p, 4, INT64_MAX, `${name}.conf`);
    const boxes = b.op('Concat', [xy, wh, conf], { axis: 3 }, `${name}/Concat`);
    return b.op('Reshape', [boxes, b.int64Constant(`${name}.flat`, [0, -1, no])], {}, `${name}/Reshape`);
  });
  return b.op('Concat', levels, { axis: 1 }, `${prefix}/Concat`);
}

/** Emits the whole model into `b` from the input value `images`; returns the decoded output value. */
export function emitModel(b: GraphBuilder, model: DetectionModel, images: string, shape: GraphShape): string {
  const outputs = new Map<number, string>([[-1, images]]);
  for (const layer of model.layers) {
    const inputs = layer.from.map((f) => {
      const v = outputs.get(f);
      if (v === undefined) throw new Error(`internal error: layer ${layer.index} reads layer ${f}, not emitted`);
      return v;
    });
    const name = `model.${layer.index}`;
    if (layer.module instanceof Detect) return emitDetect(b, layer.module, inputs, shape, name);
    outputs.set(layer.index, emitModule(b, layer.module, inputs.length === 1 ? inputs[0]! : inputs, name));
  }
  throw new Error('ONNX export: the model has no Detect layer');
}
