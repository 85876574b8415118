// yolov5-ts as a library: `const model = await load('yolov5n.pt' | 'model.onnx' | 'ours.safetensors')`, then
// `await model.detect(image)`. Also the ONNX exporter, the detect run, validation and the benchmark behind the CLI.
export { load, Detector, type DecodedImage, type DetectOptions, type LoadOptions } from './infer/predictor.js';
export { Detections, type Box, type Crop, type CropOptions, type Size, type Timings, type LabelOptions } from './infer/results.js';
export type { ImageInput, RawPixels } from './infer/input.js';
export type { FetchOptions } from './infer/fetch-image.js';
export type { RuntimeName } from './infer/backend.js';
export { annotateImage, annotationSvg, classColor, defaultLineWidth, type AnnotationBox, type DrawOptions } from './plot/draw.js';
export { runDetect, type DetectRunOptions, type DetectRunSummary } from './infer/detect-run.js';
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
