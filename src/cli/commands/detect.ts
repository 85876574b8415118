import { Command } from 'commander';
import { runDetect } from '../../infer/detect-run.js';
import { collect, deviceOption, fraction, heightAndWidth, imgSizesOption, nonNegativeInteger, positiveInteger, positiveNumber } from '../arguments.js';
import { settingsLine } from '../settings-line.js';

interface DetectCliOptions {
  weights: string[];
  augment: boolean;
  source: string;
  imgsz?: number[];
  confThres: number;
  iouThres: number;
  maxDet: number;
  classes?: number[];
  agnosticNms: boolean;
  saveTxt: boolean;
  saveConf: boolean;
  saveCrop: boolean;
  nosave: boolean;
  project: string;
  name: string;
  existOk: boolean;
  lineThickness: number;
  hideLabels: boolean;
  hideConf: boolean;
  readTimeout: number;
  vidStride: number;
}

export function detectCommand(): Command {
  return new Command('detect')
    .description('detect objects in images, folders, globs, videos, streams or list files (as YOLOv5 detect.py)')
    .requiredOption('--weights <path...>', 'model: .onnx (ONNX Runtime), official .pt or yolov5-ts .safetensors (libtorch); an official name (yolov5s.pt, yolov5n6.pt, ...) not found here is downloaded; several checkpoints: an ensemble')
    .requiredOption('--source <source>', 'image, video, folder, glob, rtsp/rtmp/http URL, camera number (0: /dev/video0), or .txt list of these')
    .addOption(imgSizesOption('inference size: one value, or height and width (default 640)'))
    .option('--conf-thres <x>', 'confidence threshold', fraction, 0.25)
    .option('--iou-thres <x>', 'NMS IoU threshold', fraction, 0.45)
    .option('--max-det <n>', 'maximum detections per image', positiveInteger, 1000)
    .option('--classes <index...>', 'keep only these classes, e.g. --classes 0 2', collect(nonNegativeInteger))
    .option('--agnostic-nms', 'class-agnostic NMS', false)
    .option('--augment', 'test-time augmentation: also at 0.83× mirrored and 0.67×, one NMS over all (checkpoints only)', false)
    .option('--save-txt', 'save results as YOLO labels (labels/<name>.txt)', false)
    .option('--save-conf', 'add confidences to --save-txt labels', false)
    .option('--save-crop', 'save each detection cropped (crops/<class>/)', false)
    .option('--nosave', 'do not save annotated images or videos', false)
    .option('--project <dir>', 'save results to project/name', 'runs/detect')
    .option('--name <name>', 'save results to project/name', 'exp')
    .option('--exist-ok', 'reuse an existing project/name instead of incrementing', false)
    .option('--line-thickness <px>', 'bounding box thickness (pixels)', positiveInteger, 3)
    .option('--hide-labels', 'draw boxes without labels', false)
    .option('--hide-conf', 'draw labels without confidences', false)
    .option('--read-timeout <seconds>', 'give up on a video or stream that sends nothing for this long', positiveNumber, 30)
    .option('--vid-stride <n>', 'detect on every n-th frame of videos and streams', positiveInteger, 1)
    .addOption(deviceOption())
    .action(async (o: DetectCliOptions, command: Command) => {
      const imgsz = heightAndWidth(o.imgsz ?? [640]);
      console.log(settingsLine(command, { imgsz }));
      // Ctrl-C ends a stream cleanly: the current video file is finished and the summary printed; twice quits now
      // (ffmpeg children are ended on exit either way). Exit code 130 as for any command stopped by Ctrl-C.
      const stop = new AbortController();
      const onInterrupt = () => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort();
      };
      process.on('SIGINT', onInterrupt);
      try {
        const summary = await runDetect({
          weights: o.weights,
          augment: o.augment,
          source: o.source,
          imgsz,
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
          signal: stop.signal,
          readTimeoutMs: o.readTimeout * 1000,
          vidStride: o.vidStride,
        });
        if (summary.interrupted) process.exitCode = 130;
      } finally {
        process.removeListener('SIGINT', onInterrupt);
      }
    });
}
