import { Command, Option } from 'commander';
import { basename, extname } from 'node:path';
import { loadEnsemble } from '../../checkpoint/index.js';
import { loadDatasetConfig, type SplitName } from '../../data/dataset-config.js';
import { validate } from '../../val/validator.js';
import { incrementPath } from '../run-dir.js';
import { batchSizeOption, deviceOption, fraction, imgSizeOption, positiveInteger } from '../arguments.js';
import { settingsLine } from '../settings-line.js';
import { summaryLine } from '../../model/summary.js';
import { prepareDataset } from '../../data/dataset-download.js';

interface ValOptions {
  weights: string[];
  augment: boolean;
  data: string;
  imgsz: number;
  batchSize: number;
  confThres: number;
  iouThres: number;
  maxDet: number;
  task: SplitName;
  verbose: boolean;
  saveJson: boolean;
  singleCls: boolean;
  project: string;
  name: string;
  existOk: boolean;
}

export function valCommand(): Command {
  return new Command('val')
    .description('validate a trained detector on a dataset split: P, R, mAP50, mAP50-95 (as YOLOv5 val.py)')
    .requiredOption('--weights <path...>', 'model weights (official YOLOv5 .pt or yolov5-ts .safetensors); an official name (yolov5s.pt, ...) not found here is downloaded; several: an ensemble, boxes pooled before NMS')
    .requiredOption('--data <yaml>', 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)')
    .addOption(imgSizeOption('inference size (pixels)'))
    .addOption(batchSizeOption('batch size', 16))
    .option('--conf-thres <x>', 'confidence threshold', fraction, 0.001)
    .option('--iou-thres <x>', 'NMS IoU threshold', fraction, 0.6)
    .option('--max-det <n>', 'maximum detections per image', positiveInteger, 300)
    .addOption(new Option('--task <split>', 'dataset split to validate on').choices(['val', 'train', 'test']).default('val'))
    .option('--augment', 'test-time augmentation: also at 0.83× mirrored and 0.67×, one NMS over all', false)
    .option('--verbose', 'report mAP by class (always shown for datasets under 50 classes)', false)
    .option('--save-json', 'save detections as a COCO results JSON', false)
    .option('--single-cls', 'treat as a single-class dataset', false)
    .option('--project <dir>', 'save to project/name', 'runs/val')
    .option('--name <name>', 'save to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name instead of incrementing', false)
    .addOption(deviceOption())
    .action(async (options: ValOptions, command: Command) => {
      console.log(settingsLine(command));
      if (options.confThres > 0.001) console.log(`WARNING: confidence threshold ${options.confThres} > 0.001 gives mAP lower than the official protocol`);
      const config = loadDatasetConfig(await prepareDataset(options.data));
      // As the official val.py: BatchNorm folded into the convolutions for inference.
      console.log('Fusing layers...');
      const ensemble = await loadEnsemble(options.weights, { augment: options.augment });
      for (const model of ensemble.models) console.log(summaryLine(model, 'Model'));
      if (ensemble.models.length > 1) console.log(`Ensemble created with ${options.weights.join(', ')}`);
      const saveDir = incrementPath(options.project, options.name, options.existOk);
      await validate(ensemble, {
        data: config,
        split: options.task,
        imgsz: options.imgsz,
        batchSize: options.batchSize,
        confThres: options.confThres,
        iouThres: options.iouThres,
        maxDet: options.maxDet,
        singleCls: options.singleCls,
        verbose: options.verbose || config.nc < 50,
        saveJson: options.saveJson,
        saveDir,
        jsonStem: basename(options.weights[0]!, extname(options.weights[0]!)),
      });
      console.log(`Results saved to ${saveDir}`);
    });
}
