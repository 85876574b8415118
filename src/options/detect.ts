// `yolov5 detect` and the library's runDetect(): every option once.
import { DETECT_THRESHOLDS } from '../val/nms.js';
import { device, imgszPair, runFolder } from './common.js';
import { defineOptions, type OptionsOf, type ResolvedOptionsOf } from './declare.js';
import { flag, fraction, listOf, nonNegativeInteger, positiveInteger, positiveNumber, text } from './values.js';

export const detectOptions = defineOptions('detect', {
  weights: {
    type: listOf(text),
    required: true,
    argument: '<path...>',
    help: 'model: .onnx (ONNX Runtime), official .pt or yolov5-ts .safetensors (libtorch); an official name (yolov5s.pt, yolov5n6.pt, ...) not found here is downloaded; several checkpoints: an ensemble',
  },
  source: { type: text, required: true, argument: '<source>', help: 'image, video, folder, glob, rtsp/rtmp/http URL, camera number (0: /dev/video0), or .txt list of these' },
  imgsz: imgszPair('inference size: one value, or height and width'),
  confThres: { type: fraction, default: DETECT_THRESHOLDS.conf, argument: '<x>', help: 'confidence threshold' },
  iouThres: { type: fraction, default: DETECT_THRESHOLDS.iou, argument: '<x>', help: 'NMS IoU threshold' },
  maxDet: { type: positiveInteger, default: 1000, argument: '<n>', help: 'maximum detections per image' },
  classes: { type: listOf(nonNegativeInteger), argument: '<index...>', help: 'keep only these classes, e.g. --classes 0 2' },
  agnosticNms: { type: flag, default: false, help: 'class-agnostic NMS' },
  augment: { type: flag, default: false, help: 'test-time augmentation: also at 0.83× mirrored and 0.67×, one NMS over all (checkpoints only)' },
  saveTxt: { type: flag, default: false, help: 'save results as YOLO labels (labels/<name>.txt)' },
  saveConf: { type: flag, default: false, help: 'add confidences to --save-txt labels' },
  saveCrop: { type: flag, default: false, help: 'save each detection cropped (crops/<class>/)' },
  nosave: { type: flag, default: false, help: 'do not save annotated images or videos' },
  ...runFolder('runs/detect'),
  lineThickness: { type: positiveInteger, default: 3, argument: '<px>', help: 'bounding box thickness (pixels)' },
  hideLabels: { type: flag, default: false, help: 'draw boxes without labels' },
  hideConf: { type: flag, default: false, help: 'draw labels without confidences' },
  readTimeout: { type: positiveNumber, default: 30, argument: '<seconds>', help: 'give up on a video or stream that sends nothing for this long' },
  vidStride: { type: positiveInteger, default: 1, argument: '<n>', help: 'detect on every n-th frame of videos and streams' },
  threads: {
    type: positiveInteger,
    argument: '<n>',
    help: 'ONNX Runtime intra-op threads (default: all cores for images; one fewer when the source has videos or streams, leaving a core to decoding)',
  },
  device,
});

/** The options of runDetect(), as the flags of `yolov5 detect` in camelCase. */
export type DetectCommandOptions = OptionsOf<typeof detectOptions>;
export type ResolvedDetectOptions = ResolvedOptionsOf<typeof detectOptions>;
