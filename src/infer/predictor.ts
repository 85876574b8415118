// The detector: decode → letterbox → run (ONNX Runtime or libtorch) → NMS → boxes in original-image pixels.
import { extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NetworkInput } from '../data/batch-tensor.js';
import type { RgbImage } from '../data/image.js';
import { letterboxInput } from '../data/letterbox.js';
import { loadEnsemble } from '../checkpoint/index.js';
import { scaleBoxesToOriginal } from '../val/boxes.js';
import { DETECT_THRESHOLDS, DETECTION_COLUMNS, nmsImage } from '../val/nms.js';
import { OnnxBackend, TorchBackend, type Backend, type BackendOptions, type RuntimeName } from './backend.js';
import { stackInputs, type Offset } from './batch-input.js';
import type { FetchOptions } from './fetch-image.js';
import { decodeInput, type ImageInput } from './input.js';
import { Detections, type Box, type Size, type Timings } from './results.js';
import { fail, integer } from '../util/check.js';

export interface DetectOptions {
  /** Minimum confidence (objectness × class probability). Default 0.25. */
  conf?: number;
  /** NMS IoU threshold. Default 0.45. */
  iou?: number;
  /** Keep only these class indices. */
  classes?: number[];
  /** Suppress overlapping boxes across classes. */
  agnostic?: boolean;
  /** Most detections per image. Default 1000. */
  maxDet?: number;
  /** Inference size: one number (long side) or [height, width]. Default 640; ignored by fixed-size ONNX models. */
  imgsz?: number | [number, number];
  /** Bounds on downloading URL inputs: `timeoutMs` (default 30 000) and `maxBytes` (default 64 MiB). */
  fetch?: FetchOptions;
}

/** An image decoded for detection, with what its results report of it. */
export interface DecodedImage {
  image: RgbImage;
  /** The path or URL, or a description for in-memory inputs. */
  source: string;
  /** Milliseconds spent reading and decoding it. */
  decodeMs: number;
}

export interface LoadOptions extends BackendOptions {
  /**
   * Runtime: by default ONNX Runtime for .onnx files and libtorch for .pt / .safetensors; 'onnxruntime' with a
   * .pt or .safetensors file exports the model to ONNX in memory.
   */
  runtime?: RuntimeName;
  /**
   * Test-time augmentation (YOLOv5's --augment): each image also at 0.83× mirrored and at 0.67×, all boxes to one
   * NMS. Slower, often a little more accurate; libtorch only.
   */
  augment?: boolean;
}

/** Stage timings in milliseconds, measured with performance.now(). */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = now - last;
    last = now;
    return elapsed;
  };
}

export class Detector {
  constructor(
    readonly backend: Backend,
    /** The weights file, or a description. */
    readonly weights: string,
  ) {}

  get names(): string[] {
    return this.backend.names;
  }
  /** The model's largest stride. */
  get stride(): number {
    return this.backend.stride;
  }
  get runtime(): RuntimeName {
    return this.backend.runtime;
  }

  /**
   * Detects objects in one image, or in several at once: a list runs as one batch (as YOLOv5's AutoShape), every
   * image letterboxed at its own scale and padded to the batch's largest input shape, and gives one result per image,
   * in order. A model exported with a fixed batch size takes the images that many at a time.
   */
  detect(input: ImageInput, options?: DetectOptions): Promise<Detections>;
  detect(inputs: readonly ImageInput[], options?: DetectOptions): Promise<Detections[]>;
  async detect(input: ImageInput | readonly ImageInput[], options: DetectOptions = {}): Promise<Detections | Detections[]> {
    // Before anything is read or downloaded.
    this.checkOptions(options);
    if (!isInputList(input)) return (await this.runImages([await decodeTimed(input, options)], options))[0]!;
    const results: Detections[] = [];
    // Decoded a batch at a time, so a model that takes one image at a time holds one image at a time.
    for (const chunk of this.batches(input.map((one, i) => ({ one, i })))) {
      const decoded = await Promise.all(
        chunk.map(({ one, i }) =>
          decodeTimed(one, options).catch((error: Error) => {
            throw new Error(`inputs[${i}]: ${error.message}`);
          }),
        ),
      );
      results.push(...(await this.runImages(decoded, options)));
    }
    return results;
  }

