// `yolov5 benchmark` and the library's benchmark(): every option once.
import { device, imgsz } from './common.js';
import { defineOptions, type OptionsOf } from './declare.js';
import { positiveInteger, text } from './values.js';

export const benchmarkOptions = defineOptions('benchmark', {
  weights: { type: text, required: true, argument: '<path>', help: 'official .pt or yolov5-ts .safetensors (both runtimes), or .onnx (ONNX Runtime)' },
  imgsz: imgsz('inference size (long side)'),
  source: { type: text, argument: '<image>', help: 'image to run on (default: a synthetic 1280x720 picture, letterboxed to 640x384)' },
  runs: { type: positiveInteger, default: 50, argument: '<n>', help: 'timed runs per runtime' },
  warmup: { type: positiveInteger, default: 5, argument: '<n>', help: 'untimed runs first' },
  threads: { type: positiveInteger, argument: '<n>', help: 'intra-op threads of both runtimes (default: all cores for ONNX Runtime, libtorch default)' },
  device,
});

/** The options of benchmark(), as the flags of `yolov5 benchmark` in camelCase. */
export type BenchmarkCommandOptions = OptionsOf<typeof benchmarkOptions>;
