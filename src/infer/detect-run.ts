// The detect command's work (YOLOv5 detect.py): every image and video frame of a source through a detector,
// one log line each, annotated images/videos, YOLO label files and crops saved under an incremented run folder.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { degenerateSize, type RgbImage } from '../data/image.js';
import { checkImgSize } from '../data/letterbox.js';
import { incrementPath } from '../io/run-dir.js';
import { mapAhead } from '../util/map-ahead.js';
import { OrderedJobs } from '../util/ordered-jobs.js';
import { load, type DetectOptions, type Detector } from './predictor.js';
import { decodeInput, sourceStem } from './input.js';
import { isHttpUrl } from './fetch-image.js';
import type { Detections, LabelOptions } from './results.js';
import { resolveSource, streamStem, type MediaEntry } from './sources.js';
import { FRAMES_AHEAD, VideoWriter, probeVideo, readFrames } from './video.js';
import { BufferPool } from '../util/buffer-pool.js';

export interface DetectRunOptions extends DetectOptions {
  /** One model, or several checkpoints run as an ensemble. */
  weights: string | string[];
  /** Test-time augmentation (checkpoints only). */
  augment?: boolean;
  /**
   * ONNX Runtime's intra-op threads. Default: all cores for images; one fewer when the source has videos or streams,
   * whose decoding (ffmpeg), pre-processing and drawing need a core beside inference (on 2 vCPUs, yolov5n on a
   * 1280×720 video: 48.1 frames per second with 1 thread, 46.0 with 2; a model pruned to 50%: 83.8 against 72.1).
   */
  threads?: number;
  source: string;
  /** Results go to project/name (then name2, name3, ... unless existOk). */
  project?: string;
  name?: string;
  existOk?: boolean;
  /** Write YOLO label files (labels/<stem>.txt), with the confidence when saveConf. */
  saveTxt?: boolean;
  saveConf?: boolean;
  /** Save each detected object's crop under crops/<class>/. */
  saveCrop?: boolean;
  /** Do not save annotated images and videos. */
  nosave?: boolean;
  /** Box line width in pixels (default 3, as detect.py). */
  lineThickness?: number;
  hideLabels?: boolean;
  hideConf?: boolean;
  /** Stops reading (streams run until the source ends otherwise); the current video file is still finished. */
  signal?: AbortSignal;
  /** A video or stream that sends nothing for this long is given up (default 30 s). */
  readTimeoutMs?: number;
  /** Detect on every vidStride-th frame of videos and streams only (default 1: every frame). */
  vidStride?: number;
  log?: (line: string) => void;
}

export interface DetectRunSummary {
  saveDir: string;
  /** Images and video frames processed. */
  processed: number;
  /** Sources reported and skipped. */
  skipped: { path: string; reason: string }[];
  /** Mean milliseconds per image. */
  speed: { preprocess: number; inference: number; nms: number };
  /** Stopped by the signal before the source ended. */
  interrupted: boolean;
}

/** Image formats sharp can write; others (bmp) are saved as PNG. */
const WRITABLE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff']);

function outputImageName(path: string): string {
  const name = isHttpUrl(path) ? basename(new URL(path).pathname) : basename(path);
  const ext = extname(name).toLowerCase();
  return WRITABLE.has(ext) ? name : `${sourceStem(path)}.png`;
}

class RunOutputs {
  private readonly labelsDir: string;
  constructor(
    readonly saveDir: string,
    private readonly options: DetectRunOptions,
  ) {
    this.labelsDir = join(saveDir, 'labels');
  }

  get labelOptions(): LabelOptions {
    return { lineWidth: this.options.lineThickness ?? 3, hideLabels: this.options.hideLabels, hideConf: this.options.hideConf };
  }

  async labels(result: Detections, stem: string): Promise<void> {
    if (!this.options.saveTxt || result.boxes.length === 0) return;
    await mkdir(this.labelsDir, { recursive: true });
    await writeFile(join(this.labelsDir, `${stem}.txt`), result.labelLines({ saveConf: this.options.saveConf }));
  }

  async crops(result: Detections, stem: string): Promise<void> {
    if (this.options.saveCrop) await result.crop({ save: join(this.saveDir, 'crops'), stem });
  }

  async image(result: Detections, path: string): Promise<void> {
    if (this.options.nosave) return;
    const file = join(this.saveDir, outputImageName(path));
    const drawn = result.draw(this.labelOptions);
    // The format follows the file name; JPEG at quality 95 as cv2.imwrite writes it.
    await (/\.jpe?g$/i.test(file) ? drawn.jpeg({ quality: 95 }) : drawn).toFile(file);
  }
}

/** Official log fragment: `640x480 4 persons, 1 bus, 12.0ms` (input height × width). */
function describe(result: Detections): string {
  const { inputSize, boxes, timings } = result;
  const found = boxes.length ? `${result.summary()}, ` : '(no detections), ';
  return `${inputSize.height}x${inputSize.width} ${found}${timings.inference.toFixed(1)}ms`;
}

