// exportModel(): `yolov5 export` as a library call, with the same options, defaults, messages and files.
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { loadModel, resolveWeights } from '../checkpoint/index.js';
import { checkImgSize } from '../data/letterbox.js';
import { checkOpset, DEFAULT_OPSET, describeVerify, exportOnnxFile, type OnnxModel, type VerifyResult } from '../export/index.js';
import { describeErrors, exportInt8File, INT8_MIN_OPSET, type Int8Model } from '../export/int8.js';
import { summaryLine } from '../model/summary.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { exportOptions, type ExportModelOptions } from '../options/export.js';
import { progress, type Progress } from '../util/progress.js';
import { defaultLog } from './run-control.js';

export type { ExportModelOptions };

/** What exportModel() wrote: the file, the model, and its check against libtorch (or the INT8 comparison). */
export interface ExportModelResult {
  file: string;
  onnx: OnnxModel;
  /** Float exports: ONNX Runtime against libtorch on the same inputs. */
  verification?: VerifyResult[];
  /** INT8 exports: the calibration and the output difference from the float model. */
  int8?: Omit<Int8Model, 'onnx'>;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Exports a model (official .pt, trained or pruned .safetensors) to ONNX, as `yolov5 export`: the options are the
 * command's flags in camelCase with the same defaults (`batchSize`, `dynamic`, `opset`, `int8`, ...), each listed
 * with its help in docs/options.md#export. The file is checked against libtorch before it is written (INT8:
 * compared with the float model) and goes to `output`, by default beside the weights (`yolov5n.onnx`,
 * `pruned-int8.onnx`). Returns the file's path, the model's shapes and opset, and the check.
 *
 * @example
 * const { file, onnx } = await exportModel({ weights: 'best.safetensors', imgsz: [384, 640], dynamic: true });
 */
export async function exportModel(options: ExportModelOptions & { log?: (line: string) => void }): Promise<ExportModelResult> {
  const { log = defaultLog, ...given } = options;
  const o = resolveOptions(exportOptions, given);
  const started = Date.now();
  const opset = o.opset ?? (o.int8 ? INT8_MIN_OPSET : DEFAULT_OPSET);
  log(settingsLine(exportOptions, { ...o, opset }));
  const output = o.output ?? o.weights.slice(0, o.weights.length - extname(o.weights).length) + (o.int8 ? '-int8.onnx' : '.onnx');
  if (output === o.weights) throw new Error(`${o.weights} is already an ONNX file; give --output to write elsewhere`);
  if (o.int8 && !o.data) throw new Error('--int8 needs --data: a dataset whose training images calibrate the activations');
  if (!o.int8 && o.data) throw new Error('--data is used only with --int8 (calibration images)');
  if (o.int8 && opset < INT8_MIN_OPSET) throw new Error(`--int8 needs --opset ${INT8_MIN_OPSET} or later (per-channel DequantizeLinear), got ${opset}`);
  checkOpset(opset);
  // An official name (yolov5s.pt) is fetched into the cache; the .onnx is still written beside the name given.
  const weightsFile = await resolveWeights(o.weights);
  const { model } = await loadModel(weightsFile);
  // A square size is one value, as given, in the warning (`--img 300 must be a multiple ...`).
  const checked = checkImgSize(o.imgsz[0] === o.imgsz[1] ? [o.imgsz[0]] : o.imgsz, Math.max(...model.stride, 32));
  if (checked.warning) log(checked.warning);
  const [height, width] = [checked.sizes[0]!, checked.sizes[1] ?? checked.sizes[0]!];
  log(summaryLine(model, 'Model', [height, width]));
  log(`\nlibtorch: starting from ${o.weights} (${megabytes(statSync(weightsFile).size)})`);
  const settings = { imgsz: [height, width] as [number, number], batchSize: o.batchSize, dynamic: o.dynamic, opset };
  let result: ExportModelResult;
  if (o.int8) {
    let bar: Progress | undefined;
    const onProgress = (done: number, total: number) => (bar ??= progress({ title: 'INT8 calibration', total, unit: 'images' })).update(done);
    const { onnx, file, ...int8 } = await exportInt8File(model, output, { ...settings, data: o.data!, calibImages: o.calibImages, method: o.calibMethod, onProgress });
    bar?.stop();
    log(`INT8: ${int8.method} ranges of ${int8.stats.activations} activations from ${int8.calibrationImages} training images of ${o.data}; ${int8.stats.int8Convs} convolutions with int8 weights`);
    log(`INT8: output difference from the float model on ${int8.compared} of those images: ${describeErrors(int8.errors)}`);
    result = { file, onnx, int8 };
  } else {
    result = await exportOnnxFile(model, output, settings);
    for (const r of result.verification!) log(`ONNX: verified against libtorch, ${describeVerify(r)}`);
  }
  const { onnx } = result;
  const { foldedIntoConvs, mulNodes } = onnx.gates;
  if (foldedIntoConvs || mulNodes) log(`ONNX: channel gates folded into ${foldedIntoConvs} convolutions, ${mulNodes} kept as Mul nodes`);
  log(
    `ONNX: export success, opset ${onnx.opset}, input [${onnx.inputShape.join(', ')}] → output [${onnx.outputShape.join(', ')}], ` +
      `saved as ${output} (${megabytes(onnx.bytes.length)})`,
  );
  log(`\nExport complete (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  log(`Detect:   yolov5 detect --weights ${output}${o.dynamic ? '' : ` --img ${height} ${width}`}`);
  return result;
}
