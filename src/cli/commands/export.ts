import { Command, Option } from 'commander';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { loadModel, resolveWeights } from '../../checkpoint/index.js';
import { DEFAULT_OPSET, SUPPORTED_OPSETS, checkOpset, describeVerify, exportOnnxFile } from '../../export/index.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../../export/calibrate.js';
import { DEFAULT_INT8, describeErrors, exportInt8File, INT8_MIN_OPSET } from '../../export/int8.js';
import { progress, type Progress } from '../../util/progress.js';
import { summaryLine } from '../../model/summary.js';
import { batchSizeOption, deviceOption, heightAndWidth, imgSizesOption, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';
import { checkImgSize } from '../../data/letterbox.js';

interface ExportOptions {
  weights: string;
  include: string[];
  imgsz?: number[];
  batchSize: number;
  dynamic: boolean;
  opset: number;
  output?: string;
  int8: boolean;
  data?: string;
  calibImages: number;
  calibMethod: CalibrationMethod;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function exportCommand(): Command {
  return new Command('export')
    .description('export a model (official .pt, trained or pruned .safetensors) to ONNX, verified against libtorch')
    .requiredOption('--weights <path>', 'model weights (official YOLOv5 .pt or yolov5-ts .safetensors); an official name (yolov5s.pt, ...) not found here is downloaded')
    .addOption(new Option('--include <formats...>', 'formats to export').choices(['onnx']).default(['onnx']))
    .addOption(imgSizesOption('input size: one value, or height and width (default 640)'))
    .addOption(batchSizeOption('fixed batch size (without --dynamic)', 1))
    .option('--dynamic', 'dynamic batch, height and width axes', false)
    .option('--opset <n>', `ONNX opset version (${SUPPORTED_OPSETS[0]}..${SUPPORTED_OPSETS.at(-1)})`, positiveInteger, DEFAULT_OPSET)
    .option('--output <file>', 'where to write the model (default: the weights path with .onnx, or -int8.onnx)')
    .option('--int8', 'static INT8 quantization (QDQ), activations calibrated on --data\'s training images', false)
    .option('--data <yaml>', 'dataset whose train split calibrates the INT8 model')
    .option('--calib-images <n>', 'calibration images, evenly spread over the train split', positiveInteger, DEFAULT_INT8.calibImages)
    .addOption(new Option('--calib-method <method>', 'how activation ranges are chosen from the calibration images').choices(CALIBRATION_METHODS).default(DEFAULT_INT8.method))
    .addOption(deviceOption())
    .action(async (options: ExportOptions, command: Command) => {
      const started = Date.now();
      console.log(settingsLine(command, { imgsz: heightAndWidth(options.imgsz ?? [640]) }));
      const output = options.output ?? options.weights.slice(0, options.weights.length - extname(options.weights).length) + (options.int8 ? '-int8.onnx' : '.onnx');
      if (output === options.weights) throw new Error(`${options.weights} is already an ONNX file; give --output to write elsewhere`);
      if (options.int8 && !options.data) throw new Error('--int8 needs --data: a dataset whose training images calibrate the activations');
      if (!options.int8 && options.data) throw new Error('--data is used only with --int8 (calibration images)');
      const opsetGiven = command.getOptionValueSource('opset') !== 'default';
      if (options.int8 && opsetGiven && options.opset < INT8_MIN_OPSET) throw new Error(`--int8 needs --opset ${INT8_MIN_OPSET} or later (per-channel DequantizeLinear), got ${options.opset}`);
      const opset = options.int8 && !opsetGiven ? INT8_MIN_OPSET : options.opset;
      checkOpset(opset);
      // An official name (yolov5s.pt) is fetched into the cache; the .onnx is still written beside the name given.
      const weightsFile = await resolveWeights(options.weights);
      const { model } = await loadModel(weightsFile);
      const checked = checkImgSize(options.imgsz ?? [640], Math.max(...model.stride, 32));
      if (checked.warning) console.log(checked.warning);
      const [height, width] = heightAndWidth(checked.sizes);
      console.log(summaryLine(model, 'Model', [height, width]));
      console.log(`\nlibtorch: starting from ${options.weights} (${megabytes(statSync(weightsFile).size)})`);
      const settings = { imgsz: [height, width] as [number, number], batchSize: options.batchSize, dynamic: options.dynamic, opset };
      let onnx;
      if (options.int8) {
        let bar: Progress | undefined;
        const onProgress = (done: number, total: number) => (bar ??= progress({ title: 'INT8 calibration', total, unit: 'images' })).update(done);
        const result = await exportInt8File(model, output, { ...settings, data: options.data!, calibImages: options.calibImages, method: options.calibMethod, onProgress });
        bar?.stop();
        onnx = result.onnx;
        const { int8Convs, activations } = result.stats;
        console.log(`INT8: ${result.method} ranges of ${activations} activations from ${result.calibrationImages} training images of ${options.data}; ${int8Convs} convolutions with int8 weights`);
        console.log(`INT8: output difference from the float model on ${result.compared} of those images: ${describeErrors(result.errors)}`);
      } else {
        const exported = await exportOnnxFile(model, output, settings);
        onnx = exported.onnx;
        for (const r of exported.verification) console.log(`ONNX: verified against libtorch, ${describeVerify(r)}`);
      }
      const { foldedIntoConvs, mulNodes } = onnx.gates;
      if (foldedIntoConvs || mulNodes) console.log(`ONNX: channel gates folded into ${foldedIntoConvs} convolutions, ${mulNodes} kept as Mul nodes`);
      console.log(
        `ONNX: export success, opset ${onnx.opset}, input [${onnx.inputShape.join(', ')}] → output [${onnx.outputShape.join(', ')}], ` +
          `saved as ${output} (${megabytes(onnx.bytes.length)})`,
      );
      console.log(`\nExport complete (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      console.log(`Detect:   yolov5 detect --weights ${output}${options.dynamic ? '' : ` --img ${height} ${width}`}`);
    });
}
