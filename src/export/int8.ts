// INT8 export: the float graph, its activations calibrated on real training images (pre-processed exactly as
// `detect` pre-processes for a fixed-size model), quantized to QDQ, then checked in ONNX Runtime against the
// float graph on the same images.
import { writeFile } from 'node:fs/promises';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { NetworkInput } from '../data/batch-tensor.js';
import { evenlySpread, loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import { decodeImage } from '../data/image.js';
import { letterboxInput } from '../data/letterbox.js';
import type { DetectionModel } from '../model/yolo.js';
import { calibrateActivations, DEFAULT_PERCENTILE, type CalibrationMethod } from './calibrate.js';
import { normalizeImageSize, onnxGraph, type OnnxExportOptions, type OnnxModel } from './onnx-export.js';
import { encodeModel } from './onnx-proto.js';
import { activationParams, activationsToQuantize, quantizeGraph, type QuantizedGraphStats, type QuantizeScope } from './quantize.js';
import { integer } from '../util/check.js';

/** DequantizeLinear's per-channel `axis` needs opset 13. */
export const INT8_MIN_OPSET = 13;

export interface Int8ExportOptions extends OnnxExportOptions {
  /** Dataset yaml: calibration images come from its train split. */
  data: string;
  /** How many training images calibrate (evenly spread over the split). Default 256. */
  calibImages?: number;
  method?: CalibrationMethod;
  /** For the percentile method: the share of values kept, in percent. */
  percentile?: number;
  scope?: QuantizeScope;
  /** Quantize the Detect head's convolutions too (their logits); default false: the head convolutions stay float. */
  quantizeHeads?: boolean;
  /** Images compared between the INT8 and the float model (the first calibration images). Default 32. */
  compareImages?: number;
  /** Called after each image of each pass (one or two calibration passes, then the comparison). */
  onProgress?: (done: number, total: number) => void;
}

/** Differences between INT8 and float outputs of one kind, over the compared images. */
export interface OutputError {
  output: 'xy' | 'wh' | 'objectness' | 'class';
  /** Mean and largest |int8 − float| over all boxes (pixels for xy and wh, probability otherwise). */
  meanAbs: number;
  maxAbs: number;
  /** Mean |int8 − float| over the boxes the float model is confident about (objectness ≥ 0.25). */
  meanAbsConfident: number;
}

export interface Int8Model {
  onnx: OnnxModel;
  method: CalibrationMethod;
  calibrationImages: number;
  stats: QuantizedGraphStats;
  errors: OutputError[];
  compared: number;
}

export const DEFAULT_INT8 = { calibImages: 256, method: 'percentile' as CalibrationMethod, scope: 'body' as QuantizeScope, compareImages: 32 };

function calibrationInputs(files: readonly string[], height: number, width: number): () => AsyncIterable<NetworkInput> {
  return async function* () {
    for (const file of files) yield letterboxInput(await decodeImage(file), { width, height }, { auto: false }).input;
  };
}

/** Per-output differences between two models' decoded outputs [batch, boxes, 5 + nc] on the same inputs. */
async function compareOutputs(floatBytes: Uint8Array, int8Bytes: Uint8Array, columns: number, inputs: AsyncIterable<NetworkInput>, onImage?: () => void): Promise<{ errors: OutputError[]; images: number }> {
  const options: InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  const [floatSession, int8Session] = await Promise.all([InferenceSession.create(floatBytes, options), InferenceSession.create(int8Bytes, options)]);
  const kinds = [
    { output: 'xy', from: 0, to: 2 },
    { output: 'wh', from: 2, to: 4 },
    { output: 'objectness', from: 4, to: 5 },
    { output: 'class', from: 5, to: columns },
  ] as const;
  const sums = kinds.map(() => ({ sum: 0, count: 0, max: 0, confidentSum: 0, confidentCount: 0 }));
  let images = 0;
  try {
    for await (const input of inputs) {
      const feed = (s: InferenceSession) => ({ [s.inputNames[0]!]: new OrtTensor('float32', input.data, input.shape) });
      const [a, b] = await Promise.all([floatSession.run(feed(floatSession)), int8Session.run(feed(int8Session))]);
      const reference = a[floatSession.outputNames[0]!]!.data as Float32Array;
      const quantized = b[int8Session.outputNames[0]!]!.data as Float32Array;
      for (let row = 0; row < reference.length; row += columns) {
        const confident = reference[row + 4]! >= 0.25;
        kinds.forEach(({ from, to }, k) => {
          const s = sums[k]!;
          for (let c = from; c < to; c++) {
            const d = Math.abs(quantized[row + c]! - reference[row + c]!);
            s.sum += d;
            s.count++;
            if (d > s.max) s.max = d;
            if (confident) {
              s.confidentSum += d;
              s.confidentCount++;
            }
          }
        });
      }
      images += input.shape[0];
      onImage?.();
    }
  } finally {
    await Promise.all([floatSession.release(), int8Session.release()]);
  }
  const errors = kinds.map(({ output }, k) => {
    const s = sums[k]!;
    return { output, meanAbs: s.sum / Math.max(1, s.count), maxAbs: s.max, meanAbsConfident: s.confidentCount ? s.confidentSum / s.confidentCount : 0 };
  });
  return { errors, images };
}

/** Exports `model` to ONNX and quantizes it to INT8 (QDQ), calibrated on `options.data`'s training images. */
export async function exportInt8(model: DetectionModel, options: Int8ExportOptions): Promise<Int8Model> {
  const opset = integer('INT8 export: opset', options.opset ?? INT8_MIN_OPSET, { min: INT8_MIN_OPSET, why: 'per-channel DequantizeLinear' });
  const calibImages = integer('--calib-images', options.calibImages ?? DEFAULT_INT8.calibImages, { min: 1 });
  const method = options.method ?? DEFAULT_INT8.method;
  const config = loadDatasetConfig(options.data);
  if (config.names.length !== model.names.length) {
    throw new Error(`${options.data} has ${config.names.length} classes but the model ${model.names.length}: calibrate on the data the model was trained for`);
  }
  const files = evenlySpread(splitImageFiles(config, 'train'), calibImages);
  const [height, width] = normalizeImageSize(options.imgsz ?? 640);
  const float = onnxGraph(model, { ...options, opset });
  const quantizeOptions = { scope: options.scope ?? DEFAULT_INT8.scope, quantizeHeads: options.quantizeHeads ?? false };
  const tensors = activationsToQuantize(float.message.graph, quantizeOptions);
  const compareImages = Math.min(files.length, options.compareImages ?? DEFAULT_INT8.compareImages);
  const total = files.length * (method === 'minmax' ? 1 : 2) + compareImages;
  let done = 0;
  const step = () => options.onProgress?.(++done, total);
  const { ranges, images } = await calibrateActivations(float.message, tensors, calibrationInputs(files, height, width), { method, percentile: options.percentile }, step);
  const { graph, stats } = quantizeGraph(float.message.graph, activationParams(float.message.graph, ranges));
  const how = method === 'percentile' ? `percentile ${options.percentile ?? DEFAULT_PERCENTILE}` : method;
  const message = {
    ...float.message,
    graph,
    metadata_props: [
      ...float.message.metadata_props,
      { key: 'quantization', value: `int8 QDQ: activations uint8 (${how}, ${images} images of ${options.data}), weights int8 per channel` },
    ],
  };
  const bytes = encodeModel(message);
  const { errors, images: compared } = await compareOutputs(encodeModel(float.message), bytes, model.detect.no, calibrationInputs(files.slice(0, compareImages), height, width)(), step);
  const onnx = { bytes, inputShape: float.inputShape, outputShape: float.outputShape, opset: float.opset, gates: float.gates };
  return { onnx, method, calibrationImages: images, stats, errors, compared };
}

export async function exportInt8File(model: DetectionModel, file: string, options: Int8ExportOptions): Promise<Int8Model & { file: string }> {
  const result = await exportInt8(model, options);
  await writeFile(file, result.onnx.bytes);
  return { ...result, file };
}

export function describeErrors(errors: readonly OutputError[]): string {
  const unit = (output: OutputError['output']) => (output === 'xy' || output === 'wh' ? ' px' : '');
  return errors
    .map((e) => `${e.output} ${e.meanAbs.toPrecision(2)}${unit(e.output)} (confident boxes ${e.meanAbsConfident.toPrecision(2)}, max ${e.maxAbs.toPrecision(2)})`)
    .join(', ');
}
