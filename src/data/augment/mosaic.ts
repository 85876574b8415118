// YOLOv5's 4-image mosaic: a 2s×2s grey canvas split at a random centre; the four images meet there, each one
// anchored at the centre by its inner corner and cut off where it leaves the canvas.
import { createRgbImage, type RgbImage } from '../image.js';
import { BORDER_VALUE } from './perspective.js';
import { clipPixelXyxy, concatRows, xywhnToPixelXyxy } from './boxes.js';

export interface MosaicTile {
  /** The image at training size (long side = imgsz). */
  image: RgbImage;
  /** Its normalised [class, cx, cy, w, h] rows. */
  labels: Float32Array;
}

export interface Mosaic {
  image: RgbImage;
  /** Pixel xyxy label rows on the canvas, clipped to it. */
  rows: Float64Array;
}

interface Placement {
  /** Destination rectangle on the canvas. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Where the tile's own top-left corner lands (may be off-canvas). */
  offsetX: number;
  offsetY: number;
}

/** Tiles go top-left, top-right, bottom-left, bottom-right of the centre. */
function place(quadrant: number, w: number, h: number, cx: number, cy: number, side: number): Placement {
  const right = quadrant === 1 || quadrant === 3;
  const bottom = quadrant === 2 || quadrant === 3;
  const x1 = right ? cx : Math.max(cx - w, 0);
  const x2 = right ? Math.min(cx + w, side) : cx;
  const y1 = bottom ? cy : Math.max(cy - h, 0);
  const y2 = bottom ? Math.min(cy + h, side) : cy;
  return { x1, y1, x2, y2, offsetX: right ? cx : cx - w, offsetY: bottom ? cy : cy - h };
}

function copyRegion(tile: RgbImage, canvas: RgbImage, at: Placement): void {
  const width = at.x2 - at.x1;
  if (width <= 0) return;
  const srcX = at.x1 - at.offsetX;
  for (let y = at.y1; y < at.y2; y++) {
    const srcStart = ((y - at.offsetY) * tile.width + srcX) * 3;
    canvas.data.set(tile.data.subarray(srcStart, srcStart + width * 3), (y * canvas.width + at.x1) * 3);
  }
}

/** Assembles four tiles around the centre (`cx`, `cy`) of a (2·imgsz)² canvas. */
export function buildMosaic(tiles: readonly MosaicTile[], imgsz: number, cx: number, cy: number): Mosaic {
  if (tiles.length !== 4) throw new RangeError(`mosaic needs 4 images, got ${tiles.length}`);
  const side = 2 * imgsz;
  const canvas = createRgbImage(side, side, BORDER_VALUE);
  const parts = tiles.map(({ image, labels }, quadrant) => {
    const at = place(quadrant, image.width, image.height, cx, cy, side);
    copyRegion(image, canvas, at);
    return xywhnToPixelXyxy(labels, image.width, image.height, at.offsetX, at.offsetY);
  });
  const rows = concatRows(parts);
  clipPixelXyxy(rows, side, side);
  return { image: canvas, rows };
}
