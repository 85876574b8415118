// val(): `yolov5 val` as a library call, with the same options, defaults, messages and run folders.
import { basename, extname, join } from 'node:path';
import { loadEnsemble } from '../checkpoint/index.js';
import { loadDatasetConfig, type DatasetConfig } from '../data/dataset-config.js';
import { prepareDataset } from '../data/dataset-download.js';
import { validationWorkers } from '../data/val-loader.js';
import { load } from '../infer/predictor.js';
import { incrementPath } from '../io/run-dir.js';
import { summaryLine } from '../model/summary.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { valOptions, type ResolvedValOptions, type ValOptions } from '../options/val.js';
import { DETECT_THRESHOLDS } from '../val/nms.js';
import { plotStudy, STUDY_SIZES, writeStudy, type ModelStudy } from '../val/study.js';
import { validate, type AsyncDetector, type Detector, type ValidateOptions, type ValidationResult } from '../val/validator.js';
import { defaultLog } from './run-control.js';

export type { ValOptions };

/** What val() returns, by task: one validation, each model's timings, or each model's study. */
export type ValRun =
  | { task: 'val' | 'train' | 'test'; saveDir: string; result: ValidationResult }
  | { task: 'speed'; results: { weights: string; result: ValidationResult }[] }
  | { task: 'study'; saveDir: string; studies: ModelStudy[] };

type Log = (line: string) => void;

const stem = (path: string): string => basename(path, extname(path));

const isOnnx = (path: string): boolean => extname(path).toLowerCase() === '.onnx';

/** The model (or ensemble) to validate, and how to release it. */
async function loadModels(weights: readonly string[], augment: boolean, log: Log): Promise<{ model: Detector | AsyncDetector; release(): Promise<void> }> {
  if (weights.some(isOnnx)) {
    // load() refuses ensembles and test-time augmentation with an ONNX file, naming the file and why.
    const detector = await load(weights, { augment });
    log(`Loaded ${weights[0]} for ONNX Runtime inference`);
    return { model: detector.backend, release: () => detector.dispose() };
  }
  // As the official val.py: BatchNorm folded into the convolutions for inference.
  log('Fusing layers...');
  const ensemble = await loadEnsemble(weights, { augment });
  for (const model of ensemble.models) log(summaryLine(model, 'Model'));
  if (ensemble.models.length > 1) log(`Ensemble created with ${weights.join(', ')}`);
  return { model: ensemble, release: async () => undefined };
}

async function withModels<T>(weights: readonly string[], o: ResolvedValOptions, log: Log, use: (model: Detector | AsyncDetector) => Promise<T>): Promise<T> {
  const { model, release } = await loadModels(weights, o.augment, log);
  try {
    return await use(model);
  } finally {
    await release();
  }
}

/** The settings every task shares; `task` picks the split (speed and study use val, as val.py). */
function common(o: ResolvedValOptions, config: DatasetConfig, log: Log): ValidateOptions {
  return {
    data: config,
    split: o.task === 'speed' || o.task === 'study' ? 'val' : o.task,
    imgsz: o.imgsz,
    batchSize: o.batchSize,
    confThres: o.confThres,
    iouThres: o.iouThres,
    maxDet: o.maxDet,
    singleCls: o.singleCls,
    verbose: o.verbose || config.nc < 50,
    workers: validationWorkers(o.workers, o.batchSize),
    log,
  };
}

