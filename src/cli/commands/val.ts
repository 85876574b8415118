import { Command, Option } from 'commander';
import { basename, extname, join } from 'node:path';
import { loadEnsemble } from '../../checkpoint/index.js';
import { loadDatasetConfig, type DatasetConfig, type SplitName } from '../../data/dataset-config.js';
import { validationWorkers } from '../../data/val-loader.js';
import { load } from '../../infer/predictor.js';
import { validate, type AsyncDetector, type Detector, type ValidateOptions } from '../../val/validator.js';
import { plotStudy, STUDY_SIZES, writeStudy, type ModelStudy } from '../../val/study.js';
import { incrementPath } from '../../io/run-dir.js';
import { batchSizeOption, collect, deviceOption, fraction, imgSizeOption, nonNegativeInteger, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';
import { summaryLine } from '../../model/summary.js';
import { prepareDataset } from '../../data/dataset-download.js';

type Task = SplitName | 'speed' | 'study';

interface ValOptions {
  weights: string[];
  augment: boolean;
  data: string;
  imgsz: number;
  batchSize: number;
  confThres: number;
  iouThres: number;
  maxDet: number;
  task: Task;
  workers: number;
  verbose: boolean;
  saveTxt: boolean;
  saveConf: boolean;
  saveHybrid: boolean;
  saveJson: boolean;
  singleCls: boolean;
  studySizes?: number[];
  project: string;
  name: string;
  existOk: boolean;
}

const stem = (path: string): string => basename(path, extname(path));

const isOnnx = (path: string): boolean => extname(path).toLowerCase() === '.onnx';

async function loadModels(weights: readonly string[], augment: boolean): Promise<Detector | AsyncDetector> {
  if (weights.some(isOnnx)) {
    // load() refuses ensembles and test-time augmentation with an ONNX file, naming the file and why.
    const { backend } = await load(weights, { augment });
    console.log(`Loaded ${weights[0]} for ONNX Runtime inference`);
    return backend;
  }
  // As the official val.py: BatchNorm folded into the convolutions for inference.
  console.log('Fusing layers...');
  const ensemble = await loadEnsemble(weights, { augment });
  for (const model of ensemble.models) console.log(summaryLine(model, 'Model'));
  if (ensemble.models.length > 1) console.log(`Ensemble created with ${weights.join(', ')}`);
  return ensemble;
}

/** The settings every task shares; `task` picks the split (speed and study use val, as val.py). */
function common(options: ValOptions, config: DatasetConfig): ValidateOptions {
  return {
    data: config,
    split: options.task === 'speed' || options.task === 'study' ? 'val' : options.task,
    imgsz: options.imgsz,
    batchSize: options.batchSize,
    confThres: options.confThres,
    iouThres: options.iouThres,
    maxDet: options.maxDet,
    singleCls: options.singleCls,
    verbose: options.verbose || config.nc < 50,
    workers: validationWorkers(options.workers, options.batchSize),
  };
}

/** val, train, test: one validation of the model (or ensemble) with everything val.py saves. */
async function validateSplit(options: ValOptions, config: DatasetConfig): Promise<void> {
  if (options.confThres > 0.001) console.log(`WARNING: confidence threshold ${options.confThres} > 0.001 gives mAP lower than the official protocol`);
  if (options.saveHybrid) console.log('WARNING: --save-hybrid will return high mAP from hybrid labels, not from predictions alone');
  const ensemble = await loadModels(options.weights, options.augment);
  const saveDir = incrementPath(options.project, options.name, options.existOk);
  const result = await validate(ensemble, {
    ...common(options, config),
    plots: true,
    saveTxt: options.saveTxt || options.saveHybrid,
    saveConf: options.saveConf,
    saveHybrid: options.saveHybrid,
    saveJson: options.saveJson,
    saveDir,
    jsonStem: stem(options.weights[0]!),
  });
  const labels = result.labelFiles === undefined ? '' : `\n${result.labelFiles} labels saved to ${join(saveDir, 'labels')}`;
  console.log(`Results saved to ${saveDir}${labels}`);
}

/** speed: each model alone at conf 0.25 and IoU 0.45, for its timings; nothing saved. */
async function measureSpeed(options: ValOptions, config: DatasetConfig): Promise<void> {
  for (const weights of options.weights) {
    const model = await loadModels([weights], options.augment);
    await validate(model, { ...common(options, config), confThres: 0.25, iouThres: 0.45 });
  }
}

/** study: each model at every study size; study_<data>_<weights>.txt per model and study.png in the run folder. */
async function runStudy(options: ValOptions, config: DatasetConfig): Promise<void> {
  const saveDir = incrementPath(options.project, options.name, options.existOk);
  const sizes = options.studySizes ?? STUDY_SIZES;
  const studies: ModelStudy[] = [];
  for (const weights of options.weights) {
    const model = await loadModels([weights], options.augment);
    if ('input' in model && model.input.height !== null && model.input.width !== null) {
      throw new Error(`${weights}: --task study validates at several sizes, but this model takes ${model.input.height}x${model.input.width} inputs only; export it with --dynamic`);
    }
    const file = `study_${stem(config.file)}_${stem(weights)}.txt`;
    const study: ModelStudy = { name: stem(weights), points: [] };
    for (const imgsz of sizes) {
      console.log(`\nRunning ${file} --imgsz ${imgsz}...`);
      study.points.push({ imgsz, result: await validate(model, { ...common(options, config), imgsz }) });
    }
    console.log(`Study saved to ${writeStudy(saveDir, file, study.points)}`);
    studies.push(study);
  }
  await plotStudy(studies, join(saveDir, 'study.png'));
  console.log(`Results saved to ${saveDir}`);
}

export function valCommand(): Command {
  return new Command('val')
    .description('validate a trained detector on a dataset split: P, R, mAP50, mAP50-95 (as YOLOv5 val.py)')
    .requiredOption('--weights <path...>', 'model weights (official YOLOv5 .pt or yolov5-ts .safetensors; .onnx on ONNX Runtime, alone); an official name (yolov5s.pt, ...) not found here is downloaded; several: an ensemble, boxes pooled before NMS')
    .requiredOption('--data <yaml>', 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)')
    .addOption(imgSizeOption('inference size (pixels)'))
    .addOption(batchSizeOption('batch size', 16))
    .option('--conf-thres <x>', 'confidence threshold', fraction, 0.001)
    .option('--iou-thres <x>', 'NMS IoU threshold', fraction, 0.6)
    .option('--max-det <n>', 'maximum detections per image', positiveInteger, 300)
    .addOption(
      new Option('--task <task>', 'a split to validate on; speed: each model at conf 0.25, IoU 0.45 for its timings; study: each model at image sizes 256..1536')
        .choices(['val', 'train', 'test', 'speed', 'study'])
        .default('val'),
    )
    .option('--workers <n>', 'data loader threads decoding and resizing images (at most the cores and the batch size; 0: none)', nonNegativeInteger, 8)
    .option('--augment', 'test-time augmentation: also at 0.83× mirrored and 0.67×, one NMS over all', false)
    .option('--verbose', 'report mAP by class (always shown for datasets under 50 classes)', false)
    .option('--save-txt', 'save detections as YOLO labels, labels/<image>.txt (class cx cy w h, normalised)', false)
    .option('--save-conf', 'with --save-txt: append each confidence', false)
    .option('--save-hybrid', 'save labels and detections together (autolabelling): labels enter NMS as certain detections, which inflates mAP', false)
    .option('--save-json', 'save detections as a COCO results JSON', false)
    .option('--single-cls', 'treat as a single-class dataset', false)
    .option('--study-sizes <pixels...>', 'image sizes of --task study (default 256 to 1536 in steps of 128)', collect(positiveInteger))
    .option('--project <dir>', 'save to project/name', 'runs/val')
    .option('--name <name>', 'save to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name instead of incrementing', false)
    .addOption(deviceOption())
    .action(async (options: ValOptions, command: Command) => {
      console.log(settingsLine(command));
      const config = loadDatasetConfig(await prepareDataset(options.data));
      if (options.task === 'speed') await measureSpeed(options, config);
      else if (options.task === 'study') await runStudy(options, config);
      else await validateSplit(options, config);
    });
}
