// Validation of a detector on a dataset split (YOLOv5 `val.py run`): rectangular letterboxed batches, NMS, matching
// in original-image pixels, mAP. Used by `yolov5 val` and, with a prepared split and `quiet`, after each epoch.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { imagesToTensor } from '../data/batch-tensor.js';
import { loadDatasetConfig, splitImageFiles, type DatasetConfig, type SplitName } from '../data/dataset-config.js';
import { describeScan, scanDataset, type DatasetScan } from '../data/dataset-scan.js';
import { strideMultiple } from '../data/letterbox.js';
import { ValLoader, type ValBatch } from '../data/val-loader.js';
import { noGrad, tidy, type Tensor } from '../torch/index.js';
import { labelsToInputPixels, scaleBoxesToOriginal } from './boxes.js';
import { COCO80_TO_COCO91, cocoImageId, isCocoClassList, toCocoDetections, type CocoDetection } from './coco.js';
import { DetectionStats, matchDetections, summarize, type ClassMetricsTable, type SummaryMetrics } from './metrics.js';
import { DETECTION_COLUMNS, nonMaxSuppression } from './nms.js';
import { formatSpeed, formatTableRow, TABLE_HEADER, type Speed } from './report.js';
import { progress } from '../util/progress.js';

/** What validation needs from a model: YOLOv5 inference output [B, N, 5 + nc] (boxes in input pixels). */
export interface Detector {
  infer(x: Tensor): Tensor;
  names: string[];
  stride: number[];
  eval(): unknown;
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
  singleCls?: boolean;
}

/** Scans a split's images and labels and plans its batches. */
export async function prepareSplit(config: DatasetConfig, split: SplitName, options: PrepareOptions): Promise<PreparedSplit> {
  const files = splitImageFiles(config, split);
  const scan = await scanDataset(files, { nc: config.nc });
  if (options.singleCls) for (const image of scan.images) for (let i = 0; i < image.labels.length; i += 5) image.labels[i] = 0;
  const loader = new ValLoader(scan.images, { imgsz: options.imgsz, batchSize: options.batchSize, stride: options.stride, pad: 0.5 });
  return { config, split, scan, loader, imgsz: options.imgsz, singleCls: options.singleCls ?? false };
}

export interface ValidateOptions {
  /** Dataset yaml path or parsed config; ignored when `prepared` is given. */
  data?: string | DatasetConfig;
  split?: SplitName;
  imgsz?: number;
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
  /** The first batch and its detections (input pixels), for pictures of labels vs predictions. */
  firstBatch?: { batch: ValBatch; detections: Float32Array[] };
}

const now = (): number => performance.now();

function resolveConfig(data: ValidateOptions['data']): DatasetConfig {
  if (data === undefined) throw new Error('validate: no dataset (data) given');
  return typeof data === 'string' ? loadDatasetConfig(data) : data;
}

function classMapper(names: readonly string[]): (cls: number) => number {
  return isCocoClassList(names) ? (cls) => COCO80_TO_COCO91[cls]! : (cls) => cls;
}

/** Runs the detector over a split and computes P, R, mAP50 and mAP50-95. */
export async function validate(detector: Detector, options: ValidateOptions = {}): Promise<ValidationResult> {
  const log = options.quiet ? () => undefined : (options.log ?? ((line: string) => console.log(line)));
  const confThres = options.confThres ?? 0.001;
  const iouThres = options.iouThres ?? 0.6;
  const maxDet = options.maxDet ?? 300;
  const stride = Math.max(...detector.stride);

  let prepared = options.prepared;
  if (!prepared) {
    const config = resolveConfig(options.data);
    const requested = options.imgsz ?? 640;
    const imgsz = strideMultiple(requested, stride);
    if (imgsz !== requested) log(`WARNING: --img-size ${requested} must be a multiple of max stride ${stride}, updating to ${imgsz}`);
    prepared = await prepareSplit(config, options.split ?? 'val', { imgsz, batchSize: options.batchSize ?? 32, stride, singleCls: options.singleCls });
    log(`${prepared.split}: Scanning ${config.file}... ${describeScan(prepared.scan)}`);
    for (const message of prepared.scan.messages) log(`WARNING: ${message}`);
  }
  const { config, loader, singleCls } = prepared;
  const nc = singleCls ? 1 : config.nc;
  if (!singleCls && detector.names.length !== nc) {
    throw new Error(`the model has ${detector.names.length} classes but ${config.file} has ${nc}; pass a dataset the weights were trained on`);
  }
  const names = detector.names;
  const categoryId = classMapper(names);

  detector.eval();
  const stats = new DetectionStats();
  const jdict: CocoDetection[] = [];
  const time = { preprocess: 0, inference: 0, nms: 0 };
  let seen = 0;
  let firstBatch: ValidationResult['firstBatch'];

  // Progress asked for explicitly shows even when quiet (a long validation inside the prune pipeline).
  const bar = progress({ title: prepared.split, total: loader.length, unit: 'batches', show: options.progress ?? !options.quiet, log: options.log });

  let started = now();
  for await (const batch of loader) {
    const input = imagesToTensor(batch.items.map((item) => item.input));
    const inferred = now();
    time.preprocess += inferred - started;

    const output = tidy(() => noGrad(() => detector.infer(input)));
    const nmsStart = now();
    time.inference += nmsStart - inferred;

    const detections = nonMaxSuppression(output, { confThres, iouThres, multiLabel: true, agnostic: singleCls, maxDet });
    input.dispose();
    output.dispose();
    time.nms += now() - nmsStart;

    batch.items.forEach((item, i) => {
      seen++;
      const det = detections[i]!;
      if (singleCls) for (let d = 5; d < det.length; d += DETECTION_COLUMNS) det[d] = 0;
      const placement = { gain: item.gain, pad: item.pad };
      const native = scaleBoxesToOriginal(det.slice(), placement, item.originalSize, DETECTION_COLUMNS);
      const labels = labelsToInputPixels(item.source.labels, item.resizedSize, item.pad, batch.shape);
      scaleBoxesToOriginal(labels.boxes, placement, item.originalSize);
      stats.add(matchDetections(native, labels.classes, labels.boxes), det, labels.classes);
      if (options.saveJson) {
        const stem = basename(item.source.imageFile, extname(item.source.imageFile));
        jdict.push(...toCocoDetections(cocoImageId(stem), native, categoryId));
      }
    });
    firstBatch ??= { batch, detections };
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
  log(formatSpeed(speed, [loader.options.batchSize, 3, prepared.imgsz, prepared.imgsz]));

  let jsonFile: string | undefined;
  if (options.saveJson) {
    if (!options.saveDir) throw new Error('validate: saveJson needs a saveDir');
    mkdirSync(options.saveDir, { recursive: true });
    jsonFile = join(options.saveDir, `${options.jsonStem ?? ''}_predictions.json`);
    writeFileSync(jsonFile, JSON.stringify(jdict));
    log(`COCO-style detections saved to ${jsonFile}`);
  }

  return { ...summary, seen, instances, perClass, maps, speed, table, jsonFile, firstBatch };
}
