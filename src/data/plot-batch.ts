// A picture of a training batch (YOLOv5's train_batch0.jpg): up to 16 images in a square grid, filled column by
// column, each with its label boxes and class names, scaled to fit 1920 pixels.
import { basename } from 'node:path';
import sharp from 'sharp';
import type { Tensor } from '../torch/index.js';

const MAX_SIZE = 1920;
const MAX_IMAGES = 16;

/** The Ultralytics class colour palette. */
const PALETTE = [
  'FF3838', 'FF9D97', 'FF701F', 'FFB21D', 'CFD231', '48F90A', '92CC17', '3DDB86', '1A9334', '00D4BB',
  '2C99A8', '00C2FF', '344593', '6473FF', '0018EC', '8438FF', '520085', 'CB38FF', 'FF95C8', 'FF37C7',
];

export function classColour(cls: number): string {
  return `#${PALETTE[cls % PALETTE.length]}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Lays out images [B, 3, H, W] in [0, 1] as an RGB grid; returns the grid and its geometry. */
function gridOf(images: Tensor, count: number, columns: number): { pixels: Buffer; width: number; height: number } {
  const [, , h, w] = images.shape as [number, number, number, number];
  const data = images.data() as Float32Array;
  const width = columns * w;
  const height = columns * h;
  const pixels = Buffer.alloc(width * height * 3, 255);
  const plane = h * w;
  for (let i = 0; i < count; i++) {
    const x0 = w * Math.floor(i / columns);
    const y0 = h * (i % columns);
    const base = i * 3 * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y) * width + x0 + x) * 3;
        const p = base + y * w + x;
        pixels[o] = Math.round(data[p]! * 255);
        pixels[o + 1] = Math.round(data[p + plane]! * 255);
        pixels[o + 2] = Math.round(data[p + 2 * plane]! * 255);
      }
    }
  }
  return { pixels, width, height };
}

export interface DrawBatchOptions {
  /** Image files of the batch; their names are written on the tiles. */
  paths?: readonly string[];
}

/**
 * Saves a batch (images float [B, 3, H, W] in [0, 1]; targets [N, 6]: image, class, cx, cy, w, h normalised) as a
 * labelled grid picture at `path` (format from the extension, e.g. .jpg).
 */
export async function drawBatch(images: Tensor, targets: Tensor, names: readonly string[], path: string, options: DrawBatchOptions = {}): Promise<void> {
  if (images.ndim !== 4 || images.shape[1] !== 3) throw new RangeError(`drawBatch: images must be [B, 3, H, W], got [${images.shape.join(', ')}]`);
  if (targets.ndim !== 2 || targets.shape[1] !== 6) throw new RangeError(`drawBatch: targets must be [N, 6], got [${targets.shape.join(', ')}]`);
  const [batch, , h, w] = images.shape as [number, number, number, number];
  const count = Math.min(batch, MAX_IMAGES);
  const columns = Math.ceil(Math.sqrt(count));
  const grid = gridOf(images, count, columns);

  const font = Math.max(10, Math.round((h + w) * columns * 0.01));
  const line = Math.max(1, Math.round(font / 10));
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const x0 = w * Math.floor(i / columns);
    const y0 = h * (i % columns);
    parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="white" stroke-width="2"/>`);
    const file = options.paths?.[i];
    if (file) parts.push(`<text x="${x0 + 5}" y="${y0 + 5 + font}" fill="rgb(220,220,220)">${escapeXml(basename(file).slice(0, 40))}</text>`);
  }
  const rows = targets.data() as Float32Array;
  for (let r = 0; r < rows.length; r += 6) {
    const i = rows[r]!;
    if (i >= count) continue;
    const cls = Math.round(rows[r + 1]!);
    const [cx, cy, bw, bh] = [rows[r + 2]! * w, rows[r + 3]! * h, rows[r + 4]! * w, rows[r + 5]! * h];
    const x = w * Math.floor(i / columns) + cx - bw / 2;
    const y = h * (i % columns) + cy - bh / 2;
    const colour = classColour(cls);
    const label = escapeXml(names[cls] ?? String(cls));
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${line}"/>`,
      `<rect x="${x.toFixed(1)}" y="${(y - font).toFixed(1)}" width="${(label.length * font * 0.6).toFixed(1)}" height="${font}" fill="${colour}"/>`,
      `<text x="${x.toFixed(1)}" y="${(y - font * 0.2).toFixed(1)}" fill="white">${label}</text>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${grid.width}" height="${grid.height}" font-family="sans-serif" font-size="${font}">${parts.join('')}</svg>`;

  const composed = await sharp(grid.pixels, { raw: { width: grid.width, height: grid.height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  const scale = MAX_SIZE / columns / Math.max(h, w);
  const output = sharp(composed);
  if (scale < 1) output.resize(Math.ceil(scale * w) * columns, Math.ceil(scale * h) * columns);
  await output.toFile(path);
}
