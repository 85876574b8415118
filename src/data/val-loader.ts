// Validation batches: letterboxed, no augmentation; rectangular, or all of one shape for a model of fixed input size. The next batch is requested before the current one
// is handed out and loads while the model runs: decoded in sharp's thread pool and resized here, or decoded and
// resized by worker threads (the training loader's) when `workers` asks for them.
import { availableParallelism } from 'node:os';
import { resolveAugmentHyp } from './augment/hyp.js';
import type { LabelledImage } from './dataset-scan.js';
import { decodeImage, type RgbImage } from './image.js';
import { fitLongSide, letterbox, type Size } from './letterbox.js';
import { planRectBatches, type RectBatch } from './rect-batches.js';
import { WorkerPool } from './workers/pool.js';
import { loaderWorkerUrl, type SharedImage, type WorkerSetup } from './workers/protocol.js';
import { integer } from '../util/check.js';

export interface ValItem {
  source: LabelledImage;
  /** The network input for this image, already at the batch shape. */
  input: RgbImage;
  /** Size of the decoded image (EXIF orientation applied). */
  originalSize: Size;
  /** Size in the input before padding (the long side fitted to imgsz, and into a smaller fixed shape). */
  resizedSize: Size;
  /** Input pixels per original pixel (YOLOv5 maps boxes back with the height ratio). */
  gain: number;
  /** Padding on the left and top of `input`, in input pixels. */
  pad: [number, number];
}

export interface ValBatch {
  index: number;
  shape: Size;
  items: ValItem[];
}

export interface ValLoaderOptions {
  imgsz: number;
  batchSize: number;
  stride: number;
  /** Batch shape margin in strides; YOLOv5 validation uses 0.5. */
  pad?: number;
  /**
   * One input shape for every batch, images in dataset order, instead of rectangular batches: what a model exported
   * for a fixed input size takes (val.py's square inference for exported models).
   */
  shape?: Size;
  /** Worker threads that decode and resize (default 0: none). Call close() when done. */
  workers?: number;
}

/** Worker threads for validation, as YOLOv5's val loader: none for batch 1, else no more than cores or batch. */
export function validationWorkers(requested: number, batchSize: number): number {
  return Math.min(requested, availableParallelism(), batchSize > 1 ? batchSize : 0);
}

/** What a training-loader worker needs to decode and fit images without augmenting them. */
function decodeSetup(images: readonly LabelledImage[], imgsz: number): WorkerSetup {
  return {
    imageFiles: images.map((image) => image.imageFile),
    lenient: images.map((image) => image.truncatedJpeg),
    labels: new Float32Array(0),
    labelOffsets: new Int32Array(images.length + 1),
    imgsz,
    augment: false,
    mosaic: false,
    hyp: resolveAugmentHyp(),
    seed: 0,
  };
}

/** Batches of `shape` in dataset order (YOLOv5's val loader without rect). */
function orderedBatches(count: number, batchSize: number, shape: Size): RectBatch[] {
  integer('batch size', batchSize, { min: 1 });
  const batches: RectBatch[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k);
    batches.push({ indices, shape });
  }
  return batches;
}

export class ValLoader {
  readonly batches: RectBatch[];
  private readonly pool: WorkerPool | undefined;

  constructor(
    readonly images: readonly LabelledImage[],
    readonly options: ValLoaderOptions,
  ) {
    if (images.length === 0) throw new Error('validation loader: no usable images');
    this.batches = options.shape
      ? orderedBatches(images.length, options.batchSize, options.shape)
      : planRectBatches(
          images.map((image) => ({ width: image.width, height: image.height })),
          options,
        );
    const workers = Math.min(options.workers ?? 0, images.length);
    if (workers > 0) this.pool = new WorkerPool(loaderWorkerUrl(), workers, decodeSetup(images, options.imgsz));
  }

  /** Stops the worker threads, if any. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  get length(): number {
    return this.batches.length;
  }

  /** Image `index` decoded and its long side fitted to imgsz, with its size before. */
  private async fitted(index: number): Promise<{ image: RgbImage; originalSize: Size }> {
    if (this.pool) {
      const shared = await this.pool.run<SharedImage>({ kind: 'decode', index });
      return { image: { data: new Uint8Array(shared.pixels), width: shared.width, height: shared.height }, originalSize: shared.originalSize };
    }
    const source = this.images[index]!;
    const decoded = await decodeImage(source.imageFile, { lenient: source.truncatedJpeg });
    return { image: fitLongSide(decoded, this.options.imgsz), originalSize: { width: decoded.width, height: decoded.height } };
  }

  private async loadItem(index: number, shape: Size): Promise<ValItem> {
    const { image: resized, originalSize } = await this.fitted(index);
    // Only padding, except in a fixed shape narrower than imgsz on one side (a non-square export), which shrinks.
    const boxed = letterbox(resized, shape, { auto: false, scaleup: false });
    const resizedSize = { width: shape.width - 2 * boxed.pad[0], height: shape.height - 2 * boxed.pad[1] };
    return {
      source: this.images[index]!,
      input: boxed.image,
      originalSize,
      resizedSize,
      gain: resizedSize.height / originalSize.height,
      pad: boxed.pad,
    };
  }

  /** Decodes one batch, its images concurrently. */
  async load(index: number): Promise<ValBatch> {
    const batch = this.batches[index];
    if (!batch) throw new RangeError(`batch ${index} out of range (0..${this.batches.length - 1})`);
    const items = await Promise.all(batch.indices.map((i) => this.loadItem(i, batch.shape)));
    return { index, shape: batch.shape, items };
  }

  /** All batches in order, each prefetched while the previous one is being used. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ValBatch> {
    let pending = this.load(0);
    for (let i = 0; i < this.batches.length; i++) {
      const current = pending;
      if (i + 1 < this.batches.length) {
        pending = this.load(i + 1);
        // Awaited on the next turn; this only stops an early failure from being reported as unhandled meanwhile.
        pending.catch(() => undefined);
      }
      yield await current;
    }
  }
}
