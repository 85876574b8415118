// yolov5-ts as a library: `const model = await load('yolov5n.pt' | 'model.onnx' | 'ours.safetensors')`, then
// `await model.detect(image)`; every command as a function taking its flags in camelCase (train, val, prune,
// exportModel, runDetect, benchmark, synth, demo); and the exporter, validation and the benchmark beneath them.
export { load, Detector, type DecodedImage, type DetectOptions, type LoadOptions } from './infer/predictor.js';
export { Detections, type Box, type Crop, type CropOptions, type Size, type Timings, type LabelOptions } from './infer/results.js';
export type { ImageInput, RawPixels } from './infer/input.js';
export type { FetchOptions } from './infer/fetch-image.js';
export type { RuntimeName } from './infer/backend.js';
export { annotateImage, annotationSvg, classColor, defaultLineWidth, type AnnotationBox, type DrawOptions } from './plot/draw.js';
export { train, type TrainOptions, type TrainRun } from './api/train.js';
export { val, type ValOptions, type ValRun } from './api/val.js';
export { prune, type PruneOptions, type PruneResult } from './api/prune.js';
export { exportModel, type ExportModelOptions, type ExportModelResult } from './api/export-model.js';
export { runDetect, type DetectCommandOptions, type DetectRunSummary } from './api/detect.js';
export { benchmark, type BenchmarkCommandOptions } from './api/benchmark.js';
export { synth, type SynthOptions, type SynthDataset } from './api/synth.js';
export { demo, type DemoOptions, type DemoResult } from './api/demo.js';
export type { RunControl } from './api/run-control.js';
export { trainOptions } from './options/train.js';
export { valOptions } from './options/val.js';
export { pruneOptions } from './options/prune.js';
export { exportOptions } from './options/export.js';
export { detectOptions } from './options/detect.js';
export { benchmarkOptions } from './options/benchmark.js';
export { synthOptions, demoOptions } from './options/dataset.js';
export type { Declaration, OptionSpec, OptionsOf, ResolvedOptionsOf } from './options/declare.js';
export { validate, type AsyncDetector, type ValidateOptions, type ValidationResult } from './val/validator.js';
export { benchmarkModel, formatBenchmark, type BenchmarkOptions, type RuntimeBenchmark, type StageStats } from './infer/benchmark.js';
export {
  exportOnnx,
  exportOnnxFile,
  DEFAULT_OPSET,
  SUPPORTED_OPSETS,
  type OnnxExportOptions,
  type OnnxModel,
  type ExportedFile,
  type VerifyResult,
} from './export/index.js';
export { loadModel, resolveWeights, OFFICIAL_WEIGHTS, type LoadedModel } from './checkpoint/index.js';
export { prepareDataset } from './data/dataset-download.js';
export { cacheDir } from './util/cache-dir.js';
export { DetectionModel } from './model/yolo.js';
export type { RgbImage } from './data/image.js';
