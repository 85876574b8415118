// Static INT8 quantization of an exported YOLOv5 graph in the QDQ format: QuantizeLinear/DequantizeLinear pairs
// around the tensors to quantize, which ONNX Runtime's graph optimizer fuses into integer kernels (DQ → Conv → Q
// becomes QLinearConv, DQ → Add → Q QLinearAdd, and so on; MaxPool and Resize run on uint8 when their input and
// output share parameters). The graph stays a valid float graph without those fusions, which is what makes the
// format portable.
//
// Activations are uint8 with a zero point (U8S8 is the fast path of ONNX Runtime's x86 kernels, VNNI included),
// weights int8 symmetric per output channel, convolution biases int32 at the input scale × the weight scale.
// The network body (everything the head convolutions depend on) is quantized; the Detect head's decode, which
// turns logits into boxes and probabilities, stays in float.
import { AttributeType, DataType, tensorBytes, type GraphMessage, type NodeMessage, type TensorMessage } from './onnx-proto.js';

/** A uint8 activation's encoding: real value = scale · (q − zeroPoint). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** The real values a tensor is to represent (calibrated). */
export interface ActivationRange {
  min: number;
  max: number;
}

/**
 * Which activations get Q/DQ pairs: only the inputs and outputs of convolutions (SiLU, residual adds, concatenations
 * and pooling then run in float between them), or every tensor of the network body (all of it runs on uint8).
 */
export type QuantizeScope = 'conv' | 'body';

export interface QuantizeOptions {
  scope: QuantizeScope;
  /** Quantize the head convolutions' outputs too (the logits the decode reads); otherwise the head convolutions run in float. */
  quantizeHeads: boolean;
}

/** Operators ONNX Runtime runs on uint8 when every input comes through a DQ and the output goes to a Q. */
const ELEMENTWISE = new Set(['Mul', 'Add']);

/** Operators that only move or select values: their output shares the input's parameters, so they run on uint8 as they are. */
const SAME_PARAMS = new Set(['MaxPool', 'Resize', 'Slice', 'Reshape', 'Transpose']);

const INT32_MAX = 2 ** 31 - 1;

/** The graph's structure as the quantizer needs it. */
export interface GraphParts {
  /** The last convolutions: those no other convolution follows (YOLOv5's Detect heads). */
  heads: NodeMessage[];
  /** The heads and every node they depend on. */
  body: Set<NodeMessage>;
  constants: Set<string>;
}

export function graphParts(graph: GraphMessage): GraphParts {
  const constants = new Set(graph.initializer.map((t) => t.name));
  const producer = new Map<string, NodeMessage>();
  const consumers = new Map<string, NodeMessage[]>();
  for (const node of graph.node) {
    for (const out of node.output) producer.set(out, node);
    for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  // Nodes are in topological order, so walking them backwards sees every consumer before its producer.
  const leadsToConv = new Set<NodeMessage>();
  for (const node of [...graph.node].reverse()) {
    const next = node.output.flatMap((out) => consumers.get(out) ?? []);
    if (next.some((n) => n.op_type === 'Conv' || leadsToConv.has(n))) leadsToConv.add(node);
  }
  const heads = graph.node.filter((n) => n.op_type === 'Conv' && !leadsToConv.has(n));
  const body = new Set<NodeMessage>();
  const stack = [...heads];
  while (stack.length) {
    const node = stack.pop()!;
    if (body.has(node)) continue;
    body.add(node);
    for (const input of node.input) {
      const p = producer.get(input);
      if (p) stack.push(p);
    }
  }
  return { heads, body, constants };
}

/** The activations to quantize, in graph order (graph inputs first). */
export function activationsToQuantize(graph: GraphMessage, options: QuantizeOptions): string[] {
  const { heads, body, constants } = graphParts(graph);
  const headOutputs = new Set(heads.flatMap((h) => h.output));
  const chosen = new Set<string>();
  const take = (name: string) => {
    if (name && !constants.has(name) && (options.quantizeHeads || !headOutputs.has(name))) chosen.add(name);
  };
  for (const node of graph.node) {
    if (!body.has(node)) continue;
    if (options.scope === 'body') {
      node.input.forEach(take);
      node.output.forEach(take);
    } else if (node.op_type === 'Conv') {
      take(node.input[0]!);
      take(node.output[0]!);
    }
  }
  const inputs = graph.input.map((i) => i.name).filter((n) => chosen.has(n));
  return [...inputs, ...[...chosen].filter((n) => !inputs.includes(n))];
}

/** uint8 parameters covering `range` (widened to include 0, which must be exact: zero padding). */
export function uint8Params({ min, max }: ActivationRange): QuantParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Parameters per activation; outputs of value-moving operators take their input's (see SAME_PARAMS). */
export function activationParams(graph: GraphMessage, ranges: Map<string, ActivationRange>): Map<string, QuantParams> {
  const params = new Map([...ranges].map(([name, range]) => [name, uint8Params(range)]));
  for (const node of graph.node) {
    const input = params.get(node.input[0] ?? '');
    if (SAME_PARAMS.has(node.op_type) && input && params.has(node.output[0]!)) params.set(node.output[0]!, input);
  }
  return params;
}

function floatsOf(t: TensorMessage): Float32Array {
  if (t.data_type !== DataType.FLOAT) throw new Error(`internal error: initializer ${t.name} is not float`);
  const bytes = t.raw_data.slice();
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** int8 weights, symmetric per output channel (dimension 0), and the per-channel scales. */
export function quantizeWeights(weight: Float32Array, channels: number, minScale?: Float32Array): { q: Int8Array; scale: Float32Array } {
  const per = weight.length / channels;
  const q = new Int8Array(weight.length);
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let amax = 0;
    for (let i = c * per; i < (c + 1) * per; i++) amax = Math.max(amax, Math.abs(weight[i]!));
    scale[c] = Math.max(amax > 0 ? amax / 127 : 1, minScale?.[c] ?? 0);
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(weight[i]! / scale[c]!)));
  }
  return { q, scale };
}