export async function runDetect(options: DetectRunOptions): Promise<DetectRunSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const entries = resolveSource(options.source);
  const moving = entries.some((e) => e.kind !== 'image' && e.kind !== 'invalid');
  const threads = options.threads ?? Math.max(availableParallelism() - (moving ? 1 : 0), 1);
  const detector = await load(options.weights, { augment: options.augment, threads, sharedCores: moving });
  const onThreads = detector.runtime === 'onnxruntime' ? ` on ${threads} thread${threads === 1 ? '' : 's'}` : '';
  log(`Loaded ${detector.weights}${options.augment ? ' with test-time augmentation' : ''} for ${detector.runtime} inference${onThreads} (${detector.names.length} classes, stride ${detector.stride})`);
  const { imgsz, warning } = fitImgSize(detector, options.imgsz ?? 640);
  if (warning) log(warning);
  const detectOptions: DetectRunOptions = { ...options, imgsz };
  const saveDir = incrementPath(options.project ?? 'runs/detect', options.name ?? 'exp', options.existOk ?? false);
  const outputs = new RunOutputs(saveDir, detectOptions);
  const totals = { preprocess: 0, inference: 0, nms: 0 };
  const skipped: DetectRunSummary['skipped'] = [];
  let processed = 0;
  const account = (result: Detections) => {
    totals.preprocess += result.timings.preprocess;
    totals.inference += result.timings.inference;
    totals.nms += result.timings.nms;
    processed++;
  };
  const skip = (path: string, reason: string) => {
    skipped.push({ path, reason });
    log(`WARNING: skipping ${path}: ${reason}`);
  };

  try {
    for (const [i, entry] of entries.entries()) {
      if (options.signal?.aborted) break;
      const counter = `${i + 1}/${entries.length}`;
      if (entry.kind === 'invalid') {
        skip(resolve(entry.path), entry.reason);
        continue;
      }
      if (entry.kind === 'image') {
        const path = localOrUrl(entry.path);
        let image: RgbImage;
        const started = performance.now();
        try {
          image = (await decodeInput(path)).image;
        } catch (error) {
          skip(path, (error as Error).message.replace(`${path}: `, ''));
          continue;
        }
        const degenerate = degenerateSize(image.width, image.height);
        if (degenerate) {
          skip(path, degenerate);
          continue;
        }
        const result = await detector.detectImage(image, path, detectOptions, performance.now() - started);
        account(result);
        log(`image ${counter} ${path}: ${describe(result)}`);
        const stem = sourceStem(path);
        await outputs.image(result, path);
        await outputs.labels(result, stem);
        await outputs.crops(result, stem);
        continue;
      }
      const failure = await detectVideo(detector, entry, counter, detectOptions, outputs, account, log);
      if (failure) skip(failure.path, failure.reason);
    }
  } finally {
    await detector.dispose();
  }

  const interrupted = options.signal?.aborted ?? false;
  if (processed === 0 && !interrupted) {
    throw new Error(`no image or video frame of ${options.source} could be processed${skipped.length ? ` (${skipped.length} skipped, see the warnings above)` : ''}`);
  }
  const per = Math.max(processed, 1);
  const speed = { preprocess: totals.preprocess / per, inference: totals.inference / per, nms: totals.nms / per };
  log(
    `Speed: ${speed.preprocess.toFixed(1)}ms pre-process, ${speed.inference.toFixed(1)}ms inference, ${speed.nms.toFixed(1)}ms NMS per image at shape (1, 3, ${imgsz.join(', ')})`,
  );
  if (!options.nosave || options.saveTxt || options.saveCrop) {
    const labels = options.saveTxt ? `\n${(await countLabels(join(saveDir, 'labels')))} labels saved to ${join(saveDir, 'labels')}` : '';
    log(`Results saved to ${saveDir}${labels}`);
  }
  return { saveDir, processed, skipped, speed, interrupted };
}

/**
 * The input size really used, as [height, width]: a fixed-size ONNX model's own, else the size asked for rounded up
 * to the stride (with YOLOv5's warning when that changes it; a square size is named by one value, as it was given).
 */
function fitImgSize(detector: Detector, requested: number | [number, number]): { imgsz: [number, number]; warning?: string } {
  const { height, width } = detector.backend.input;
  if (height !== null && width !== null) return { imgsz: [height, width] };
  const [h, w] = typeof requested === 'number' ? [requested, requested] : requested;
  const { sizes, warning } = checkImgSize(h === w ? [h] : [h, w], Math.max(detector.stride, 32));
  return { imgsz: [sizes[0]!, sizes[1] ?? sizes[0]!], warning };
}

async function countLabels(dir: string): Promise<number> {
  return existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.txt')).length : 0;
}

