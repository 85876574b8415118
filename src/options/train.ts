// `yolov5 train` and the library's train(): every option once.
import { OPTIMIZERS } from '../train/optimizer.js';
import { batchSize, device, imgsz, nominalBatch, processes } from './common.js';
import { defineOptions, type OptionsOf, type ResolvedOptionsOf } from './declare.js';
import { choice, flag, fractionBelowOne, integer, listOf, nonNegativeInteger, orBare, positiveInteger, text, textOrBoolean } from './values.js';

/** Generations of a bare --evolve, as YOLOv5's. */
export const EVOLVE_GENERATIONS = 300;

export const trainOptions = defineOptions('train', {
  data: { type: text, argument: '<yaml>', help: 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use); required unless resuming' },
  weights: { type: text, default: '', argument: '<path>', help: "initial weights (.pt or .safetensors); '' to train from --cfg" },
  cfg: { type: text, argument: '<yaml>', help: 'model config (path or shipped name, e.g. yolov5n)' },
  hyp: { type: text, default: 'hyp.scratch-low', argument: '<yaml>', help: 'hyperparameters (path or shipped hyp.scratch-low / -med / -high)' },
  imgsz: imgsz('train and val image size'),
  batchSize: batchSize('batch size (over all processes)', 16),
  nominalBatch,
  epochs: { type: positiveInteger, default: 100, argument: '<n>', help: 'epochs' },
  device,
  project: { type: text, argument: '<dir>', help: 'save to project/name (default: runs/train, runs/evolve with --evolve)' },
  name: { type: text, default: 'exp', argument: '<name>', help: 'save to project/name' },
  existOk: { type: flag, default: false, help: 'reuse an existing project/name instead of incrementing' },
  resume: { type: textOrBoolean, default: false, argument: '[last]', help: 'continue a run from its last.safetensors (default: the most recent under --project)' },
  patience: { type: integer, default: 100, argument: '<epochs>', help: 'stop after this many epochs without improvement (0: never)' },
  savePeriod: { type: integer, default: -1, argument: '<epochs>', help: 'also save a checkpoint every this many epochs (< 1: never)' },
  workers: { type: positiveInteger, default: 8, argument: '<n>', help: 'data loader worker threads' },
  seed: { type: integer, default: 0, argument: '<n>', help: 'random seed' },
  optimizer: { type: choice(OPTIMIZERS), default: 'SGD', argument: '<name>', help: 'optimizer' },
  cosLr: { type: flag, default: false, help: 'cosine learning-rate schedule' },
  rect: { type: flag, default: false, help: 'rectangular training batches' },
  cache: { type: orBare(choice(['ram'])), argument: '[ram]', help: 'cache decoded images in RAM' },
  freeze: { type: listOf(nonNegativeInteger), argument: '<layers...>', help: 'freeze layers: N freezes the first N, several values freeze those indices' },
  singleCls: { type: flag, default: false, help: 'train multi-class data as a single class' },
  multiScale: { type: flag, default: false, help: 'vary the image size by ±50% per batch' },
  noval: { type: flag, default: false, help: 'validate only the final epoch' },
  nosave: { type: flag, default: false, help: 'save only the final checkpoint' },
  noplots: { type: flag, default: false, help: 'save no pictures' },
  noautoanchor: { type: flag, default: false, help: 'skip the AutoAnchor check' },
  labelSmoothing: { type: fractionBelowOne, default: 0, argument: '<eps>', help: 'class label smoothing epsilon' },
  evolve: {
    type: orBare(positiveInteger),
    argument: '[generations]',
    help: `evolve hyperparameters for this many generations (default ${EVOLVE_GENERATIONS}), each a training validated at its last epoch; a rerun continues the evolve.csv in project/name`,
  },
  ...processes,
});

/** The options of train(), as the flags of `yolov5 train` in camelCase. */
export type TrainOptions = OptionsOf<typeof trainOptions>;
export type ResolvedTrainOptions = ResolvedOptionsOf<typeof trainOptions>;
