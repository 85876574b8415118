// Validation of a detector on a dataset split (YOLOv5 `val.py run`): rectangular letterboxed batches (or the one
// input shape of a fixed-size exported model), NMS, matching in original-image pixels, mAP; optionally the pictures,
// label files and training loss val.py also produces. Used by `yolov5 val` and, with a prepared split and `quiet`,
// after each epoch.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { imagesToInput, type NetworkInput } from '../data/batch-tensor.js';
import { loadDatasetConfig, splitImageFiles, type DatasetConfig, type SplitName } from '../data/dataset-config.js';
import { describeScan, scanDataset, type DatasetScan } from '../data/dataset-scan.js';
import { labelLine } from '../data/labels.js';
import { strideMultiple, type Size } from '../data/letterbox.js';
import { ValLoader } from '../data/val-loader.js';
import { noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { labelsToInputPixels, scaleBoxesToOriginal, targetRows, type LabelBoxes } from './boxes.js';
import { COCO80_TO_COCO91, cocoImageId, isCocoClassList, toCocoDetections, type CocoDetection } from './coco.js';
import { ConfusionMatrix } from './confusion-matrix.js';
import { DetectionStats, matchDetections, summarize, type ClassMetricsTable, type SummaryMetrics } from './metrics.js';
import { DETECTION_COLUMNS, nonMaxSuppression } from './nms.js';
import { plotConfusionMatrix, plotMetricCurves, plotValBatch } from './plots.js';
import { formatSpeed, formatTableRow, TABLE_HEADER, type Speed } from './report.js';
import { progress } from '../util/progress.js';

/** What validation needs from a model: YOLOv5 inference output [B, N, 5 + nc] (boxes in input pixels). */
export interface Detector {
  infer(x: Tensor): Tensor;
  names: string[];
  stride: number[];
  eval(): unknown;
}

/**
 * A model on a runtime of its own whose inference is awaited, such as an exported model on ONNX Runtime (the
 * `backend` of a detector from `load`): the same output, flattened.
 */
export interface AsyncDetector {
  readonly names: string[];
  /** The model's largest stride. */
  readonly stride: number;
  /** Input sizes the model takes, null where free. A fixed height and width: every batch at that shape. */
  readonly input: { batch: number | null; height: number | null; width: number | null };
  /** Decoded predictions [batch, boxes, 5 + nc], flattened. */
  run(input: NetworkInput): Promise<{ predictions: Float32Array }>;
}

const isAsync = (detector: Detector | AsyncDetector): detector is AsyncDetector => typeof (detector as Detector).infer !== 'function';

/** A detector whose raw per-level outputs are at hand (a DetectionModel), as the validation loss needs. */
export interface RawOutputDetector extends Detector {
  forward(x: Tensor): Tensor[];
  detect: { decode(raw: Tensor[]): Tensor };
}

function requireRawOutputs(detector: Detector | AsyncDetector): RawOutputDetector {
  const candidate = detector as Partial<RawOutputDetector>;
  if (typeof candidate.forward !== 'function' || typeof candidate.detect?.decode !== 'function') {
    throw new Error('validate: computeLoss needs a detector with raw outputs (a DetectionModel)');
  }
  return detector as RawOutputDetector;
}

/** A split scanned and batched once, reusable across epochs. */
export interface PreparedSplit {
  config: DatasetConfig;
  split: SplitName;
  scan: DatasetScan;
  loader: ValLoader;
  imgsz: number;
  singleCls: boolean;
}

export interface PrepareOptions {
  imgsz: number;
  batchSize: number;
  /** The model's largest stride. */
  stride: number;
  /** One input shape for every batch instead of rectangular ones (a model of fixed input size; see ValLoader). */
  shape?: Size;
  singleCls?: boolean;
  /** Decoding threads (see ValLoader); close `loader` when done with any. */
  workers?: number;
}

/** Scans a split's images and labels and plans its batches. */
export async function prepareSplit(config: DatasetConfig, split: SplitName, options: PrepareOptions): Promise<PreparedSplit> {
  const files = splitImageFiles(config, split);
  const scan = await scanDataset(files, { nc: config.nc });
  if (options.singleCls) for (const image of scan.images) for (let i = 0; i < image.labels.length; i += 5) image.labels[i] = 0;
  const { imgsz, batchSize, stride, shape, workers } = options;
  const loader = new ValLoader(scan.images, { imgsz, batchSize, stride, pad: 0.5, shape, workers });
  return { config, split, scan, loader, imgsz: options.imgsz, singleCls: options.singleCls ?? false };
}

export interface ValidateOptions {
  /** Dataset yaml path or parsed config; ignored when `prepared` is given. */
  data?: string | DatasetConfig;
  split?: SplitName;
  /** Default 640; a model of fixed input size is validated at its size (with a warning when this differs). */
  imgsz?: number;
  /** Default 32; a model of fixed batch size is validated at its batch size (with a warning when this differs). */
  batchSize?: number;
  confThres?: number;
  iouThres?: number;
  maxDet?: number;
  /** Treat every class as one: class-agnostic NMS, all labels and detections class 0. */
  singleCls?: boolean;
  /** Print a row per class. */
  verbose?: boolean;
  /** Print nothing (for validation during training). */
  quiet?: boolean;
  /** Show progress: a bar on a terminal, else a line every 10 s (util/progress). Default: when not quiet. */
  progress?: boolean;
  /** Write COCO-style detections to `<saveDir>/<jsonStem>_predictions.json`. */
  saveJson?: boolean;
  saveDir?: string;
  jsonStem?: string;
  /**
   * Save val.py's pictures in saveDir: confusion_matrix.png, PR_curve.png, F1/P/R_curve.png and
   * val_batch{0,1,2}_labels/pred.jpg.
   */
  plots?: boolean;
  /** Write each image's detections to `<saveDir>/labels/<stem>.txt` (`class cx cy w h`, normalised). */
  saveTxt?: boolean;
  /** Append the confidence to each label line. */
  saveConf?: boolean;
  /**
   * Labels join the model's candidates before NMS as certain detections, so label files hold labels and
   * predictions (YOLOv5's autolabelling). The metrics then score the labels against themselves: mAP is inflated.
   */
  saveHybrid?: boolean;
  /**
   * The training loss on the validation batches (train.py passes its compute_loss); needs a detector with raw
   * outputs. Returns the batch's [box, obj, cls] parts.
   */
  computeLoss?: (raw: Tensor[], targets: Tensor) => [number, number, number];
  /** Decoding threads for the split this call prepares (see ValLoader); not used with `prepared`. */
  workers?: number;
  /** A split prepared earlier with prepareSplit (skips scanning; its imgsz, batch size and singleCls apply). */
  prepared?: PreparedSplit;
  /** Where printed lines go; default console.log. */
  log?: (line: string) => void;
}

export interface ClassResult {
  classIndex: number;
  name: string;
  instances: number;
  precision: number;
  recall: number;
  ap50: number;
  /** AP averaged over IoU 0.5:0.95. */
  ap: number;
}

export interface ValidationResult extends SummaryMetrics {
  /** Images evaluated and labels among them. */
  seen: number;
  instances: number;
  /** Classes that have labels. */
  perClass: ClassResult[];
  /** mAP50-95 per class index (the overall mAP for classes without labels), as YOLOv5 returns. */
  maps: number[];
  /** Milliseconds per image. */
  speed: Speed;
  /** Curves and per-class numbers, for plots. */
  table: ClassMetricsTable;
  jsonFile?: string;
  /** Mean over batches of the training loss parts [box, obj, cls] (with computeLoss). */
  loss?: [number, number, number];
  /** Predictions against labels at confidence 0.25 and IoU 0.45 (with plots). */
  confusionMatrix?: ConfusionMatrix;
  /** Label files written (with saveTxt). */
  labelFiles?: number;
}

const now = (): number => performance.now();

function resolveConfig(data: ValidateOptions['data']): DatasetConfig {
  if (data === undefined) throw new Error('validate: no dataset (data) given');
  return typeof data === 'string' ? loadDatasetConfig(data) : data;
}

function classMapper(names: readonly string[]): (cls: number) => number {
  return isCocoClassList(names) ? (cls) => COCO80_TO_COCO91[cls]! : (cls) => cls;
}

/** Labels (input pixels) as NMS candidate rows [class, cx, cy, w, h], for --save-hybrid. */
function hybridRows({ classes, boxes }: LabelBoxes): Float32Array {
  const rows = new Float32Array(classes.length * 5);
  classes.forEach((cls, k) => {
    const [x1, y1, x2, y2] = [boxes[4 * k]!, boxes[4 * k + 1]!, boxes[4 * k + 2]!, boxes[4 * k + 3]!];
    rows.set([cls, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], k * 5);
  });
  return rows;
}

/** YOLO label lines of detection rows in pixels of an image of `size`. */
function detectionLines(detections: Float32Array, size: Size, saveConf: boolean): string {
  let text = '';
  for (let o = 0; o < detections.length; o += DETECTION_COLUMNS) {
    const box = { x1: detections[o]!, y1: detections[o + 1]!, x2: detections[o + 2]!, y2: detections[o + 3]! };
    text += labelLine(detections[o + 5]!, box, size, saveConf ? detections[o + 4] : undefined);
  }
  return text;
}

/** Number of first batches drawn with their labels and predictions, as val.py. */
const PICTURED_BATCHES = 3;

const logger = (options: ValidateOptions) => (options.quiet ? () => undefined : (options.log ?? ((line: string) => console.log(line))));

/**
 * The loader's settings for this detector. What a model takes wins over what was asked, with a warning, as val.py
 * forces batch 1 square inference on exported models: a fixed height and width make every batch that shape (each
 * image's long side fitted to the larger side), a fixed batch size the batches that size. Otherwise rectangular
 * batches at imgsz rounded up to the stride.
 */
function loaderSettings(detector: Detector | AsyncDetector, options: ValidateOptions, log: (line: string) => void): Omit<PrepareOptions, 'singleCls' | 'workers'> {
  const stride = isAsync(detector) ? detector.stride : Math.max(...detector.stride);
  const takes = isAsync(detector) ? detector.input : { batch: null, height: null, width: null };
  const requested = options.imgsz ?? 640;
  const batchSize = takes.batch ?? options.batchSize ?? 32;
  const changedBatch = options.batchSize !== undefined && batchSize !== options.batchSize;
  if (takes.height !== null && takes.width !== null) {
    const shape = { width: takes.width, height: takes.height };
    const imgsz = Math.max(shape.width, shape.height);
    if (changedBatch || (options.imgsz !== undefined && (requested !== imgsz || shape.width !== shape.height))) {
      const square = shape.width === shape.height ? ' square' : '';
      log(`WARNING: forcing --batch-size ${batchSize}${square} inference (${batchSize},3,${shape.height},${shape.width}), the input this model was exported for`);
    }
    return { imgsz, batchSize, stride, shape };
  }
  if (changedBatch) log(`WARNING: forcing --batch-size ${batchSize}, the batch size this model was exported for`);
  const imgsz = strideMultiple(requested, stride);
  if (imgsz !== requested) log(`WARNING: --img-size ${requested} must be a multiple of max stride ${stride}, updating to ${imgsz}`);
  return { imgsz, batchSize, stride };
}

/**
 * Runs the detector over a split and computes P, R, mAP50 and mAP50-95: a libtorch model (DetectionModel or
 * ensemble), or an AsyncDetector such as an ONNX Runtime session.
 */
export async function validate(detector: Detector | AsyncDetector, options: ValidateOptions = {}): Promise<ValidationResult> {
  if (options.prepared) return validatePrepared(detector, options.prepared, options);
  const log = logger(options);
  const config = resolveConfig(options.data);
  const settings = loaderSettings(detector, options, log);
  const prepared = await prepareSplit(config, options.split ?? 'val', { ...settings, singleCls: options.singleCls, workers: options.workers });
  log(`${prepared.split}: Scanning ${config.file}... ${describeScan(prepared.scan)}`);
  for (const message of prepared.scan.messages) log(`WARNING: ${message}`);
  try {
    return await validatePrepared(detector, prepared, options);
  } finally {
    await prepared.loader.close();
  }
}

/** The output [B, N, 5 + nc] of a detector whose inference is awaited, as a tensor for NMS. */
async function awaitOutput(detector: AsyncDetector, input: NetworkInput): Promise<Tensor> {
  const { predictions: values } = await detector.run(input);
  const batch = input.shape[0];
  const columns = detector.names.length + 5;
  return tensor(values, [batch, values.length / (batch * columns), columns]);
}

async function validatePrepared(detector: Detector | AsyncDetector, prepared: PreparedSplit, options: ValidateOptions): Promise<ValidationResult> {
  const log = logger(options);
  const confThres = options.confThres ?? 0.001;
  const iouThres = options.iouThres ?? 0.6;
  const maxDet = options.maxDet ?? 300;
  const { config, loader, singleCls } = prepared;
  const nc = singleCls ? 1 : config.nc;
  if (!singleCls && detector.names.length !== nc) {
    throw new Error(`the model has ${detector.names.length} classes but ${config.file} has ${nc}; pass a dataset the weights were trained on`);
  }
  const names = detector.names;
  const categoryId = classMapper(names);
  const saveDir = options.saveDir;
  const plots = options.plots ?? false;
  const saveTxt = options.saveTxt ?? false;
  for (const [wanted, what] of [[plots, 'plots'], [saveTxt, 'saveTxt'], [options.saveJson, 'saveJson']] as const) {
    if (wanted && !saveDir) throw new Error(`validate: ${what} needs a saveDir`);
  }
  const computeLoss = options.computeLoss;
  const lossDetector = computeLoss ? requireRawOutputs(detector) : undefined;
  const labelsDir = saveDir && saveTxt ? join(saveDir, 'labels') : undefined;
  if (labelsDir) mkdirSync(labelsDir, { recursive: true });

  const awaited = isAsync(detector) ? detector : undefined;
  const model = isAsync(detector) ? undefined : detector;
  model?.eval();
  const stats = new DetectionStats();
  const confusion = plots ? new ConfusionMatrix(nc) : undefined;
  const jdict: CocoDetection[] = [];
  const time = { preprocess: 0, inference: 0, nms: 0 };
  const lossSums: [number, number, number] = [0, 0, 0];
  let seen = 0;
  let labelFiles = 0;

  // Progress asked for explicitly shows even when quiet (a long validation inside the prune pipeline).
  const bar = progress({ title: prepared.split, total: loader.length, unit: 'batches', show: options.progress ?? !options.quiet, log: options.log });

  let started = now();
  for await (const batch of loader) {
    const input = imagesToInput(batch.items.map((item) => item.input));
    const pictured = plots && batch.index < PICTURED_BATCHES;
    // libtorch runs on the images as a tensor; another runtime takes the array and needs the tensor only for pictures.
    const images = awaited && !pictured ? undefined : tensor(input.data, input.shape);
    const inferred = now();
    time.preprocess += inferred - started;

    const { output, raw } = awaited
      ? { output: await awaitOutput(awaited, input), raw: [] }
      : tidy(() =>
          noGrad(() => {
            if (!lossDetector) return { output: model!.infer(images!), raw: [] };
            const levels = lossDetector.forward(images!);
            return { output: lossDetector.detect.decode(levels), raw: levels };
          }),
        );
    time.inference += now() - inferred;

    const inputLabels = batch.items.map((item) => labelsToInputPixels(item.source.labels, item.resizedSize, item.pad, batch.shape));
    const targets = targetRows(inputLabels, batch.shape);
    const nmsStart = now();
    const hybrid = options.saveHybrid ? inputLabels.map(hybridRows) : undefined;
    const detections = nonMaxSuppression(output, { confThres, iouThres, multiLabel: true, agnostic: singleCls, maxDet, labels: hybrid });
    output.dispose();
    time.nms += now() - nmsStart;

    if (computeLoss) {
      const parts = tidy(() => noGrad(() => computeLoss(raw, tensor(targets, [targets.length / 6, 6]))));
      parts.forEach((v, k) => (lossSums[k] += v));
      raw.forEach((t) => t.dispose());
    }

    batch.items.forEach((item, i) => {
      seen++;
      const det = detections[i]!;
      if (singleCls) for (let d = 5; d < det.length; d += DETECTION_COLUMNS) det[d] = 0;
      const placement = { gain: item.gain, pad: item.pad };
      const native = scaleBoxesToOriginal(det.slice(), placement, item.originalSize, DETECTION_COLUMNS);
      const { classes } = inputLabels[i]!;
      const boxes = scaleBoxesToOriginal(inputLabels[i]!.boxes.slice(), placement, item.originalSize);
      stats.add(matchDetections(native, classes, boxes), det, classes);
      confusion?.processImage(native, classes, boxes);
      const stem = basename(item.source.imageFile, extname(item.source.imageFile));
      if (options.saveJson) jdict.push(...toCocoDetections(cocoImageId(stem), native, categoryId));
      if (labelsDir && native.length > 0) {
        writeFileSync(join(labelsDir, `${stem}.txt`), detectionLines(native, item.originalSize, options.saveConf ?? false));
        labelFiles++;
      }
    });
    if (pictured) {
      const paths = batch.items.map((item) => item.source.imageFile);
      await plotValBatch({ images: images!, targets, detections, shape: batch.shape, paths }, batch.index, names, saveDir!);
    }
    images?.dispose();
    bar.increment();
    started = now();
  }
  bar.stop();

  const table = stats.compute();
  const summary = summarize(table);
  const perClassCounts = stats.instancesPerClass(nc);
  const instances = perClassCounts.reduce((a, b) => a + b, 0);
  const perClass: ClassResult[] = table.classes.map((c, i) => ({
    classIndex: c,
    name: names[c] ?? String(c),
    instances: table.instances[i]!,
    precision: table.precision[i]!,
    recall: table.recall[i]!,
    ap50: table.ap[i]![0]!,
    ap: table.ap[i]!.reduce((a, b) => a + b, 0) / table.ap[i]!.length,
  }));
  const maps = new Array<number>(nc).fill(summary.map);
  for (const row of perClass) maps[row.classIndex] = row.ap;
  const speed = { preprocess: time.preprocess / seen, inference: time.inference / seen, nms: time.nms / seen };

  log(TABLE_HEADER);
  log(formatTableRow('all', seen, instances, summary.mp, summary.mr, summary.map50, summary.map));
  if (instances === 0) log(`WARNING: no labels found in ${prepared.split} set, can not compute metrics without labels`);
  if (options.verbose && nc > 1) for (const row of perClass) log(formatTableRow(row.name, seen, row.instances, row.precision, row.recall, row.ap50, row.ap));
  const shape = loader.options.shape ?? { width: prepared.imgsz, height: prepared.imgsz };
  log(formatSpeed(speed, [loader.options.batchSize, 3, shape.height, shape.width]));

  if (confusion) {
    await plotConfusionMatrix(confusion, names, join(saveDir!, 'confusion_matrix.png'));
    await plotMetricCurves(table, names, saveDir!);
  }

  let jsonFile: string | undefined;
  if (options.saveJson) {
    mkdirSync(saveDir!, { recursive: true });
    jsonFile = join(saveDir!, `${options.jsonStem ?? ''}_predictions.json`);
    writeFileSync(jsonFile, JSON.stringify(jdict));
    log(`COCO-style detections saved to ${jsonFile}`);
  }

  const loss = computeLoss ? (lossSums.map((v) => v / loader.length) as [number, number, number]) : undefined;
  return { ...summary, seen, instances, perClass, maps, speed, table, jsonFile, loss, confusionMatrix: confusion, labelFiles: labelsDir ? labelFiles : undefined };
}
