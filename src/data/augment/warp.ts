// Geometric warps of RGB images by a 3×3 matrix (cv2.warpAffine / cv2.warpPerspective with bilinear sampling and a
// constant border). Like OpenCV, source positions are quantised to 1/32 pixel and taps that fall outside the
// source read the border value, so edges blend into it instead of smearing the last row.
import type { RgbImage } from '../image.js';

/** Row-major 3×3 matrix. */
export type Matrix3 = readonly [number, number, number, number, number, number, number, number, number];

export const IDENTITY: Matrix3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out.push(a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!);
  }
  return out as unknown as Matrix3;
}

export function invert(m: Matrix3): Matrix3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('warp matrix is singular');
  const k = 1 / det;
  return [
    A * k, -(b * i - c * h) * k, (b * f - c * e) * k,
    B * k, (a * i - c * g) * k, -(a * f - c * d) * k,
    C * k, -(a * h - b * g) * k, (a * e - b * d) * k,
  ];
}

export function isIdentity(m: Matrix3): boolean {
  return m.every((v, i) => v === IDENTITY[i]);
}

const SUBPIXEL_BITS = 5;
const SUBPIXEL = 1 << SUBPIXEL_BITS;
/** OpenCV's warpAffine steps source positions in 1/1024 pixel before reducing them to 1/32. */
const AFFINE_BITS = 10;
const AFFINE_SCALE = 1 << AFFINE_BITS;
/** Positions beyond this many 1/1024 pixels are far outside any image; clamping keeps sums in 32 bits. */
const AFFINE_LIMIT = 2 ** 29;

function fixedPoint(value: number): number {
  return Math.min(Math.max(Math.round(value * AFFINE_SCALE), -AFFINE_LIMIT), AFFINE_LIMIT);
}

/**
 * Warps `src` into a `width`×`height` image: output pixel (x, y) samples the source at the point the matrix maps
 * onto (x, y), i.e. `matrix` maps source coordinates to output coordinates, as in OpenCV. Affine matrices
 * (bottom row 0 0 1) compute positions in OpenCV's fixed point, perspective ones in floating point, so both give
 * OpenCV's pixels.
 */
export function warpImage(src: RgbImage, matrix: Matrix3, width: number, height: number, border: number): RgbImage {
  const affine = matrix[6] === 0 && matrix[7] === 0 && matrix[8] === 1;
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = invert(matrix);
  const out = new Uint8Array(width * height * 3);
  const { data, width: sw, height: sh } = src;
  const rowBytes = sw * 3;
  const half = 1 << (2 * SUBPIXEL_BITS - 1);
  const shift = 2 * SUBPIXEL_BITS;
  const mask = SUBPIXEL - 1;
  const toSubpixel = AFFINE_BITS - SUBPIXEL_BITS;
  const stepX = new Int32Array(affine ? width : 0);
  const stepY = new Int32Array(affine ? width : 0);
  for (let x = 0; x < stepX.length; x++) {
    stepX[x] = fixedPoint(a0 * x);
    stepY[x] = fixedPoint(a3 * x);
  }
  const rounding = 1 << (toSubpixel - 1);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const rowX = fixedPoint(a1 * y + a2) + rounding;
    const rowY = fixedPoint(a4 * y + a5) + rounding;
    let xs = a1 * y + a2;
    let ys = a4 * y + a5;
    let ws = a7 * y + a8;
    for (let x = 0; x < width; x++, o += 3, xs += a0, ys += a3, ws += a6) {
      // Source position in 1/32 pixel.
      let qx: number;
      let qy: number;
      if (affine) {
        qx = (rowX + stepX[x]!) >> toSubpixel;
        qy = (rowY + stepY[x]!) >> toSubpixel;
      } else {
        const w = ws === 0 ? 0 : SUBPIXEL / ws;
        qx = Math.round(xs * w);
        qy = Math.round(ys * w);
      }
      // Also false for NaN; beyond these every tap is outside the source.
      if (!(qx > -SUBPIXEL && qy > -SUBPIXEL && qx < sw * SUBPIXEL && qy < sh * SUBPIXEL)) {
        out[o] = border;
        out[o + 1] = border;
        out[o + 2] = border;
        continue;
      }
      const x0 = qx >> SUBPIXEL_BITS;
      const y0 = qy >> SUBPIXEL_BITS;
      const fx = qx & mask;
      const fy = qy & mask;
      const w11 = fx * fy;
      const w01 = fx * SUBPIXEL - w11;
      const w10 = fy * SUBPIXEL - w11;
      const w00 = SUBPIXEL * SUBPIXEL - w01 - w10 - w11;
      const p = y0 * rowBytes + x0 * 3;
      const q = p + rowBytes;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
        out[o] = (data[p]! * w00 + data[p + 3]! * w01 + data[q]! * w10 + data[q + 3]! * w11 + half) >> shift;
        out[o + 1] = (data[p + 1]! * w00 + data[p + 4]! * w01 + data[q + 1]! * w10 + data[q + 4]! * w11 + half) >> shift;
        out[o + 2] = (data[p + 2]! * w00 + data[p + 5]! * w01 + data[q + 2]! * w10 + data[q + 5]! * w11 + half) >> shift;
        continue;
      }
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < sw;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < sh;
      for (let c = 0; c < 3; c++) {
        const v00 = inY0 && inX0 ? data[p + c]! : border;
        const v01 = inY0 && inX1 ? data[p + 3 + c]! : border;
        const v10 = inY1 && inX0 ? data[q + c]! : border;
        const v11 = inY1 && inX1 ? data[q + 3 + c]! : border;
        out[o + c] = (v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11 + half) >> shift;
      }
    }
  }
  return { data: out, width, height };
}
