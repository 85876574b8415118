import { Command, Option } from 'commander';
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { loadModel, resolveWeights } from '../../checkpoint/index.js';
import { DEFAULT_OPSET, SUPPORTED_OPSETS, checkOpset, describeVerify, exportOnnxFile } from '../../export/index.js';
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
    .option('--output <file>', 'where to write the model (default: the weights path with .onnx)')
    .addOption(deviceOption())
    .action(async (options: ExportOptions, command: Command) => {
      const started = Date.now();
      console.log(settingsLine(command, { imgsz: heightAndWidth(options.imgsz ?? [640]) }));
      const output = options.output ?? options.weights.slice(0, options.weights.length - extname(options.weights).length) + '.onnx';
      if (output === options.weights) throw new Error(`${options.weights} is already an ONNX file; give --output to write elsewhere`);
      checkOpset(options.opset);
      // An official name (yolov5s.pt) is fetched into the cache; the .onnx is still written beside the name given.
      const weightsFile = await resolveWeights(options.weights);
      const { model } = await loadModel(weightsFile);
      const checked = checkImgSize(options.imgsz ?? [640], Math.max(...model.stride, 32));
      if (checked.warning) console.log(checked.warning);
      const [height, width] = heightAndWidth(checked.sizes);
      console.log(summaryLine(model, 'Model', [height, width]));
      console.log(`\nlibtorch: starting from ${options.weights} (${megabytes(statSync(weightsFile).size)})`);
      const { onnx, verification } = await exportOnnxFile(model, output, {
        imgsz: [height, width],
        batchSize: options.batchSize,
        dynamic: options.dynamic,
        opset: options.opset,
      });
      const { foldedIntoConvs, mulNodes } = onnx.gates;
      if (foldedIntoConvs || mulNodes) console.log(`ONNX: channel gates folded into ${foldedIntoConvs} convolutions, ${mulNodes} kept as Mul nodes`);
      for (const r of verification) console.log(`ONNX: verified against libtorch, ${describeVerify(r)}`);
      console.log(
        `ONNX: export success, opset ${onnx.opset}, input [${onnx.inputShape.join(', ')}] → output [${onnx.outputShape.join(', ')}], ` +
          `saved as ${output} (${megabytes(onnx.bytes.length)})`,
      );
      console.log(`\nExport complete (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      console.log(`Detect:   yolov5 detect --weights ${output}${options.dynamic ? '' : ` --img ${height} ${width}`}`);
    });
}
