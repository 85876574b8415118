// Channel dataflow of the model, for analyses that must know how channels flow (pruning).
// Each block describes its own dataflow with these primitives, next to its forward(); a tracer gives them meaning.
import { nn } from '../torch/index.js';

export interface ChannelTracer<N> {
  /** A Conv block (convolution, BatchNorm, activation, gate) reading `input` and producing new channels. */
  conv(block: nn.Module & { conv: nn.Conv2d }, input: N): N;
  /** A plain convolution whose outputs are fixed (the Detect heads): it only reads `input`. */
  head(conv: nn.Conv2d, input: N): void;
  /** Elementwise sum: both sides must carry the same channels. */
  add(a: N, b: N): N;
  /** Channel concatenation. */
  cat(inputs: N[]): N;
  /** An operation that keeps each channel where it is (pooling, upsampling, slicing space). */
  same(input: N): N;
}

export interface Traceable {
  trace<N>(tracer: ChannelTracer<N>, input: N | N[]): N;
}

function isTraceable(module: nn.Module): module is nn.Module & Traceable {
  return typeof (module as Partial<Traceable>).trace === 'function';
}

/** Traces any module of a YOLOv5 model: blocks describe themselves; containers and pass-through layers are generic. */
export function traceModule<N>(module: nn.Module, tracer: ChannelTracer<N>, input: N | N[]): N {
  if (isTraceable(module)) return module.trace(tracer, input);
  if (module instanceof nn.Sequential) return module.layers.reduce((x, layer) => traceModule(layer, tracer, x), input as N);
  if (module instanceof nn.MaxPool2d || module instanceof nn.Upsample || module instanceof nn.Identity) return tracer.same(input as N);
  throw new Error(`cannot trace the channel flow of ${module.constructor.name}: give it a trace() method`);
}