/** val, train, test: one validation of the model (or ensemble) with everything val.py saves. */
async function validateSplit(o: ResolvedValOptions, config: DatasetConfig, log: Log): Promise<{ saveDir: string; result: ValidationResult }> {
  if (o.confThres > 0.001) log(`WARNING: confidence threshold ${o.confThres} > 0.001 gives mAP lower than the official protocol`);
  if (o.saveHybrid) log('WARNING: --save-hybrid will return high mAP from hybrid labels, not from predictions alone');
  return withModels(o.weights, o, log, async (model) => {
    const saveDir = incrementPath(o.project, o.name, o.existOk);
    const result = await validate(model, {
      ...common(o, config, log),
      plots: true,
      saveTxt: o.saveTxt || o.saveHybrid,
      saveConf: o.saveConf,
      saveHybrid: o.saveHybrid,
      saveJson: o.saveJson,
      saveDir,
      jsonStem: stem(o.weights[0]!),
    });
    const labels = result.labelFiles === undefined ? '' : `\n${result.labelFiles} labels saved to ${join(saveDir, 'labels')}`;
    log(`Results saved to ${saveDir}${labels}`);
    return { saveDir, result };
  });
}

/** speed: each model alone at conf 0.25 and IoU 0.45, for its timings; nothing saved. */
async function measureSpeed(o: ResolvedValOptions, config: DatasetConfig, log: Log): Promise<{ weights: string; result: ValidationResult }[]> {
  const results = [];
  for (const weights of o.weights) {
    const result = await withModels([weights], o, log, (model) => validate(model, { ...common(o, config, log), confThres: DETECT_THRESHOLDS.conf, iouThres: DETECT_THRESHOLDS.iou }));
    results.push({ weights, result });
  }
  return results;
}

/** study: each model at every study size; study_<data>_<weights>.txt per model and study.png in the run folder. */
async function runStudy(o: ResolvedValOptions, config: DatasetConfig, log: Log): Promise<{ saveDir: string; studies: ModelStudy[] }> {
  const saveDir = incrementPath(o.project, o.name, o.existOk);
  const sizes = o.studySizes ?? STUDY_SIZES;
  const studies: ModelStudy[] = [];
  for (const weights of o.weights) {
    const study = await withModels([weights], o, log, async (model) => {
      if ('input' in model && model.input.height !== null && model.input.width !== null) {
        throw new Error(`${weights}: --task study validates at several sizes, but this model takes ${model.input.height}x${model.input.width} inputs only; export it with --dynamic`);
      }
      const file = `study_${stem(config.file)}_${stem(weights)}.txt`;
      const study: ModelStudy = { name: stem(weights), points: [] };
      for (const imgsz of sizes) {
        log(`\nRunning ${file} --imgsz ${imgsz}...`);
        study.points.push({ imgsz, result: await validate(model, { ...common(o, config, log), imgsz }) });
      }
      log(`Study saved to ${writeStudy(saveDir, file, study.points)}`);
      return study;
    });
    studies.push(study);
  }
  await plotStudy(studies, join(saveDir, 'study.png'));
  log(`Results saved to ${saveDir}`);
  return { saveDir, studies };
}

/**
 * Validates a model (or an ensemble of checkpoints) on a dataset split, as `yolov5 val` (YOLOv5's val.py): the
 * options are the command's flags in camelCase with the same defaults (`confThres` for `--conf-thres`, ...); each
 * is listed with its help in docs/options.md#val. Writes `runs/val/exp` (or `project/name`): confusion matrix,
 * curves, validation batches, and labels or COCO JSON when asked. Returns, by task: the validation (P, R, mAP50,
 * mAP50-95, per class, speed) and its folder; with `task: 'speed'` each model's timings; with `'study'` each
 * model's results at every study size.
 *
 * @example
 * const run = await val({ weights: ['yolov5n.pt'], data: 'coco128.yaml', imgsz: 320 });
 * if (run.task === 'val') console.log(run.result.map50, run.result.map);
 */
export async function val(options: ValOptions & { log?: Log }): Promise<ValRun> {
  const { log = defaultLog, ...given } = options;
  const o = resolveOptions(valOptions, given);
  log(settingsLine(valOptions, o));
  const config = loadDatasetConfig(await prepareDataset(o.data));
  if (o.task === 'speed') return { task: o.task, results: await measureSpeed(o, config, log) };
  if (o.task === 'study') return { task: o.task, ...(await runStudy(o, config, log)) };
  return { task: o.task, ...(await validateSplit(o, config, log)) };
}
