// Label rows in the two forms augmentation needs: normalised [class, cx, cy, w, h] as stored in label files, and
// pixel [class, x1, y1, x2, y2] while images are being warped.

/** Values per label row in both forms. */
export const ROW = 5;

/** Normalised xywh rows to pixel xyxy rows on an image of `width`×`height` placed at (`padX`, `padY`). */
export function xywhnToPixelXyxy(labels: Float32Array, width: number, height: number, padX = 0, padY = 0): Float64Array {
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i += ROW) {
    const cx = labels[i + 1]!;
    const cy = labels[i + 2]!;
    const halfW = labels[i + 3]! / 2;
    const halfH = labels[i + 4]! / 2;
    out[i] = labels[i]!;
    out[i + 1] = width * (cx - halfW) + padX;
    out[i + 2] = height * (cy - halfH) + padY;
    out[i + 3] = width * (cx + halfW) + padX;
    out[i + 4] = height * (cy + halfH) + padY;
  }
  return out;
}

/**
 * Pixel xyxy rows back to normalised xywh on a `width`×`height` image. Corners are clipped to the image (YOLOv5
 * keeps them 1e-3 pixel inside), and boxes left without area are dropped.
 */
export function pixelXyxyToXywhn(rows: Float64Array, width: number, height: number): Float32Array {
  const maxX = width - 1e-3;
  const maxY = height - 1e-3;
  const kept: number[] = [];
  for (let i = 0; i < rows.length; i += ROW) {
    const x1 = Math.min(Math.max(rows[i + 1]!, 0), maxX);
    const y1 = Math.min(Math.max(rows[i + 2]!, 0), maxY);
    const x2 = Math.min(Math.max(rows[i + 3]!, 0), maxX);
    const y2 = Math.min(Math.max(rows[i + 4]!, 0), maxY);
    if (x2 <= x1 || y2 <= y1) continue;
    kept.push(rows[i]!, (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height);
  }
  return Float32Array.from(kept);
}

/** Clips pixel xyxy rows in place to [0, width] × [0, height]. */
export function clipPixelXyxy(rows: Float64Array, width: number, height: number): void {
  for (let i = 0; i < rows.length; i += ROW) {
    rows[i + 1] = Math.min(Math.max(rows[i + 1]!, 0), width);
    rows[i + 2] = Math.min(Math.max(rows[i + 2]!, 0), height);
    rows[i + 3] = Math.min(Math.max(rows[i + 3]!, 0), width);
    rows[i + 4] = Math.min(Math.max(rows[i + 4]!, 0), height);
  }
}

/** Concatenates row arrays. */
export function concatRows(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