/** Where a video, stream or camera is read from, the stem of its results and its word in the log. */
function videoSource(entry: VideoEntry): { source: string; stem: string; label: string; format?: string } {
  switch (entry.kind) {
    case 'video': {
      const source = resolve(entry.path);
      return { source, stem: basename(source, extname(source)), label: 'video' };
    }
    case 'stream':
      return { source: entry.url, stem: streamStem(entry.url), label: 'stream' };
    case 'camera':
      return { source: entry.device, stem: entry.number, label: 'camera', format: 'v4l2' };
  }
}

type VideoEntry = Extract<MediaEntry, { kind: 'video' } | { kind: 'stream' } | { kind: 'camera' }>;

/** Frames whose detection is under way at once: the next one is pre-processed while ONNX Runtime infers this one. */
const DETECTIONS_AHEAD = 2;
/** Detected frames whose outputs (drawing, encoding, label files, crops) may wait while the next ones are detected. */
const OUTPUTS_AHEAD = 2;
/** Frames alive at once: read ahead by the decoder's reader, being detected, waiting for their outputs. */
const FRAMES_IN_FLIGHT = FRAMES_AHEAD + DETECTIONS_AHEAD + OUTPUTS_AHEAD + 2;

/**
 * Runs a video file, stream or camera frame by frame, its stages overlapping: ffmpeg decodes the next frames and the
 * next is pre-processed while one is inferred, and the annotated video is drawn and encoded behind; each stage holds
 * at most a frame or two, in order. Returns what went wrong instead of throwing, so the run goes on.
 */
async function detectVideo(
  detector: Detector,
  entry: VideoEntry,
  counter: string,
  options: DetectRunOptions,
  outputs: RunOutputs,
  account: (result: Detections) => void,
  log: (line: string) => void,
): Promise<{ path: string; reason: string } | null> {
  const { source, stem, label, format } = videoSource(entry);
  // Frames vidStride, 2·vidStride, … (counting from 1, as YOLOv5); `frame` counts the frames detected on.
  const stride = options.vidStride ?? 1;
  // Ends the reading when detection stops early: a read under way would otherwise wait for the stream's next data.
  const stopReading = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopReading.signal]) : stopReading.signal;
  const saving = new OrderedJobs(OUTPUTS_AHEAD);
  let writer: VideoWriter | null = null;
  let frame = 0;
  try {
    // Said after the last frame's line, not among the frames still in the pipeline when the decoder ended.
    let damaged: string | null = null;
    const reading = { timeoutMs: options.readTimeoutMs, signal, format, warn: (message: string) => (damaged = message) };
    const info = await probeVideo(source, reading);
    // At the frame rate divided by the stride, the annotated video lasts as long as the source.
    if (!options.nosave) writer = await VideoWriter.open(join(outputs.saveDir, `${stem}.mp4`), info.width, info.height, info.fps / stride);
    const frames = info.frames === null ? '?' : Math.floor(info.frames / stride);
    let decoded = 0;
    // Frames' memory goes round: a frame's buffer serves a later frame once its outputs are written (or at once, for
    // a frame the stride skips).
    const memory = new BufferPool(FRAMES_IN_FLIGHT);
    const recycle = (image: RgbImage) => memory.give(image.data.buffer as ArrayBuffer);
    async function* strided(): AsyncGenerator<RgbImage> {
      for await (const image of readFrames(source, info, { ...reading, memory })) {
        if (++decoded % stride === 0) yield image;
        else recycle(image);
      }
    }
    for await (const result of mapAhead(strided(), (image) => detector.detectImage(image, source, options), DETECTIONS_AHEAD)) {
      const n = ++frame;
      account(result);
      log(`${label} ${counter} (frame ${n}/${frames}) ${source}: ${describe(result)}`);
      await saving.add(async () => {
        if (writer) await writer.write(await result.drawPixels(outputs.labelOptions));
        await outputs.labels(result, `${stem}_${n}`);
        await outputs.crops(result, stem);
        recycle(result.image);
      });
    }
    await saving.drain();
    if (damaged) log(`WARNING: ${damaged}`);
    if (frame === 0 && !options.signal?.aborted) return { path: source, reason: decoded ? `fewer than --vid-stride ${stride} frames` : 'no frames could be decoded' };
    return null;
  } catch (error) {
    if (options.signal?.aborted && frame === 0) return null;
    const message = (error as Error).message.replace(`${source}: `, '');
    return { path: source, reason: frame ? `stopped after frame ${frame}: ${message}` : message };
  } finally {
    stopReading.abort();
    await saving.settle();
    await writer?.close().catch((error: unknown) => log(`WARNING: ${(error as Error).message}`));
  }
}

/** A file's absolute path, or a URL as it is. */
function localOrUrl(path: string): string {
  return isHttpUrl(path) ? path : resolve(path);
}
