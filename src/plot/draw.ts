// Boxes and labels drawn on images: an SVG overlay composited with sharp. The look follows YOLOv5's
// Annotator (utils/plots.py): one colour per class from the Ultralytics palette, a filled label tag with white
// text above the box (inside it when there is no room above), line width from the image size unless given.
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../data/image.js';

// The Ultralytics palette (utils/plots.py Colors), indexed by class modulo its length.
const PALETTE = [
  'FF3838', 'FF9D97', 'FF701F', 'FFB21D', 'CFD231', '48F90A', '92CC17', '3DDB86', '1A9334', '00D4BB',
  '2C99A8', '00C2FF', '344593', '6473FF', '0018EC', '8438FF', '520085', 'CB38FF', 'FF95C8', 'FF37C7',
];

/** The colour of a class as `#RRGGBB`. */
export function classColor(classId: number): string {
  return `#${PALETTE[((Math.trunc(classId) % PALETTE.length) + PALETTE.length) % PALETTE.length]}`;
}

export interface AnnotationBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Picks the colour. */
  classId: number;
  /** Text of the label tag; none drawn when absent or empty. */
  label?: string;
}

export interface DrawOptions {
  /** Box line width in pixels; default from the image size as in YOLOv5 (≥ 2). */
  lineWidth?: number;
}

/** YOLOv5's default line width: 0.3% of the mean image side, at least 2 pixels. */
export function defaultLineWidth(width: number, height: number): number {
  return Math.max(Math.round(((width + height + 3) / 2) * 0.003), 2);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** An SVG of the image's size holding the boxes and label tags (transparent elsewhere). */
export function annotationSvg(width: number, height: number, boxes: readonly AnnotationBox[], options: DrawOptions = {}): string {
  const lw = options.lineWidth ?? defaultLineWidth(width, height);
  // Text size as cv2's Hershey font at scale lw/3 (about 22 px tall at scale 1).
  const fontSize = Math.max(lw * 8, 10);
  const tagHeight = Math.round(fontSize * 1.15);
  const charWidth = fontSize * 0.56;
  const shapes = boxes.map((b) => {
    const color = classColor(b.classId);
    const [x1, y1] = [Math.round(b.x1), Math.round(b.y1)];
    const [w, h] = [Math.round(b.x2) - x1, Math.round(b.y2) - y1];
    let svg = `<rect x="${x1}" y="${y1}" width="${w}" height="${h}" fill="none" stroke="${color}" stroke-width="${lw}"/>`;
    if (b.label) {
      const outside = y1 - tagHeight >= 3;
      const top = outside ? y1 - tagHeight : y1;
      const tagWidth = Math.round(b.label.length * charWidth + lw);
      svg +=
        `<rect x="${x1}" y="${top}" width="${tagWidth}" height="${tagHeight}" fill="${color}"/>` +
        `<text x="${x1 + Math.round(lw / 2)}" y="${top + Math.round(tagHeight * 0.8)}">${escapeXml(b.label)}</text>`;
    }
    return svg;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${fontSize}" fill="#FFFFFF">${shapes.join('')}</g></svg>`
  );
}

/** The image with boxes drawn, as a sharp pipeline (write it with toFile(), or raw() for video frames). */
export function annotateImage(image: RgbImage, boxes: readonly AnnotationBox[], options: DrawOptions = {}): Sharp {
  const overlay = Buffer.from(annotationSvg(image.width, image.height, boxes, options));
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).composite([{ input: overlay, top: 0, left: 0 }]);
}

/** Annotated pixels as an RGB image (the overlay flattened onto the picture). */
export async function annotatePixels(image: RgbImage, boxes: readonly AnnotationBox[], options: DrawOptions = {}): Promise<RgbImage> {
  const { data, info } = await annotateImage(image, boxes, options).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`internal error: annotated image has ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
