// One training sample as YOLOv5's LoadImagesAndLabels.__getitem__ makes it: a mosaic (optionally mixed up with a
// second one) or a single letterboxed image, warped by random_perspective, then HSV jitter and flips. Every random
// choice comes from the sample's own generator, in a fixed order, so a sample depends only on that generator's seed.
import type { RgbImage } from '../image.js';
import { letterbox, type Size } from '../letterbox.js';
import type { Rng } from '../../util/random.js';
import { concatRows, pixelXyxyToXywhn, xywhnToPixelXyxy } from './boxes.js';
import { flipLeftRight, flipUpDown } from './flip.js';
import { augmentHsv, drawHsvGains } from './hsv.js';
import type { AugmentHyp } from './hyp.js';
import { blendImages, MIXUP_ALPHA, sampleBeta } from './mixup.js';
import { buildMosaic } from './mosaic.js';
import { drawPerspective, randomPerspective, type Warped } from './perspective.js';

/** An image at training size: long side scaled to imgsz, aspect kept (YOLOv5 load_image). */
export interface LoadedImage {
  image: RgbImage;
  /** Size of the decoded file. */
  originalSize: Size;
}

/** Where samples get their images and labels; `load` must not hand out an image that a later call changes. */
export interface SampleSource {
  readonly count: number;
  /** Normalised [class, cx, cy, w, h] rows of image `index`. */
  labels(index: number): Float32Array;
  load(index: number): Promise<LoadedImage>;
}

export interface SampleOptions {
  imgsz: number;
  /** Random geometry, colour and flips. */
  augment: boolean;
  /** Mosaics allowed (augmenting and not rectangular training). */
  mosaic: boolean;
  hyp: AugmentHyp;
}

/** How a single (non-mosaic) image was fitted, for mapping predictions back. */
export interface SampleShape {
  originalSize: Size;
  resizedSize: Size;
  /** Padding added left and top, in pixels. */
  pad: [number, number];
}

export interface TrainSample {
  image: RgbImage;
  /** Normalised [class, cx, cy, w, h] rows on `image`. */
  labels: Float32Array;
  /** Null for mosaics. */
  shape: SampleShape | null;
}

function shuffleInPlace<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

async function loadMosaic(source: SampleSource, index: number, rng: Rng, options: SampleOptions): Promise<Warped> {
  const s = options.imgsz;
  const border = Math.floor(s / 2);
  const cy = Math.trunc(rng.uniform(border, 2 * s - border));
  const cx = Math.trunc(rng.uniform(border, 2 * s - border));
  const indices = [index, rng.int(0, source.count - 1), rng.int(0, source.count - 1), rng.int(0, source.count - 1)];
  shuffleInPlace(indices, rng);
  const loaded = await Promise.all(indices.map((i) => source.load(i)));
  const mosaic = buildMosaic(
    loaded.map(({ image }, k) => ({ image, labels: source.labels(indices[k]!) })),
    s,
    cx,
    cy,
  );
  const output = { width: 2 * (s - border), height: 2 * (s - border) };
  return randomPerspective(mosaic.image, mosaic.rows, drawPerspective(rng, options.hyp), output);
}

async function loadLetterboxed(source: SampleSource, index: number, target: Size, rng: Rng, options: SampleOptions): Promise<Warped & { shape: SampleShape }> {
  const { image, originalSize } = await source.load(index);
  const boxed = letterbox(image, target, { auto: false, scaleup: options.augment });
  const [ratioX, ratioY] = boxed.ratio;
  const rows = xywhnToPixelXyxy(source.labels(index), ratioX * image.width, ratioY * image.height, boxed.pad[0], boxed.pad[1]);
  const shape: SampleShape = { originalSize, resizedSize: { width: image.width, height: image.height }, pad: boxed.pad };
  if (!options.augment) return { image: boxed.image, rows, shape };
  const warped = randomPerspective(boxed.image, rows, drawPerspective(rng, options.hyp), boxed.image);
  // Colour and flips work in place; never on the source's (possibly cached) pixels.
  const owned = warped.image.data.buffer === image.data.buffer ? { ...warped.image, data: warped.image.data.slice() } : warped.image;
  return { image: owned, rows: warped.rows, shape };
}

/**
 * Builds sample `index`. Without a mosaic the image is letterboxed to `target` (the batch shape for rectangular
 * training, else imgsz²); mosaics are always imgsz².
 */
export async function buildTrainSample(source: SampleSource, index: number, target: Size, rng: Rng, options: SampleOptions): Promise<TrainSample> {
  const { hyp } = options;
  let image: RgbImage;
  let rows: Float64Array;
  let shape: SampleShape | null = null;
  if (options.mosaic && rng.chance(hyp.mosaic)) {
    ({ image, rows } = await loadMosaic(source, index, rng, options));
    if (rng.chance(hyp.mixup)) {
      const other = await loadMosaic(source, rng.int(0, source.count - 1), rng, options);
      image = blendImages(image, other.image, sampleBeta(rng, MIXUP_ALPHA, MIXUP_ALPHA));
      rows = concatRows([rows, other.rows]);
    }
  } else {
    ({ image, rows, shape } = await loadLetterboxed(source, index, target, rng, options));
  }

  const labels = pixelXyxyToXywhn(rows, image.width, image.height);
  if (options.augment) {
    if (hyp.hsv_h || hyp.hsv_s || hyp.hsv_v) augmentHsv(image, drawHsvGains(rng, hyp));
    if (rng.chance(hyp.flipud)) flipUpDown(image, labels);
    if (rng.chance(hyp.fliplr)) flipLeftRight(image, labels);
  }
  return { image, labels, shape };
}