export interface QuantizedGraphStats {
  /** Activations with a Q node, and the DequantizeLinear nodes reading them. */
  activations: number;
  dequantizers: number;
  /** Convolutions with int8 weights, and those left in float (their input is not quantized). */
  int8Convs: number;
  floatConvs: number;
  /** Constant operands of elementwise nodes (pruning gates) stored as uint8. */
  constants: number;
}

/**
 * The graph with Q/DQ pairs: a QuantizeLinear after each quantized activation, a DequantizeLinear before each of
 * its readers (one each: ONNX Runtime fuses a DQ only into the single node it feeds), and int8 weights with int32
 * biases for the convolutions whose input is quantized.
 */
export function quantizeGraph(graph: GraphMessage, params: Map<string, QuantParams>): { graph: GraphMessage; stats: QuantizedGraphStats } {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const used = new Set([...initializers.keys(), ...graph.input.map((i) => i.name), ...graph.node.flatMap((n) => [n.name, ...n.output])]);
  // A name of its own for each new tensor and node (the graph may hold names like `<tensor>_scale` already).
  const fresh = (base: string) => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const added: TensorMessage[] = [];
  const constant = (name: string, dataType: number, dims: number[], data: Float32Array | Int8Array | Uint8Array | Int32Array) => {
    const unique = fresh(name);
    added.push({ name: unique, dims, data_type: dataType, raw_data: tensorBytes(data) });
    return unique;
  };
  const stats: QuantizedGraphStats = { activations: 0, dequantizers: 0, int8Convs: 0, floatConvs: 0, constants: 0 };
  const scalars = new Map<string, [string, string]>();
  const scalarsOf = (name: string): [string, string] => {
    let pair = scalars.get(name);
    if (!pair) {
      const p = params.get(name)!;
      pair = [constant(`${name}_scale`, DataType.FLOAT, [], Float32Array.of(p.scale)), constant(`${name}_zero_point`, DataType.UINT8, [], Uint8Array.of(p.zeroPoint))];
      scalars.set(name, pair);
    }
    return pair;
  };
  const dequantizer = (input: string[], output: string, axis?: number): NodeMessage => ({
    name: fresh(`${output}_DequantizeLinear`),
    op_type: 'DequantizeLinear',
    input,
    output: [fresh(output)],
    attribute: axis === undefined ? [] : [{ name: 'axis', type: AttributeType.INT, i: axis }],
  });
  /** A constant stored quantized (with its scales and zero points, one each or one per channel) and the DQ that restores it. */
  const storedQuantized = (name: string, dims: number[], values: Int8Array | Uint8Array | Int32Array, scale: Float32Array, zeroPoint: Int8Array | Uint8Array | Int32Array): NodeMessage => {
    const type = (a: Int8Array | Uint8Array | Int32Array) => (a instanceof Int8Array ? DataType.INT8 : a instanceof Uint8Array ? DataType.UINT8 : DataType.INT32);
    const perChannel = scale.length > 1;
    const scaleDims = perChannel ? [scale.length] : [];
    return dequantizer(
      [constant(`${name}_quantized`, type(values), dims, values), constant(`${name}_scale`, DataType.FLOAT, scaleDims, scale), constant(`${name}_zero_point`, type(zeroPoint), scaleDims, zeroPoint)],
      `${name}_dequantized`,
      perChannel ? 0 : undefined,
    );
  };
  const quantized = new Map<string, string>();
  const quantizer = (name: string): NodeMessage => {
    stats.activations++;
    quantized.set(name, fresh(`${name}_quantized`));
    return { name: fresh(`${name}_QuantizeLinear`), op_type: 'QuantizeLinear', input: [name, ...scalarsOf(name)], output: [quantized.get(name)!], attribute: [] };
  };
  const replaced = new Set<string>();
  const nodes: NodeMessage[] = graph.input.filter((i) => params.has(i.name)).map((i) => quantizer(i.name));
  for (const node of graph.node) {
    const before: NodeMessage[] = [];
    const inputs = node.input.map((input, slot) => {
      if (params.has(input) && !initializers.has(input)) {
        const earlier = node.input.indexOf(input);
        if (earlier < slot) return before.find((d) => d.input[0] === quantized.get(input))!.output[0]!;
        stats.dequantizers++;
        const dq = dequantizer([quantized.get(input)!, ...scalarsOf(input)], `${input}_dequantized`);
        before.push(dq);
        return dq.output[0]!;
      }
      return input;
    });
    if (node.op_type === 'Conv') {
      const x = params.get(node.input[0]!);
      if (x && initializers.has(node.input[1]!)) {
        const [weightName, biasName] = [node.input[1]!, node.input[2]];
        const w = initializers.get(weightName)!;
        const channels = w.dims[0]!;
        const bias = biasName ? floatsOf(initializers.get(biasName)!) : undefined;
        // A bias must fit int32 at scale x·w: where a channel's weights are tiny, its weight scale grows instead.
        const minScale = bias && Float32Array.from(bias, (b) => Math.abs(b) / (x.scale * INT32_MAX));
        const { q, scale } = quantizeWeights(floatsOf(w), channels, minScale);
        const weightDq = storedQuantized(weightName, w.dims, q, scale, new Int8Array(channels));
        before.push(weightDq);
        inputs[1] = weightDq.output[0]!;
        replaced.add(weightName);
        if (bias && biasName) {
          const biasScale = Float32Array.from(scale, (s) => s * x.scale);
          const bq = Int32Array.from(bias, (b, c) => Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(b / biasScale[c]!))));
          const biasDq = storedQuantized(biasName, [channels], bq, biasScale, new Int32Array(channels));
          before.push(biasDq);
          inputs[2] = biasDq.output[0]!;
          replaced.add(biasName);
        }
        stats.int8Convs++;
      } else {
        stats.floatConvs++;
      }
    }
    if (ELEMENTWISE.has(node.op_type) && node.output.every((out) => params.has(out))) {
      // A per-channel constant (a pruning gate that could not fold, e.g. before a residual add) as uint8 too, so
      // the node fuses into its QLinear form instead of running in float between a DQ and a Q.
      node.input.forEach((input, slot) => {
        const t = initializers.get(input);
        if (!t || t.data_type !== DataType.FLOAT || inputs.every((i) => i === input || initializers.has(i))) return;
        const values = floatsOf(t);
        const p = uint8Params({ min: Math.min(...values), max: Math.max(...values) });
        const q = Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v / p.scale) + p.zeroPoint)));
        const dq = storedQuantized(input, t.dims, q, Float32Array.of(p.scale), Uint8Array.of(p.zeroPoint));
        before.push(dq);
        inputs[slot] = dq.output[0]!;
        replaced.add(input);
        stats.constants++;
      });
    }
    nodes.push(...before, { ...node, input: inputs });
    for (const out of node.output) if (params.has(out)) nodes.push(quantizer(out));
  }
  // Float weights that were quantized are no longer read (unless some other node still reads them).
  const stillRead = new Set(nodes.flatMap((n) => n.input));
  const initializer = [...graph.initializer.filter((t) => !replaced.has(t.name) || stillRead.has(t.name)), ...added];
  return { graph: { ...graph, node: nodes, initializer }, stats };
}
