// Cropping detected objects out of their image, as YOLOv5's save_one_box: the box grown a little, clipped, saved as JPEG.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../data/image.js';
import { number } from '../util/check.js';

export interface CropRegionOptions {
  /** Factor on the box's width and height. Default 1.02, as YOLOv5. */
  gain?: number;
  /** Pixels added to the width and height (half on each side) after the gain. Default 10, as YOLOv5. */
  pad?: number;
  /** Grow the short side to the long one first, for square crops (where the image allows). Default false. */
  square?: boolean;
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

interface Corners {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function checkCropOptions(options: CropRegionOptions): void {
  const { gain = 1.02, pad = 10 } = options;
  number('crop gain', gain, { min: 0, minExclusive: true });
  number('crop pad', pad, { min: 0 });
}

/**
 * The whole-pixel region of a box grown by `gain` and `pad` around its centre, clipped to the image; null where
 * nothing of it is left. Corners are truncated toward zero, as YOLOv5 does (`.long()`).
 */
export function cropRegion(box: Corners, image: { width: number; height: number }, options: CropRegionOptions = {}): Region | null {
  const { gain = 1.02, pad = 10, square = false } = options;
  const [cx, cy] = [(box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2];
  let [w, h] = [box.x2 - box.x1, box.y2 - box.y1];
  if (square) w = h = Math.max(w, h);
  [w, h] = [w * gain + pad, h * gain + pad];
  const clip = (v: number, max: number) => Math.min(Math.max(Math.trunc(v), 0), max);
  const [x1, y1] = [clip(cx - w / 2, image.width), clip(cy - h / 2, image.height)];
  const [x2, y2] = [clip(cx + w / 2, image.width), clip(cy + h / 2, image.height)];
  return x2 > x1 && y2 > y1 ? { left: x1, top: y1, width: x2 - x1, height: y2 - y1 } : null;
}

/** The pixels of a region, copied out row by row (the source image stays as it is). */
export function cropPixels(image: RgbImage, region: Region): RgbImage {
  const { left, top, width, height } = region;
  const data = new Uint8Array(width * height * 3);
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + row), y * row);
  }
  return { data, width, height };
}

/** A class name or stem as one file or folder name: no path separators, not `.` or `..` (class names come from the model file). */
export function safeName(name: string): string {
  const safe = name.replace(/[/\\\0]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe;
}

/**
 * Saves a crop as `dir/stem.jpg`, or the first free `dir/stem2.jpg`, `dir/stem3.jpg`, ... (YOLOv5's increment_path),
 * JPEG quality 95 without chroma subsampling as save_one_box writes it. Returns the file written. The file is created
 * exclusively, so crops saved at the same time into one folder never take the same name.
 */
export async function saveCrop(crop: RgbImage, dir: string, stem: string): Promise<string> {
  const jpeg = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .toBuffer();
  await mkdir(dir, { recursive: true });
  for (let n = 1; ; n++) {
    const file = join(dir, `${stem}${n === 1 ? '' : n}.jpg`);
    try {
      await writeFile(file, jpeg, { flag: 'wx' });
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot save crop ${file}: ${(error as Error).message}`);
    }
  }
}
