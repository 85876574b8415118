// Detections of one image as plain data, plus what detect.py prints and saves for them.
import type { Sharp } from 'sharp';
import type { RgbImage } from '../data/image.js';
import { labelLine } from '../data/labels.js';
import { annotateImage, annotatePixels, type AnnotationBox, type DrawOptions } from '../plot/draw.js';

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
    /** The decoded original image (for drawing). */
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

  /** The image with the boxes drawn, as raw RGB pixels (video frames). */
  drawPixels(options: LabelOptions = {}): Promise<RgbImage> {
    return annotatePixels(this.image, this.drawingOrder(options), options);
  }

  /** Weakest first, so the most confident boxes end up on top, as detect.py draws them. */
  private drawingOrder(options: LabelOptions): AnnotationBox[] {
    return this.annotationBoxes(options).reverse();
  }

  toJSON(): { source: string; imageSize: Size; inputSize: Size; timings: Timings; boxes: Box[] } {
    return { source: this.source, imageSize: this.imageSize, inputSize: this.inputSize, timings: this.timings, boxes: this.boxes };
  }
}
