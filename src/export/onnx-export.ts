// ONNX export of a DetectionModel (official, trained or pruned): a self-contained graph from `images`
// [batch, 3, height, width] in [0, 1] to `output0` [batch, boxes, 5 + nc], as the official export.py writes it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DetectionModel } from '../model/yolo.js';
import { GraphBuilder } from './graph-builder.js';
import { emitModel, type GraphShape } from './model-graph.js';
import { metadataProps } from './metadata.js';
import { encodeModel, type Dim, type ModelMessage } from './onnx-proto.js';
import { fail, integer } from '../util/check.js';

export const DEFAULT_OPSET = 12;
/** The IR version each supported opset requires (onnx/onnx docs/Versioning.md). */
const IR_VERSION: Record<number, number> = { 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
export const SUPPORTED_OPSETS = Object.keys(IR_VERSION).map(Number);

export interface OnnxExportOptions {
  /** Input size: one number for a square, or [height, width]; a multiple of max(largest stride, 32). Default 640. */
  imgsz?: number | [number, number];
  /** Fixed batch size of the input (ignored when dynamic). Default 1. */
  batchSize?: number;
  /** Dynamic batch, height and width axes. */
  dynamic?: boolean;
  opset?: number;
}

/** The graph before encoding, for passes that rewrite it (quantization). */
export interface OnnxGraph extends Omit<OnnxModel, 'bytes'> {
  message: ModelMessage;
}

export interface OnnxModel {
  bytes: Uint8Array;
  /** [batch, 3, height, width]; strings name dynamic axes. */
  inputShape: Dim[];
  outputShape: Dim[];
  opset: number;
  /** Channel gates folded into consumer convolutions vs. kept as Mul nodes. */
  gates: { foldedIntoConvs: number; mulNodes: number };
}

/** This package's version, from the nearest package.json above this module (dist/ and dist-test/ builds alike). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

export function checkOpset(opset: number): void {
  if (!IR_VERSION[opset]) throw new Error(`ONNX export: opset ${opset} is not supported (use ${SUPPORTED_OPSETS[0]}..${SUPPORTED_OPSETS.at(-1)})`);
}

export function normalizeImageSize(imgsz: number | [number, number]): [number, number] {
  return typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz;
}

export function exportOnnx(model: DetectionModel, options: OnnxExportOptions = {}): OnnxModel {
  const { message, ...rest } = onnxGraph(model, options);
  return { bytes: encodeModel(message), ...rest };
}

export function onnxGraph(model: DetectionModel, options: OnnxExportOptions = {}): OnnxGraph {
  const [height, width] = normalizeImageSize(options.imgsz ?? 640);
  const batch = options.batchSize ?? 1;
  const opset = options.opset ?? DEFAULT_OPSET;
  const dynamic = options.dynamic ?? false;
  const maxStride = Math.max(...model.stride);
  // The model's own input rule (as the official gs = max(stride, 32)).
  const sizeMultiple = Math.max(maxStride, 32);
  checkOpset(opset);
  for (const [what, size] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(size) || size <= 0 || size % sizeMultiple) fail(`ONNX export: image ${what}`, `a positive multiple of ${sizeMultiple} (the model's largest stride, at least 32)`, size);
  }
  integer('ONNX export: batch size', batch, { min: 1 });
  if (model.inputChannels !== 3) throw new Error(`ONNX export: the model reads ${model.inputChannels} channels; only RGB (3) models are supported`);

  const shape: GraphShape = dynamic ? { batch: null, height: null, width: null } : { batch, height, width };
  const boxes = model.stride.reduce((n, s) => n + model.detect.na * (height / s) * (width / s), 0);
  const inputShape: Dim[] = dynamic ? ['batch', 3, 'height', 'width'] : [batch, 3, height, width];
  const outputShape: Dim[] = dynamic ? ['batch', 'anchors', model.detect.no] : [batch, boxes, model.detect.no];

  const builder = new GraphBuilder();
  const images = builder.input('images', inputShape);
  builder.output(emitModel(builder, model, images, shape), 'output0', outputShape);
  const message: ModelMessage = {
    ir_version: IR_VERSION[opset]!,
    producer_name: 'yolov5-ts',
    producer_version: packageVersion(),
    opset_import: [{ domain: '', version: opset }],
    graph: builder.graph('yolov5-ts'),
    metadata_props: metadataProps({ stride: maxStride, names: model.names }),
  };
  return { message, inputShape, outputShape, opset, gates: { ...builder.gateStats } };
}
