// Boxes and labels drawn straight into RGB pixels, for video frames: the same placement and colours as the SVG
// overlay of draw.ts, at about a millisecond a 1280×720 frame where compositing the SVG with sharp took 24 ms of CPU
// (rendering the whole overlay, then blending every pixel). Only the glyphs come from sharp: each character is
// rendered once per text size, white on transparent, and its coverage kept for blending. The text is monospaced
// (DejaVu Sans Mono at the advance the tags' widths assume), so a label fits its tag exactly.
import sharp from 'sharp';
import type { RgbImage } from '../data/image.js';
import { type AnnotationBox, type DrawOptions, type TagLayout, boxPlacement, classColor, defaultLineWidth, escapeXml, tagLayout } from './draw.js';

/** DejaVu Sans Mono's advance is 1233/2048 of its size. */
const MONO_ADVANCE = 1233 / 2048;

/** A character's coverage (0..255) over a cell of the tag's height and one advance wide. */
interface Glyph {
  width: number;
  height: number;
  coverage: Uint8Array;
}

/** Glyphs by text size, then by character; filled as labels bring new characters. */
const glyphCache = new Map<number, Map<string, Glyph>>();

async function glyphsFor(text: string, layout: TagLayout): Promise<Map<string, Glyph>> {
  const glyphs = glyphCache.get(layout.fontSize) ?? new Map<string, Glyph>();
  glyphCache.set(layout.fontSize, glyphs);
  const missing = [...new Set(text)].filter((c) => !glyphs.has(c));
  if (missing.length === 0) return glyphs;
  // One render for all the characters missing, each in a cell of its own.
  const cell = Math.max(Math.ceil(layout.charWidth), 1);
  const baseline = Math.round(layout.tagHeight * 0.8);
  const fontSize = layout.charWidth / MONO_ADVANCE;
  const texts = missing.map((c, i) => `<text x="${i * cell}" y="${baseline}">${escapeXml(c)}</text>`).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${missing.length * cell}" height="${layout.tagHeight}">` +
    `<g font-family="DejaVu Sans Mono, monospace" font-size="${fontSize}" fill="#FFFFFF" xml:space="preserve">${texts}</g></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  missing.forEach((c, i) => {
    const coverage = new Uint8Array(cell * info.height);
    for (let y = 0; y < info.height; y++) coverage.set(data.subarray(y * info.width + i * cell, y * info.width + (i + 1) * cell), y * cell);
    glyphs.set(c, { width: cell, height: info.height, coverage });
  });
  return glyphs;
}

function rgb(classId: number): [number, number, number] {
  const hex = Number.parseInt(classColor(classId).slice(1), 16);
  return [hex >> 16, (hex >> 8) & 0xff, hex & 0xff];
}

/** Fills the part of [x0, x1) × [y0, y1) inside the image. */
function fill(image: RgbImage, x0: number, y0: number, x1: number, y1: number, [r, g, b]: [number, number, number]): void {
  const [left, right] = [Math.max(x0, 0), Math.min(x1, image.width)];
  const [top, bottom] = [Math.max(y0, 0), Math.min(y1, image.height)];
  const { data, width } = image;
  for (let y = top; y < bottom; y++) {
    for (let p = (y * width + left) * 3, end = (y * width + right) * 3; p < end; p += 3) {
      data[p] = r;
      data[p + 1] = g;
      data[p + 2] = b;
    }
  }
}

/** White text blended by each glyph's coverage, cells starting at (x, top), clipped to the image. */
function blendText(image: RgbImage, text: string, x: number, top: number, glyphs: Map<string, Glyph>, layout: TagLayout): void {
  const { data, width, height } = image;
  [...text].forEach((c, i) => {
    const glyph = glyphs.get(c)!;
    const left = x + Math.round(i * layout.charWidth);
    for (let gy = 0; gy < glyph.height; gy++) {
      const y = top + gy;
      if (y < 0 || y >= height) continue;
      for (let gx = 0; gx < glyph.width; gx++) {
        const a = glyph.coverage[gy * glyph.width + gx]!;
        const px = left + gx;
        if (a === 0 || px < 0 || px >= width) continue;
        for (let p = (y * width + px) * 3, k = 0; k < 3; k++) data[p + k]! += ((255 - data[p + k]!) * a) / 255;
      }
    }
  });
}

/**
 * The image with boxes drawn, as a new RGB image (the image itself is left as it is: crops are cut from it). Boxes
 * are drawn in the order given, each outline centred on the box's edges as an SVG stroke is.
 */
export async function annotatePixels(image: RgbImage, boxes: readonly AnnotationBox[], options: DrawOptions = {}): Promise<RgbImage> {
  const lw = options.lineWidth ?? defaultLineWidth(image.width, image.height);
  const layout = tagLayout(lw);
  const glyphs = await glyphsFor(boxes.map((b) => b.label ?? '').join(''), layout);
  const out: RgbImage = { data: image.data.slice(), width: image.width, height: image.height };
  const [before, after] = [Math.floor(lw / 2), Math.ceil(lw / 2)];
  for (const box of boxes) {
    const color = rgb(box.classId);
    const { x1, y1, w, h, label, tag, text } = boxPlacement(box, lw, layout);
    const [x2, y2] = [x1 + w, y1 + h];
    fill(out, x1 - before, y1 - before, x2 + after, y1 + after, color);
    fill(out, x1 - before, y2 - before, x2 + after, y2 + after, color);
    fill(out, x1 - before, y1 - before, x1 + after, y2 + after, color);
    fill(out, x2 - before, y1 - before, x2 + after, y2 + after, color);
    if (!tag) continue;
    fill(out, tag.x, tag.y, tag.x + tag.width, tag.y + tag.height, color);
    blendText(out, label, text.x, tag.y, glyphs, layout);
  }
  return out;
}
