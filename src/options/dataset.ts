// `yolov5 dataset synth` and `yolov5 demo`, and the library's synth() and demo(): every option once.
import { MAX_CLASSES, MAX_IMGSZ, MIN_IMGSZ } from '../data/synth.js';
import { IMG_FLAGS } from './common.js';
import { defineOptions, type OptionsOf } from './declare.js';
import { flag, integer, integerInRange, nonNegativeInteger, positiveInteger, text } from './values.js';

export const synthOptions = defineOptions('synth', {
  out: { type: text, required: true, argument: '<dir>', help: 'output folder (new, empty, or an earlier synthetic dataset to replace)' },
  images: { type: positiveInteger, default: 1000, argument: '<n>', help: 'training images' },
  valImages: { type: positiveInteger, argument: '<n>', help: 'validation images (default: 20% of --images)' },
  classes: { type: integerInRange(1, MAX_CLASSES), default: 4, argument: '<k>', help: `number of shape classes, 1 to ${MAX_CLASSES}` },
  imgsz: { type: integerInRange(MIN_IMGSZ, MAX_IMGSZ), default: 128, flags: IMG_FLAGS, argument: '<size>', help: `image size in pixels, ${MIN_IMGSZ} to ${MAX_IMGSZ}` },
  seed: { type: integer, default: 0, argument: '<n>', help: 'random seed (same seed, same files)' },
});

export const demoOptions = defineOptions('demo', {
  out: { type: text, default: 'runs/demo', argument: '<dir>', help: 'output folder (replaced if it holds an earlier demo)' },
  fast: { type: flag, default: false, help: 'reduced plan: every stage, tiny sizes' },
  seed: { type: nonNegativeInteger, default: 0, argument: '<n>', help: 'random seed of the dataset and training' },
});

/** The options of synth(), as the flags of `yolov5 dataset synth` in camelCase. */
export type SynthOptions = OptionsOf<typeof synthOptions>;

/** The options of demo(), as the flags of `yolov5 demo` in camelCase. */
export type DemoOptions = OptionsOf<typeof demoOptions>;
