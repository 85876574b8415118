// Detections of one image as plain data, plus what detect.py prints and saves for them.
import { join } from 'node:path';
import type { Sharp } from 'sharp';
import type { RgbImage } from '../data/image.js';
import { labelLine } from '../data/labels.js';
import { annotateImage, type AnnotationBox, type DrawOptions } from '../plot/draw.js';
import { annotatePixels } from '../plot/raster-draw.js';
import { checkCropOptions, cropPixels, cropRegion, safeName, saveCrop, type CropRegionOptions } from './crop.js';
import { sourceStem } from './input.js';

export interface Box {
  /** Corners in original-image pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** objectness × class probability */
  confidence: number;
  classId: number;
  className: string;
}

export interface Size {
  width: number;
  height: number;
}

/** Milliseconds per stage. */
export interface Timings {
  /** Reading and decoding the image (0 for raw pixels). */
  decode: number;
  /** Letterbox and conversion to the network's input. */
  preprocess: number;
  inference: number;
  /** Non-maximum suppression and scaling back to the original image. */
  nms: number;
}

export interface LabelOptions extends DrawOptions {
  hideLabels?: boolean;
  hideConf?: boolean;
}

export interface CropOptions extends CropRegionOptions {
  /** Also write each crop as a JPEG, `save/<class name>/<stem>.jpg` (then `<stem>2.jpg`, ...), as YOLOv5's crops folder. */
  save?: string;
  /** The file name stem of saved crops. Default: the source's (`bus` for `bus.jpg` or a URL ending in it), else `image`. */
  stem?: string;
}

/** One detected object cut out of its image. */
export interface Crop {
  box: Box;
  /** The region's pixels, a copy. */
  image: RgbImage;
  /** The JPEG written, when saving. */
  file?: string;
}

export class Detections {
  constructor(
    /** Path of the image, or a description for in-memory inputs. */
    readonly source: string,
    /** Best first. */
    readonly boxes: Box[],
    readonly imageSize: Size,
    /** The letterboxed network input. */
    readonly inputSize: Size,
    readonly timings: Timings,
    /** The decoded original image (for drawing and cropping; kept by reference, not copied). */
    readonly image: RgbImage,
  ) {}

  /** Counts per class in class order, as detect.py prints them: `4 persons, 1 bus`. */
  summary(): string {
    const counts = new Map<number, { name: string; n: number }>();
    for (const b of [...this.boxes].sort((p, q) => p.classId - q.classId)) {
      const entry = counts.get(b.classId) ?? { name: b.className, n: 0 };
      entry.n++;
      counts.set(b.classId, entry);
    }
    return [...counts.values()].map(({ name, n }) => `${n} ${name}${n > 1 ? 's' : ''}`).join(', ');
  }

  /** Lines of a YOLO label file: `class cx cy w h [conf]`, normalised to the image size. */
  labelLines(options: { saveConf?: boolean } = {}): string {
    return this.boxes.map((b) => labelLine(b.classId, b, this.imageSize, options.saveConf ? b.confidence : undefined)).join('');
  }

  /** Boxes with their label text (`name 0.87`), for drawing. */
  annotationBoxes(options: LabelOptions = {}): AnnotationBox[] {
    return this.boxes.map((b) => ({
      ...b,
      label: options.hideLabels ? undefined : options.hideConf ? b.className : `${b.className} ${b.confidence.toFixed(2)}`,
    }));
  }

  /** The image with the boxes drawn, as a sharp pipeline: `.toFile('out.jpg')`, `.png().toBuffer()`, ... */
  draw(options: LabelOptions = {}): Sharp {
    return annotateImage(this.image, this.drawingOrder(options), options);
  }

  /** The image with the boxes drawn, as raw RGB pixels in a new image (video frames: about 1 ms at 1280×720). */
  drawPixels(options: LabelOptions = {}): Promise<RgbImage> {
    return annotatePixels(this.image, this.drawingOrder(options), options);
  }

  /**
   * Each box's region of the image (YOLOv5's `crop()` / `save_one_box`): the box's width and height times `gain`
   * (1.02) plus `pad` (10 px), around its centre, optionally squared, clipped to the image; best box first. A box
   * that keeps no pixel after clipping gives no crop.
   */
  async crop(options: CropOptions = {}): Promise<Crop[]> {
    checkCropOptions(options);
    const stem = safeName(options.stem ?? sourceStem(this.source));
    const crops: Crop[] = [];
    for (const box of this.boxes) {
      const region = cropRegion(box, this.image, options);
      if (!region) continue;
      const image = cropPixels(this.image, region);
      const file = options.save === undefined ? undefined : await saveCrop(image, join(options.save, safeName(box.className)), stem);
      crops.push(file === undefined ? { box, image } : { box, image, file });
    }
    return crops;
  }

  /** Weakest first, so the most confident boxes end up on top, as detect.py draws them. */
  private drawingOrder(options: LabelOptions): AnnotationBox[] {
    return this.annotationBoxes(options).reverse();
  }

  toJSON(): { source: string; imageSize: Size; inputSize: Size; timings: Timings; boxes: Box[] } {
    return { source: this.source, imageSize: this.imageSize, inputSize: this.inputSize, timings: this.timings, boxes: this.boxes };
  }
}
