// A picture of a batch (YOLOv5's train_batch0.jpg, val_batch0_labels.jpg, val_batch0_pred.jpg): up to 16 images in a
// square grid, filled column by column, each with its boxes and class names (and confidences for predictions),
// scaled to fit 1920 pixels.
import { basename } from 'node:path';
import sharp from 'sharp';
import { annotationSvg, type AnnotationBox } from './draw.js';
import type { Tensor } from '../torch/index.js';
import type { RgbImage } from '../data/image.js';

const MAX_SIZE = 1920;
const MAX_IMAGES = 16;
/** Predictions at or below this confidence are left out of the picture, as YOLOv5's plot_images does. */
const PREDICTION_CONF = 0.25;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Tile `i`'s top-left corner: the grid fills column by column, as YOLOv5's does. */
function tileOrigin(i: number, columns: number, w: number, h: number): [number, number] {
  return [w * Math.floor(i / columns), h * (i % columns)];
}

/** Lays out the first `count` images [B, 3, H, W] in [0, 1] on a white square grid. */
function gridOf(images: Tensor, count: number, columns: number): RgbImage {
  const [, , h, w] = images.shape as [number, number, number, number];
  const values = images.data() as Float32Array;
  const width = columns * w;
  const height = columns * h;
  const data = new Uint8Array(width * height * 3).fill(255);
  const plane = h * w;
  for (let i = 0; i < count; i++) {
    const [x0, y0] = tileOrigin(i, columns, w, h);
    const base = i * 3 * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y) * width + x0 + x) * 3;
        const p = base + y * w + x;
        data[o] = Math.round(values[p]! * 255);
        data[o + 1] = Math.round(values[p + plane]! * 255);
        data[o + 2] = Math.round(values[p + 2 * plane]! * 255);
      }
    }
  }
  return { data, width, height };
}

export interface DrawBatchOptions {
  /** Image files of the batch; their names are written on the tiles. */
  paths?: readonly string[];
}

/**
 * Saves a batch (images float [B, 3, H, W] in [0, 1]; targets [N, 6]: image, class, cx, cy, w, h normalised, or
 * [N, 7] predictions with their confidence last) as a labelled grid picture at `path` (format from the extension).
 */
export async function drawBatch(images: Tensor, targets: Tensor, names: readonly string[], path: string, options: DrawBatchOptions = {}): Promise<void> {
  if (images.ndim !== 4 || images.shape[1] !== 3) throw new RangeError(`drawBatch: images must be [B, 3, H, W], got [${images.shape.join(', ')}]`);
  const rowLength = targets.shape[1];
  if (targets.ndim !== 2 || (rowLength !== 6 && rowLength !== 7)) {
    throw new RangeError(`drawBatch: targets must be [N, 6] or [N, 7], got [${targets.shape.join(', ')}]`);
  }
  const [batch, , h, w] = images.shape as [number, number, number, number];
  const count = Math.min(batch, MAX_IMAGES);
  const columns = Math.ceil(Math.sqrt(count));
  const grid = gridOf(images, count, columns);

  const boxes: AnnotationBox[] = [];
  const rows = targets.data() as Float32Array;
  for (let r = 0; r < rows.length; r += rowLength) {
    const i = rows[r]!;
    const confidence = rowLength === 7 ? rows[r + 6]! : undefined;
    if (i >= count || (confidence !== undefined && confidence <= PREDICTION_CONF)) continue;
    const [x0, y0] = tileOrigin(i, columns, w, h);
    const [cx, cy, bw, bh] = [rows[r + 2]! * w + x0, rows[r + 3]! * h + y0, rows[r + 4]! * w, rows[r + 5]! * h];
    const classId = Math.round(rows[r + 1]!);
    const name = names[classId] ?? String(classId);
    const label = confidence === undefined ? name : `${name} ${confidence.toFixed(1)}`;
    boxes.push({ x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2, classId, label });
  }
  // Sizes as YOLOv5 picks them for the grid (text 1% of its perimeter-ish, lines a tenth of that).
  const fontSize = Math.max(10, Math.round((h + w) * columns * 0.01));
  const tiles: string[] = [];
  for (let i = 0; i < count; i++) {
    const [x0, y0] = tileOrigin(i, columns, w, h);
    tiles.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="white" stroke-width="2"/>`);
    const file = options.paths?.[i];
    if (file) tiles.push(`<text x="${x0 + 5}" y="${y0 + 5 + fontSize}" fill="rgb(220,220,220)">${escapeXml(basename(file).slice(0, 40))}</text>`);
  }
  const frame = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}">${tiles.join('')}</svg>`;

  const composed = await sharp(grid.data, { raw: { width: grid.width, height: grid.height, channels: 3 } })
    .composite([
      { input: Buffer.from(annotationSvg(grid.width, grid.height, boxes, { lineWidth: Math.max(1, Math.round(fontSize / 10)) })), top: 0, left: 0 },
      { input: Buffer.from(frame), top: 0, left: 0 },
    ])
    .png()
    .toBuffer();
  const scale = MAX_SIZE / columns / Math.max(h, w);
  const output = sharp(composed);
  if (scale < 1) output.resize(Math.ceil(scale * w) * columns, Math.ceil(scale * h) * columns);
  await output.toFile(path);
}