  /** Detection on an already decoded image (`decodeMs` is reported as its decode time). */
  async detectImage(image: RgbImage, source: string, options: DetectOptions = {}, decodeMs = 0): Promise<Detections> {
    return (await this.detectImages([{ image, source, decodeMs }], options))[0]!;
  }

  /**
   * Detection on decoded images, one forward per batch (see detect). In a batch, pre-processing and inference times
   * are the batch's shared equally among its images.
   */
  async detectImages(images: readonly DecodedImage[], options: DetectOptions = {}): Promise<Detections[]> {
    this.checkOptions(options);
    return this.runImages(images, options);
  }

  /** detectImages with the options already checked. */
  private async runImages(images: readonly DecodedImage[], options: DetectOptions): Promise<Detections[]> {
    const results: Detections[] = [];
    for (const batch of this.batches(images)) results.push(...(await this.detectBatch(batch, options)));
    return results;
  }

  /** The items in runs of the model's fixed batch size, or all in one. */
  private batches<T>(items: readonly T[]): T[][] {
    const size = this.backend.input.batch ?? Math.max(items.length, 1);
    const batches: T[][] = [];
    for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
    return batches;
  }

  private async detectBatch(images: readonly DecodedImage[], options: DetectOptions): Promise<Detections[]> {
    const lap = stopwatch();
    const count = images.length;
    // As in YOLOv5, pre-processing ends with the float network input; inference is the network alone.
    const own = images.map(({ image }) => this.networkInput(image, options.imgsz ?? 640));
    const { input, offsets } = stackInputs(own);
    const [, , height, width] = input.shape;
    const preprocess = lap() / count;
    // The input was made here for this run alone: its memory serves the next image's. NMS begins by dropping the
    // rows whose objectness is not above the confidence threshold, so only the others need to come back.
    const minObjectness = options.conf ?? DETECT_THRESHOLDS.conf;
    const { predictions, rows: kept, ms } = await this.backend.run(input, { handOver: true, minObjectness });
    // The time the run waited for its turn, or for this thread to take its result, is no stage of these images.
    lap();
    const rowLength = this.names.length + 5;
    const rowCounts = kept ?? new Array<number>(count).fill(predictions.length / count / rowLength);
    let first = 0;
    return images.map(({ image, source, decodeMs }, b) => {
      const [, , ownHeight, ownWidth] = own[b]!.shape;
      const rows = predictions.subarray(first * rowLength, (first += rowCounts[b]!) * rowLength);
      const boxes = this.postprocess(rows, image, { width: ownWidth, height: ownHeight }, offsets[b]!, options);
      const timings: Timings = { decode: decodeMs, preprocess, inference: ms / count, nms: lap() };
      return new Detections(source, boxes, { width: image.width, height: image.height }, { width, height }, timings, image);
    });
  }

  /**
   * The network input for an image, letterboxed: to the model's fixed size if it has one, else with minimal padding
   * to the size step.
   */
  networkInput(image: RgbImage, imgsz: number | [number, number]): NetworkInput {
    const { height, width } = this.backend.input;
    if (height !== null && width !== null) return letterboxInput(image, { width, height }, { auto: false }).input;
    const step = Math.max(this.stride, 32);
    const [h, w] = (typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz).map((s) => Math.max(Math.ceil(s / step) * step, step)) as [number, number];
    return letterboxInput(image, { width: w, height: h }, { auto: true, stride: step }).input;
  }

  private checkOptions(options: DetectOptions): void {
    const nc = this.names.length;
    for (const c of options.classes ?? []) integer('class filter', c, { min: 0, max: nc - 1, why: 'a class index of this model' });
    const sizes = options.imgsz === undefined ? [] : typeof options.imgsz === 'number' ? [options.imgsz] : options.imgsz;
    if (sizes.length > 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) fail('imgsz', 'a positive integer or [height, width]', options.imgsz);
  }

