// runDetect(): `yolov5 detect` as a library call, with the same options, defaults, messages and run folders.
import { runDetect as detectSources, type DetectRunSummary } from '../infer/detect-run.js';
import { resolveOptions, settingsLine } from '../options/declare.js';
import { detectOptions, type DetectCommandOptions } from '../options/detect.js';
import { defaultLog, type RunControl } from './run-control.js';

export type { DetectCommandOptions, DetectRunSummary };

/**
 * Detects objects in images, folders, globs, videos, streams, cameras or list files, as `yolov5 detect` (YOLOv5's
 * detect.py): the options are the command's flags in camelCase with the same defaults (`confThres` for
 * `--conf-thres`, `agnosticNms`, `readTimeout` in seconds, ...), each listed with its help in
 * docs/options.md#detect. Writes annotated images and videos, labels and crops to `runs/detect/exp` (or
 * `project/name`). Returns the run folder, the images and frames processed and skipped, the mean time per stage,
 * and whether a `signal` ended it. For detections in memory, see load().
 *
 * @example
 * const { saveDir, processed } = await runDetect({ weights: ['yolov5n.onnx'], source: 'data/images', confThres: 0.4 });
 */
export async function runDetect(options: DetectCommandOptions & RunControl): Promise<DetectRunSummary> {
  const { log = defaultLog, signal, ...given } = options;
  const o = resolveOptions(detectOptions, given);
  log(settingsLine(detectOptions, o));
  return detectSources({
    weights: o.weights,
    augment: o.augment,
    source: o.source,
    imgsz: o.imgsz,
    conf: o.confThres,
    iou: o.iouThres,
    maxDet: o.maxDet,
    classes: o.classes,
    agnostic: o.agnosticNms,
    saveTxt: o.saveTxt,
    saveConf: o.saveConf,
    saveCrop: o.saveCrop,
    nosave: o.nosave,
    project: o.project,
    name: o.name,
    existOk: o.existOk,
    lineThickness: o.lineThickness,
    hideLabels: o.hideLabels,
    hideConf: o.hideConf,
    readTimeoutMs: o.readTimeout * 1000,
    vidStride: o.vidStride,
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(signal ? { signal } : {}),
    log,
  });
}
