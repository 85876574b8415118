// Boxes and labels drawn on images: an SVG overlay composited with sharp (raster-draw.ts draws the same placement
// into video frames' pixels). The look follows YOLOv5's Annotator (utils/plots.py): one colour per class from the
// Ultralytics palette, a filled label tag with white text above the box (inside it when there is no room above),
// line width from the image size unless given.
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

const FONT_FAMILY = 'DejaVu Sans, Arial, Helvetica, sans-serif';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Sizes of the label tags at a line width: text as tall as cv2's Hershey font at scale lw/3 (about 22 px at 1). */
export interface TagLayout {
  fontSize: number;
  tagHeight: number;
  /** The advance per character that tag widths assume. */
  charWidth: number;
}

export function tagLayout(lineWidth: number): TagLayout {
  const fontSize = Math.max(lineWidth * 8, 10);
  return { fontSize, tagHeight: Math.round(fontSize * 1.15), charWidth: fontSize * 0.56 };
}

/** Where a box's outline and label tag go, in whole pixels; the tag sits above the box, inside when there is no room. */
export function boxPlacement(b: AnnotationBox, lineWidth: number, layout: TagLayout) {
  const [x1, y1] = [Math.round(b.x1), Math.round(b.y1)];
  const [w, h] = [Math.round(b.x2) - x1, Math.round(b.y2) - y1];
  const label = b.label ?? '';
  const top = y1 - layout.tagHeight >= 3 ? y1 - layout.tagHeight : y1;
  const tag = label ? { x: x1, y: top, width: Math.round(label.length * layout.charWidth + lineWidth), height: layout.tagHeight } : null;
  // The text's left end and baseline.
  const text = { x: x1 + Math.round(lineWidth / 2), baseline: top + Math.round(layout.tagHeight * 0.8) };
  return { x1, y1, w, h, label, tag, text };
}

/** An SVG of the image's size holding the boxes and label tags (transparent elsewhere). */
export function annotationSvg(width: number, height: number, boxes: readonly AnnotationBox[], options: DrawOptions = {}): string {
  const lw = options.lineWidth ?? defaultLineWidth(width, height);
  const layout = tagLayout(lw);
  const shapes = boxes.map((b) => {
    const color = classColor(b.classId);
    const { x1, y1, w, h, label, tag, text } = boxPlacement(b, lw, layout);
    let svg = `<rect x="${x1}" y="${y1}" width="${w}" height="${h}" fill="none" stroke="${color}" stroke-width="${lw}"/>`;
    if (tag) {
      svg +=
        `<rect x="${tag.x}" y="${tag.y}" width="${tag.width}" height="${tag.height}" fill="${color}"/>` +
        `<text x="${text.x}" y="${text.baseline}">${escapeXml(label)}</text>`;
    }
    return svg;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="${FONT_FAMILY}" font-size="${layout.fontSize}" fill="#FFFFFF">${shapes.join('')}</g></svg>`
  );
}

/** The image with boxes drawn, as a sharp pipeline (write it with toFile(), or raw() for video frames). */
export function annotateImage(image: RgbImage, boxes: readonly AnnotationBox[], options: DrawOptions = {}): Sharp {
  const overlay = Buffer.from(annotationSvg(image.width, image.height, boxes, options));
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).composite([{ input: overlay, top: 0, left: 0 }]);
}
