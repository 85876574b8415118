// Builds an ONNX graph node by node, in topological order, and folds per-channel scales (channel gates) into
// the convolutions that consume them wherever that is exact.
//
// A gated tensor is kept "deferred": the graph holds the unscaled tensor u, and the true value is s ⊙ u (s per
// channel). Each consumer then decides:
//   - a convolution absorbs s into its weights (input channel i times s_i; exact, padding being zeros);
//   - nearest resizing, and max pooling when every s_i ≥ 0, commute with s, so their output stays deferred;
//   - concatenation along channels concatenates the scales (ones for plain inputs), output deferred;
//   - anything else (residual Add, activations, the graph output) gets the scaled tensor from one Mul node,
//     created once per deferred tensor and shared by all such consumers.
import { AttributeType, DataType, tensorBytes, type AttributeMessage, type GraphMessage, type NodeMessage, type TensorMessage, valueInfo, type Dim } from './onnx-proto.js';

export type AttributeValue = number | string | number[] | { ints: number[] } | { floats: number[] } | { float: number };

export interface ConvSpec {
  /** [out, in / groups, kh, kw] */
  weight: Float32Array;
  weightDims: [number, number, number, number];
  bias: Float32Array;
  strides: [number, number];
  pads: [number, number];
  dilations: [number, number];
  groups: number;
}

interface Deferred {
  stored: string;
  scale: Float32Array;
}

function attribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`internal error: attribute ${name}=${value} must be an integer (use {float})`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: GraphMessage['input'] = [];
  private readonly outputs: GraphMessage['output'] = [];
  private readonly channels = new Map<string, number>();
  private readonly deferred = new Map<string, Deferred>();
  private readonly materialized = new Set<string>();
  private readonly usedNames = new Set<string>();
  /** Channel scales absorbed by consumer convolutions, and Mul nodes emitted where folding was not exact. */
  readonly gateStats = { foldedIntoConvs: 0, mulNodes: 0 };

  /** A fresh name, `base` if unused, else `base_2`, `base_3`, ... */
  private unique(base: string): string {
    let name = base;
    for (let i = 2; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  channelsOf(value: string): number {
    const c = this.channels.get(value);
    if (c === undefined) throw new Error(`internal error: channel count of '${value}' unknown`);
    return c;
  }

  input(name: string, dims: Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, DataType.FLOAT, dims));
    if (typeof dims[1] === 'number') this.channels.set(name, dims[1]);
    return name;
  }

  /** Declares `value` a graph output under `name` (renaming the value; nothing may read it yet). */
  output(value: string, name: string, dims: Dim[]): void {
    const real = this.real(value);
    const producer = this.nodes.find((n) => n.output.includes(real));
    if (!producer || this.nodes.some((n) => n.input.includes(real)) || this.usedNames.has(name)) {
      throw new Error(`internal error: cannot name '${real}' as the graph output '${name}'`);
    }
    producer.output = producer.output.map((o) => (o === real ? name : o));
    this.usedNames.add(name);
    this.outputs.push(valueInfo(name, DataType.FLOAT, dims));
  }

  floatConstant(name: string, data: Float32Array, dims: number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, data_type: DataType.FLOAT, raw_data: tensorBytes(data) });
    return unique;
  }

  int64Constant(name: string, values: number[], dims: number[] = [values.length]): string {
    const unique = this.unique(name);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name: unique, dims, data_type: DataType.INT64, raw_data: tensorBytes(data) });
    return unique;
  }

  /** Emits a node on materialized inputs; returns its output names. */
  private node(opType: string, inputs: string[], attributes: Record<string, AttributeValue>, name: string, output?: string): string {
    const nodeName = this.unique(name);
    const out = output ?? this.unique(`${nodeName}_output`);
    this.nodes.push({
      name: nodeName,
      op_type: opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return out;
  }

  /** The value as a real graph tensor: a deferred value gets its Mul node (once). */
  private real(value: string): string {
    const d = this.deferred.get(value);
    if (!d || this.materialized.has(value)) return value;
    const scale = this.floatConstant(`${value}_scale`, d.scale, [1, d.scale.length, 1, 1]);
    this.node('Mul', [d.stored, scale], {}, `${value}_Mul`, value);
    this.materialized.add(value);
    this.gateStats.mulNodes++;
    return value;
  }

  /** Any operator; every input is materialized. Output channels are recorded when given. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, name = opType, outChannels?: number): string {
    const out = this.node(
      opType,
      inputs.map((v) => this.real(v)),
      attributes,
      name,
    );
    if (outChannels !== undefined) this.channels.set(out, outChannels);
    return out;
  }

  /** An elementwise op whose output has the channels of its first input. */
  elementwise(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, name = opType): string {
    return this.op(opType, inputs, attributes, name, this.channelsOf(inputs[0]!));
  }

  /** Multiplies channel i by scale[i], lazily (see the file comment). */
  scaleChannels(value: string, scale: Float32Array, name: string): string {
    if (scale.length !== this.channelsOf(value)) {
      throw new Error(`internal error: ${scale.length} scales for ${this.channelsOf(value)} channels of '${value}'`);
    }
    const input = this.real(value);
    const out = this.unique(`${name}_scaled`);
    this.deferred.set(out, { stored: input, scale: scale.slice() });
    this.channels.set(out, scale.length);
    return out;
  }

  conv(input: string, spec: ConvSpec, name: string): string {
    let source = input;
    let weight = spec.weight;
    const d = this.deferred.get(input);
    if (d && !this.materialized.has(input)) {
      weight = scaleInputChannels(spec, d.scale);
      source = d.stored;
      this.gateStats.foldedIntoConvs++;
    } else {
      source = this.real(input);
    }
    const w = this.floatConstant(`${name}.weight`, weight, spec.weightDims);
    const b = this.floatConstant(`${name}.bias`, spec.bias, [spec.bias.length]);
    const [kh, kw] = [spec.weightDims[2], spec.weightDims[3]];
    const out = this.node(
      'Conv',
      [source, w, b],
      {
        kernel_shape: [kh, kw],
        strides: spec.strides,
        pads: [spec.pads[0], spec.pads[1], spec.pads[0], spec.pads[1]],
        dilations: spec.dilations,
        group: spec.groups,
      },
      name,
    );
    this.channels.set(out, spec.weightDims[0]);
    return out;
  }

  maxPool(input: string, kernel: number, stride: number, padding: number, name: string): string {
    const attrs = { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding] };
    const d = this.deferred.get(input);
    // max(s·a, s·b) = s·max(a, b) only for s ≥ 0.
    if (d && !this.materialized.has(input) && d.scale.every((s) => s >= 0)) {
      const pooled = this.op('MaxPool', [d.stored], attrs, name, d.scale.length);
      return this.scaleChannels(pooled, d.scale, name);
    }
    return this.op('MaxPool', [input], attrs, name, this.channelsOf(input));
  }

  /** Nearest-neighbour upsampling by an integer factor (PyTorch's floor(index / factor) rule). */
  upsampleNearest(input: string, factor: number, name: string): string {
    const roi = this.floatConstant(`${name}.roi`, new Float32Array(0), [0]);
    const scales = this.floatConstant(`${name}.scales`, Float32Array.from([1, 1, factor, factor]), [4]);
    const attrs = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    const d = this.deferred.get(input);
    if (d && !this.materialized.has(input)) {
      const resized = this.op('Resize', [d.stored, roi, scales], attrs, name, d.scale.length);
      return this.scaleChannels(resized, d.scale, name);
    }
    return this.op('Resize', [input, roi, scales], attrs, name, this.channelsOf(input));
  }

  concatChannels(inputs: string[], name: string): string {
    const parts = inputs.map((v) => {
      const d = this.materialized.has(v) ? undefined : this.deferred.get(v);
      return { stored: d ? d.stored : v, scale: d?.scale, channels: this.channelsOf(v) };
    });
    const total = parts.reduce((n, p) => n + p.channels, 0);
    if (parts.every((p) => p.scale === undefined)) return this.op('Concat', inputs, { axis: 1 }, name, total);
    const out = this.op('Concat', parts.map((p) => p.stored), { axis: 1 }, name, total);
    const scale = new Float32Array(total).fill(1);
    let offset = 0;
    for (const p of parts) {
      if (p.scale) scale.set(p.scale, offset);
      offset += p.channels;
    }
    return this.scaleChannels(out, scale, name);
  }

  graph(name: string): GraphMessage {
    return { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}

/** weight[o, j] × scale[input channel of j in o's group]: the conv of s ⊙ x equals the new conv of x. */
function scaleInputChannels(spec: ConvSpec, scale: Float32Array): Float32Array {
  const [out, inPerGroup, kh, kw] = spec.weightDims;
  if (scale.length !== inPerGroup * spec.groups) {
    throw new Error(`internal error: ${scale.length} channel scales for a convolution reading ${inPerGroup * spec.groups} channels`);
  }
  const outPerGroup = out / spec.groups;
  const k = kh * kw;
  const weight = spec.weight.slice();
  for (let o = 0; o < out; o++) {
    const group = Math.floor(o / outPerGroup);
    for (let j = 0; j < inPerGroup; j++) {
      const s = scale[group * inPerGroup + j]!;
      const base = (o * inPerGroup + j) * k;
      for (let t = base; t < base + k; t++) weight[t] = weight[t]! * s;
    }
  }
  return weight;
}
