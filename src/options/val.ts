// `yolov5 val` and the library's val(): every option once.
import { STUDY_SIZES } from '../val/study.js';
import { batchSize, device, imgsz, runFolder } from './common.js';
import { defineOptions, type OptionsOf, type ResolvedOptionsOf } from './declare.js';
import { choice, flag, fraction, listOf, nonNegativeInteger, positiveInteger, text } from './values.js';

export const VAL_TASKS = ['val', 'train', 'test', 'speed', 'study'] as const;

export const valOptions = defineOptions('val', {
  weights: {
    type: listOf(text),
    required: true,
    argument: '<path...>',
    help: 'model weights (official YOLOv5 .pt or yolov5-ts .safetensors; .onnx on ONNX Runtime, alone); an official name (yolov5s.pt, ...) not found here is downloaded; several: an ensemble, boxes pooled before NMS',
  },
  data: { type: text, required: true, argument: '<yaml>', help: 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use)' },
  imgsz: imgsz('inference size (pixels)'),
  batchSize: batchSize('batch size', 16),
  confThres: { type: fraction, default: 0.001, argument: '<x>', help: 'confidence threshold' },
  iouThres: { type: fraction, default: 0.6, argument: '<x>', help: 'NMS IoU threshold' },
  maxDet: { type: positiveInteger, default: 300, argument: '<n>', help: 'maximum detections per image' },
  task: {
    type: choice(VAL_TASKS),
    default: 'val',
    argument: '<task>',
    help: 'a split to validate on; speed: each model at conf 0.25, IoU 0.45 for its timings; study: each model at image sizes 256..1536',
  },
  workers: { type: nonNegativeInteger, default: 8, argument: '<n>', help: 'data loader threads decoding and resizing images (at most the cores and the batch size; 0: none)' },
  augment: { type: flag, default: false, help: 'test-time augmentation: also at 0.83× mirrored and 0.67×, one NMS over all' },
  verbose: { type: flag, default: false, help: 'report mAP by class (always shown for datasets under 50 classes)' },
  saveTxt: { type: flag, default: false, help: 'save detections as YOLO labels, labels/<image>.txt (class cx cy w h, normalised)' },
  saveConf: { type: flag, default: false, help: 'with --save-txt: append each confidence' },
  saveHybrid: { type: flag, default: false, help: 'save labels and detections together (autolabelling): labels enter NMS as certain detections, which inflates mAP' },
  saveJson: { type: flag, default: false, help: 'save detections as a COCO results JSON' },
  singleCls: { type: flag, default: false, help: 'treat as a single-class dataset' },
  studySizes: { type: listOf(positiveInteger), argument: '<pixels...>', help: `image sizes of --task study (default ${STUDY_SIZES[0]} to ${STUDY_SIZES.at(-1)} in steps of 128)` },
  ...runFolder('runs/val'),
  device,
});

/** The options of val(), as the flags of `yolov5 val` in camelCase. */
export type ValOptions = OptionsOf<typeof valOptions>;
export type ResolvedValOptions = ResolvedOptionsOf<typeof valOptions>;
