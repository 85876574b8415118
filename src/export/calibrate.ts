// Calibration of activation ranges for static quantization: the float graph runs in ONNX Runtime on real images
// with every activation to quantize as an extra output, and each tensor's range is chosen from what it held:
//   - minmax: the extremes seen (no value clipped; rare outliers stretch the scale for all the others);
//   - percentile: the central `percentile` % of all values (the tails clipped);
//   - entropy: the clipping threshold whose 128-level quantization of |x| loses the least information
//     (Kullback-Leibler divergence of the histograms, the method of TensorRT's INT8 calibration).
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { NetworkInput } from '../data/batch-tensor.js';
import { DataType, encodeModel, type ModelMessage } from './onnx-proto.js';
import type { ActivationRange } from './quantize.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationSettings {
  method: CalibrationMethod;
  /** For `percentile`: the share of values kept, in percent (the rest split between both tails). */
  percentile?: number;
}

export const DEFAULT_PERCENTILE = 99.999;
const BINS = 2048;
/** Levels of the quantized histogram the entropy method compares with (as TensorRT: 128 for the magnitude). */
const QUANTIZED_BINS = 128;

/** The float model with `tensors` as extra outputs (rank unknown to the file; ONNX Runtime infers the shapes). */
function observingModel(model: ModelMessage, tensors: readonly string[]): Uint8Array {
  const extra = tensors.map((name) => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } }));
  return encodeModel({ ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } });
}

/** Runs the observing model over every input of one pass, handing each tensor's values to `visit`. */
async function pass(session: InferenceSession, tensors: readonly string[], inputs: AsyncIterable<NetworkInput>, visit: (tensor: number, values: Float32Array) => void, onImage?: () => void): Promise<number> {
  const inputName = session.inputNames[0]!;
  let images = 0;
  for await (const input of inputs) {
    const outputs = await session.run({ [inputName]: new OrtTensor('float32', input.data, input.shape) }, [...tensors]);
    tensors.forEach((name, t) => visit(t, outputs[name]!.data as Float32Array));
    for (const value of Object.values(outputs)) value.dispose?.();
    images += input.shape[0];
    onImage?.();
  }
  return images;
}

function histogram(values: Float32Array, into: Float64Array, lo: number, hi: number, magnitude: boolean): void {
  const scale = hi > lo ? BINS / (hi - lo) : 0;
  for (let i = 0; i < values.length; i++) {
    const v = magnitude ? Math.abs(values[i]!) : values[i]!;
    into[Math.min(BINS - 1, Math.max(0, Math.floor((v - lo) * scale)))]! += 1;
  }
}

/** The values between which the central `percent` % of the histogram's mass lies. */
function percentileRange(hist: Float64Array, lo: number, hi: number, percent: number): ActivationRange {
  const total = hist.reduce((a, b) => a + b, 0);
  const tail = (total * (1 - percent / 100)) / 2;
  const width = (hi - lo) / BINS;
  let below = 0;
  let first = 0;
  while (first < BINS - 1 && below + hist[first]! <= tail) below += hist[first++]!;
  let above = 0;
  let last = BINS - 1;
  while (last > first && above + hist[last]! <= tail) above += hist[last--]!;
  return { min: lo + first * width, max: lo + (last + 1) * width };
}

/** KL(p ‖ q) of two unnormalised histograms over the bins where p has mass. */
function divergence(p: Float64Array, q: Float64Array): number {
  const ps = p.reduce((a, b) => a + b, 0);
  const qs = q.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! === 0) continue;
    // A bin the quantized histogram left empty while the reference has mass: smoothed, not infinite.
    const qi = q[i]! > 0 ? q[i]! / qs : 1e-12;
    kl += (p[i]! / ps) * Math.log(p[i]! / ps / qi);
  }
  return kl;
}

/** The magnitude threshold (bin edge) of least divergence between the clipped histogram of |x| and its quantization. */
export function entropyThreshold(hist: Float64Array, amax: number): number {
  const width = amax / hist.length;
  let best = hist.length;
  let bestKl = Infinity;
  const beyond = new Float64Array(hist.length + 1);
  for (let j = hist.length - 1; j >= 0; j--) beyond[j] = beyond[j + 1]! + hist[j]!;
  for (let i = QUANTIZED_BINS; i <= hist.length; i++) {
    // The clipped tail counts in the last bin of the reference only.
    const p = hist.slice(0, i);
    p[i - 1]! += beyond[i]!;
    const q = new Float64Array(i);
    const perLevel = i / QUANTIZED_BINS;
    for (let level = 0; level < QUANTIZED_BINS; level++) {
      const start = Math.floor(level * perLevel);
      const end = level === QUANTIZED_BINS - 1 ? i : Math.floor((level + 1) * perLevel);
      let mass = 0;
      let used = 0;
      for (let j = start; j < end; j++) {
        mass += hist[j]!;
        if (hist[j]! > 0) used++;
      }
      // The level's mass spread over the bins that had any (an empty bin stays empty after dequantization).
      for (let j = start; j < end; j++) if (hist[j]! > 0) q[j] = mass / used;
    }
    const kl = divergence(p, q);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best * width;
}

export interface CalibrationResult {
  ranges: Map<string, ActivationRange>;
  images: number;
}

/**
 * Ranges of `tensors` of the float `model` over the images `inputs()` yields (called once per pass: minmax needs
 * one pass, the histogram methods two: extremes, then the histogram between them).
 */
export async function calibrateActivations(
  model: ModelMessage,
  tensors: readonly string[],
  inputs: () => AsyncIterable<NetworkInput>,
  settings: CalibrationSettings,
  onImage?: () => void,
): Promise<CalibrationResult> {
  const session = await InferenceSession.create(observingModel(model, tensors), {
    intraOpNumThreads: availableParallelism(),
    // Extra outputs pin the tensors anyway; without fusions the values are those of the unfused float graph.
    graphOptimizationLevel: 'basic',
  });
  try {
    const lo = new Float64Array(tensors.length).fill(Infinity);
    const hi = new Float64Array(tensors.length).fill(-Infinity);
    const images = await pass(
      session,
      tensors,
      inputs(),
      (t, values) => {
        let [a, b] = [lo[t]!, hi[t]!];
        for (let i = 0; i < values.length; i++) {
          const v = values[i]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
        [lo[t], hi[t]] = [a, b];
      },
      onImage,
    );
    if (images === 0) throw new Error('calibration: no images');
    const ranges = new Map<string, ActivationRange>();
    if (settings.method === 'minmax') {
      tensors.forEach((name, t) => ranges.set(name, { min: lo[t]!, max: hi[t]! }));
      return { ranges, images };
    }
    const magnitude = settings.method === 'entropy';
    const amax = Float64Array.from(tensors, (_, t) => Math.max(Math.abs(lo[t]!), Math.abs(hi[t]!)));
    const hists = tensors.map(() => new Float64Array(BINS));
    await pass(session, tensors, inputs(), (t, values) => histogram(values, hists[t]!, magnitude ? 0 : lo[t]!, magnitude ? amax[t]! : hi[t]!, magnitude), onImage);
    tensors.forEach((name, t) => {
      if (!magnitude) {
        ranges.set(name, percentileRange(hists[t]!, lo[t]!, hi[t]!, settings.percentile ?? DEFAULT_PERCENTILE));
        return;
      }
      const threshold = entropyThreshold(hists[t]!, amax[t]!);
      ranges.set(name, { min: Math.max(lo[t]!, -threshold), max: Math.min(hi[t]!, threshold) });
    });
    return { ranges, images };
  } finally {
    await session.release();
  }
}
