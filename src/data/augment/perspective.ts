// YOLOv5's random_perspective: one matrix combining perspective, rotation + scale, shear and translation about the
// image centre; the image is warped with it, label boxes are warped by their corners, clipped, and boxes that lost
// too much of themselves are dropped (box_candidates).
import type { RgbImage } from '../image.js';
import type { Size } from '../letterbox.js';
import type { Rng } from '../../util/random.js';
import { ROW } from './boxes.js';
import type { AugmentHyp } from './hyp.js';
import { isIdentity, multiply, warpImage, type Matrix3 } from './warp.js';

export const BORDER_VALUE = 114;

export interface PerspectiveParams {
  /** Perspective terms (the matrix's bottom row). */
  perspectiveX: number;
  perspectiveY: number;
  /** Rotation in degrees, counter-clockwise as displayed. */
  degrees: number;
  scale: number;
  /** Shear angles in degrees. */
  shearX: number;
  shearY: number;
  /** Where the image centre lands, as a fraction of the output size (0.5 = centred). */
  centreX: number;
  centreY: number;
}

export const IDENTITY_PERSPECTIVE: Readonly<PerspectiveParams> = Object.freeze({
  perspectiveX: 0,
  perspectiveY: 0,
  degrees: 0,
  scale: 1,
  shearX: 0,
  shearY: 0,
  centreX: 0.5,
  centreY: 0.5,
});

type GeometryHyp = Pick<AugmentHyp, 'degrees' | 'translate' | 'scale' | 'shear' | 'perspective'>;

/** Draws the parameters in YOLOv5's order: perspective, rotation, scale, shear, translation. */
export function drawPerspective(rng: Rng, hyp: GeometryHyp): PerspectiveParams {
  const perspectiveX = rng.uniform(-hyp.perspective, hyp.perspective);
  const perspectiveY = rng.uniform(-hyp.perspective, hyp.perspective);
  const degrees = rng.uniform(-hyp.degrees, hyp.degrees);
  const scale = rng.uniform(1 - hyp.scale, 1 + hyp.scale);
  const shearX = rng.uniform(-hyp.shear, hyp.shear);
  const shearY = rng.uniform(-hyp.shear, hyp.shear);
  const centreX = rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate);
  const centreY = rng.uniform(0.5 - hyp.translate, 0.5 + hyp.translate);
  return { perspectiveX, perspectiveY, degrees, scale, shearX, shearY, centreX, centreY };
}

/** Source pixel coordinates (of an `input`-sized image) to output pixel coordinates. */
export function perspectiveMatrix(params: PerspectiveParams, input: Size, output: Size): Matrix3 {
  const centre: Matrix3 = [1, 0, -input.width / 2, 0, 1, -input.height / 2, 0, 0, 1];
  const perspective: Matrix3 = [1, 0, 0, 0, 1, 0, params.perspectiveX, params.perspectiveY, 1];
  const angle = (params.degrees * Math.PI) / 180;
  const a = params.scale * Math.cos(angle);
  const b = params.scale * Math.sin(angle);
  const rotation: Matrix3 = [a, b, 0, -b, a, 0, 0, 0, 1];
  const tanX = Math.tan((params.shearX * Math.PI) / 180);
  const tanY = Math.tan((params.shearY * Math.PI) / 180);
  const shear: Matrix3 = [1, tanX, 0, tanY, 1, 0, 0, 0, 1];
  const translation: Matrix3 = [1, 0, params.centreX * output.width, 0, 1, params.centreY * output.height, 0, 0, 1];
  return multiply(translation, multiply(shear, multiply(rotation, multiply(perspective, centre))));
}

/**
 * Whether an augmented box is still worth learning from (YOLOv5 box_candidates): wider and taller than 2 pixels,
 * keeping over 10% of its (scaled) area, and not thinner than 1:100.
 */
export function isBoxCandidate(before: { w: number; h: number }, after: { w: number; h: number }): boolean {
  const eps = 1e-16;
  const aspect = Math.max(after.w / (after.h + eps), after.h / (after.w + eps));
  return after.w > 2 && after.h > 2 && (after.w * after.h) / (before.w * before.h + eps) > 0.1 && aspect < 100;
}

/** Warps pixel xyxy label rows by their four corners, clips them to the output and keeps the candidates. */
export function warpBoxes(rows: Float64Array, matrix: Matrix3, output: Size, scale: number): Float64Array {
  const kept: number[] = [];
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = matrix;
  for (let i = 0; i < rows.length; i += ROW) {
    const x1 = rows[i + 1]!;
    const y1 = rows[i + 2]!;
    const x2 = rows[i + 3]!;
    const y2 = rows[i + 4]!;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (const [x, y] of [[x1, y1], [x2, y2], [x1, y2], [x2, y1]] as const) {
      const w = m6 * x + m7 * y + m8;
      const u = (m0 * x + m1 * y + m2) / w;
      const v = (m3 * x + m4 * y + m5) / w;
      minX = Math.min(minX, u);
      maxX = Math.max(maxX, u);
      minY = Math.min(minY, v);
      maxY = Math.max(maxY, v);
    }
    const nx1 = Math.min(Math.max(minX, 0), output.width);
    const nx2 = Math.min(Math.max(maxX, 0), output.width);
    const ny1 = Math.min(Math.max(minY, 0), output.height);
    const ny2 = Math.min(Math.max(maxY, 0), output.height);
    const before = { w: (x2 - x1) * scale, h: (y2 - y1) * scale };
    if (isBoxCandidate(before, { w: nx2 - nx1, h: ny2 - ny1 })) kept.push(rows[i]!, nx1, ny1, nx2, ny2);
  }
  return Float64Array.from(kept);
}

export interface Warped {
  image: RgbImage;
  /** Pixel xyxy label rows on the warped image. */
  rows: Float64Array;
}

/** Applies the geometric augmentation to an image and its pixel xyxy label rows, producing an `output`-sized image. */
export function randomPerspective(image: RgbImage, rows: Float64Array, params: PerspectiveParams, output: Size): Warped {
  const matrix = perspectiveMatrix(params, image, output);
  const unchanged = isIdentity(matrix) && output.width === image.width && output.height === image.height;
  return {
    image: unchanged ? image : warpImage(image, matrix, output.width, output.height, BORDER_VALUE),
    rows: warpBoxes(rows, matrix, output, params.scale),
  };
}