  /** Boxes of one image's predictions; `input` is its own letterboxed size, placed at `offset` in the batch's input. */
  private postprocess(predictions: Float32Array, image: RgbImage, input: Size, offset: Offset, options: DetectOptions): Box[] {
    const rows = nmsImage(predictions, this.names.length + 5, {
      confThres: options.conf ?? DETECT_THRESHOLDS.conf,
      iouThres: options.iou ?? DETECT_THRESHOLDS.iou,
      classes: options.classes,
      agnostic: options.agnostic ?? false,
      maxDet: options.maxDet ?? 1000,
    });
    // The gain and centred padding of the letterbox, recomputed from the two sizes as YOLOv5's scale_boxes does.
    const gain = Math.min(input.height / image.height, input.width / image.width);
    const pad: [number, number] = [(input.width - image.width * gain) / 2 + offset.left, (input.height - image.height * gain) / 2 + offset.top];
    scaleBoxesToOriginal(rows, { gain, pad }, image, DETECTION_COLUMNS);
    const boxes: Box[] = [];
    for (let r = 0; r < rows.length; r += DETECTION_COLUMNS) {
      const classId = rows[r + 5]!;
      boxes.push({ x1: rows[r]!, y1: rows[r + 1]!, x2: rows[r + 2]!, y2: rows[r + 3]!, confidence: rows[r + 4]!, classId, className: this.names[classId]! });
    }
    return boxes;
  }

  /** Releases the runtime session. */
  async dispose(): Promise<void> {
    await this.backend.dispose();
  }
}

function isInputList(input: ImageInput | readonly ImageInput[]): input is readonly ImageInput[] {
  return Array.isArray(input);
}

async function decodeTimed(input: ImageInput, options: DetectOptions): Promise<DecodedImage> {
  const started = performance.now();
  const { image, source } = await decodeInput(input, { fetch: options.fetch });
  return { image, source, decodeMs: performance.now() - started };
}

/**
 * Loads a detector from any weights file: an `.onnx` model (ONNX Runtime), an official YOLOv5 `.pt` or a yolov5-ts
 * `.safetensors` checkpoint (libtorch, or ONNX Runtime through an in-memory export with `runtime: 'onnxruntime'`).
 * Several checkpoints make an ensemble (YOLOv5's `--weights a.pt b.pt`): their boxes are pooled before NMS.
 * Returns the Detector, whose detect() takes images (paths, URLs, Buffers, raw pixels, or a list as one batch) and
 * gives their boxes in memory; dispose() releases its runtime. For `yolov5 detect`'s run folders, see runDetect().
 *
 * @example
 * const model = await load('yolov5n.onnx');
 * const result = await model.detect('bus.jpg', { conf: 0.4 });
 * console.log(result.summary(), result.boxes[0]);
 * await model.dispose();
 */
export async function load(weights: string | readonly string[], options: LoadOptions = {}): Promise<Detector> {
  const list = typeof weights === 'string' ? [weights] : [...weights];
  if (list.length === 0) throw new Error('load: no weights given');
  const description = list.join(' + ');
  const onnx = list.filter((w) => extname(w).toLowerCase() === '.onnx');
  if (onnx.length > 0) {
    if (list.length > 1) throw new Error(`${onnx[0]}: an ONNX model cannot join an ensemble: ONNX Runtime runs one model as exported; ensembles take .pt and .safetensors checkpoints`);
    if (options.runtime === 'libtorch') throw new Error(`${onnx[0]}: an ONNX model runs on ONNX Runtime only, not libtorch`);
    if (options.augment) throw new Error(`${onnx[0]}: test-time augmentation needs the checkpoint (.pt or .safetensors): it runs the network at other sizes than the exported one`);
    return new Detector(await OnnxBackend.create(onnx[0]!, options), onnx[0]!);
  }
  const torch = new TorchBackend(await loadEnsemble(list, { augment: options.augment }));
  if (options.runtime === 'onnxruntime') return new Detector(await torch.toOnnx(options), description);
  return new Detector(torch, description);
}
