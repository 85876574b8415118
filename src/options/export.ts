// `yolov5 export` and the library's exportModel(): every option once.
import { CALIBRATION_METHODS } from '../export/calibrate.js';
import { DEFAULT_INT8, INT8_MIN_OPSET } from '../export/int8.js';
import { DEFAULT_OPSET, SUPPORTED_OPSETS } from '../export/onnx-export.js';
import { batchSize, calibImages, device, imgszPair } from './common.js';
import { defineOptions, type OptionsOf, type ResolvedOptionsOf } from './declare.js';
import { choice, flag, listOf, positiveInteger, text } from './values.js';

export const exportOptions = defineOptions('export', {
  weights: {
    type: text,
    required: true,
    argument: '<path>',
    help: 'model weights (official YOLOv5 .pt or yolov5-ts .safetensors); an official name (yolov5s.pt, ...) not found here is downloaded',
  },
  include: { type: listOf(choice(['onnx'])), default: ['onnx'], argument: '<formats...>', help: 'formats to export' },
  imgsz: imgszPair('input size: one value, or height and width'),
  batchSize: batchSize('fixed batch size (without --dynamic)', 1),
  dynamic: { type: flag, default: false, help: 'dynamic batch, height and width axes' },
  opset: {
    type: positiveInteger,
    argument: '<n>',
    help: `ONNX opset version (${SUPPORTED_OPSETS[0]}..${SUPPORTED_OPSETS.at(-1)}; default ${DEFAULT_OPSET}, ${INT8_MIN_OPSET} with --int8)`,
  },
  output: { type: text, argument: '<file>', help: 'where to write the model (default: the weights path with .onnx, or -int8.onnx)' },
  int8: { type: flag, default: false, help: "static INT8 quantization (QDQ), activations calibrated on --data's training images" },
  data: { type: text, argument: '<yaml>', help: 'dataset whose train split calibrates the INT8 model' },
  calibImages: calibImages('calibration images, evenly spread over the train split', DEFAULT_INT8.calibImages),
  calibMethod: { type: choice(CALIBRATION_METHODS), default: DEFAULT_INT8.method, argument: '<method>', help: 'how activation ranges are chosen from the calibration images' },
  device,
});

/** The options of exportModel(), as the flags of `yolov5 export` in camelCase. */
export type ExportModelOptions = OptionsOf<typeof exportOptions>;
export type ResolvedExportOptions = ResolvedOptionsOf<typeof exportOptions>;
