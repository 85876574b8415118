// Validation batches: rectangular, letterboxed, no augmentation. Decoding runs in sharp's thread pool, so the next
// batch is requested before the current one is handed out and loads while the model runs.
import type { LabelledImage } from './dataset-scan.js';
import { decodeImage, type RgbImage } from './image.js';
import { fitLongSide, letterbox, type Size } from './letterbox.js';
import { planRectBatches, type RectBatch } from './rect-batches.js';

export interface ValItem {
  source: LabelledImage;
  /** The network input for this image, already at the batch shape. */
  input: RgbImage;
  /** Size of the decoded image (EXIF orientation applied). */
  originalSize: Size;
  /** Size after fitting the long side to imgsz, before padding. */
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
}

export class ValLoader {
  readonly batches: RectBatch[];

  constructor(
    readonly images: readonly LabelledImage[],
    readonly options: ValLoaderOptions,
  ) {
    if (images.length === 0) throw new Error('validation loader: no usable images');
    this.batches = planRectBatches(
      images.map((image) => ({ width: image.width, height: image.height })),
      options,
    );
  }

  get length(): number {
    return this.batches.length;
  }

  private async loadItem(source: LabelledImage, shape: Size): Promise<ValItem> {
    const decoded = await decodeImage(source.imageFile, { lenient: source.truncatedJpeg });
    const resized = fitLongSide(decoded, this.options.imgsz);
    const boxed = letterbox(resized, shape, { auto: false, scaleup: false });
    return {
      source,
      input: boxed.image,
      originalSize: { width: decoded.width, height: decoded.height },
      resizedSize: { width: resized.width, height: resized.height },
      gain: resized.height / decoded.height,
      pad: boxed.pad,
    };
  }

  /** Decodes one batch, its images concurrently. */
  async load(index: number): Promise<ValBatch> {
    const batch = this.batches[index];
    if (!batch) throw new RangeError(`batch ${index} out of range (0..${this.batches.length - 1})`);
    const items = await Promise.all(batch.indices.map((i) => this.loadItem(this.images[i]!, batch.shape)));
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
