// AutoAnchor (official utils/autoanchor.py): measures how well the model's anchors fit the training labels
// (best possible recall: the share of labels that some anchor can take under the anchor_t ratio rule) and,
// when that is under 0.98, replaces them by k-means anchors refined with a genetic search.
import { noGrad, tensor, tidy } from '../torch/index.js';
import { createRng, type Rng } from '../util/random.js';
import type { DetectionModel } from '../model/yolo.js';

/** An image's size and its labels, rows of [class, cx, cy, w, h] normalised. */
export interface LabelledSize {
  width: number;
  height: number;
  labels: Float32Array;
}

/** Recall under which anchors are recomputed. */
export const BPR_THRESHOLD = 0.98;

/**
 * Label widths and heights in pixels at training size (long side = imgsz), interleaved [w0, h0, w1, h1, ...];
 * `jitter` multiplies each image's sizes by a factor from [1 − jitter, 1 + jitter] (like scale augmentation).
 */
export function labelSizes(images: readonly LabelledSize[], imgsz: number, jitter = 0, rng?: Rng): Float32Array {
  const out: number[] = [];
  for (const image of images) {
    const factor = jitter > 0 && rng ? rng.uniform(1 - jitter, 1 + jitter) : 1;
    const scale = (imgsz / Math.max(image.width, image.height)) * factor;
    for (let r = 0; r + 4 < image.labels.length; r += 5) {
      out.push(image.labels[r + 3]! * image.width * scale, image.labels[r + 4]! * image.height * scale);
    }
  }
  return Float32Array.from(out);
}

export interface AnchorFit {
  /** Best possible recall: share of labels whose best anchor passes the threshold. */
  bpr: number;
  /** Anchors past the threshold per label, on average. */
  anchorsPerTarget: number;
  /** Mean best-anchor ratio over labels that pass (the genetic search's fitness). */
  fitness: number;
}

/**
 * How anchors (pixels, interleaved [w, h, ...]) fit label sizes: for a label and an anchor the ratio is
 * min(r, 1/r) over width and height, r = label / anchor; a pair passes when the ratio exceeds 1 / anchorT.
 */
export function anchorFit(wh: Float32Array, anchors: ArrayLike<number>, anchorT: number): AnchorFit {
  const count = wh.length / 2;
  const na = anchors.length / 2;
  const threshold = 1 / anchorT;
  let recalled = 0;
  let above = 0;
  let fitness = 0;
  for (let i = 0; i < count; i++) {
    const w = wh[2 * i]!;
    const h = wh[2 * i + 1]!;
    let best = 0;
    for (let a = 0; a < na; a++) {
      const rw = w / anchors[2 * a]!;
      const rh = h / anchors[2 * a + 1]!;
      const x = Math.min(rw, 1 / rw, rh, 1 / rh);
      if (x > threshold) above++;
      if (x > best) best = x;
    }
    if (best > threshold) {
      recalled++;
      fitness += best;
    }
  }
  return count === 0 ? { bpr: 0, anchorsPerTarget: 0, fitness: 0 } : { bpr: recalled / count, anchorsPerTarget: above / count, fitness: fitness / count };
}

/** Lloyd's k-means on 2-D points; `restarts` random initialisations, the lowest distortion wins (scipy's kmeans). */
function kmeans(points: Float64Array, k: number, restarts: number, rng: Rng): Float64Array {
  const n = points.length / 2;
  let bestCentres = new Float64Array(0);
  let bestDistortion = Infinity;
  const assignment = new Int32Array(n);
  for (let run = 0; run < restarts; run++) {
    // Initial centres: k distinct points.
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng.next() * (n - i));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const centres = Float64Array.from(order.slice(0, k).flatMap((i) => [points[2 * i]!, points[2 * i + 1]!]));
    let previous = Infinity;
    for (let iteration = 0; iteration < 300; iteration++) {
      let distortion = 0;
      for (let i = 0; i < n; i++) {
        let nearest = 0;
        let nearestDistance = Infinity;
        for (let c = 0; c < k; c++) {
          const d = Math.hypot(points[2 * i]! - centres[2 * c]!, points[2 * i + 1]! - centres[2 * c + 1]!);
          if (d < nearestDistance) [nearest, nearestDistance] = [c, d];
        }
        assignment[i] = nearest;
        distortion += nearestDistance;
      }
      distortion /= n;
      const sums = new Float64Array(3 * k);
      for (let i = 0; i < n; i++) {
        const c = assignment[i]!;
        sums[3 * c] += points[2 * i]!;
        sums[3 * c + 1] += points[2 * i + 1]!;
        sums[3 * c + 2] += 1;
      }
      for (let c = 0; c < k; c++) {
        if (sums[3 * c + 2]! > 0) [centres[2 * c], centres[2 * c + 1]] = [sums[3 * c]! / sums[3 * c + 2]!, sums[3 * c + 1]! / sums[3 * c + 2]!];
      }
      const converged = previous - distortion <= 1e-5;
      previous = distortion;
      if (converged) break;
    }
    if (previous < bestDistortion) [bestDistortion, bestCentres] = [previous, centres];
  }
  return bestCentres;
}

/** Sorts anchors (interleaved) by area, small to large. */
function sortByArea(anchors: ArrayLike<number>): number[] {
  const pairs = Array.from({ length: anchors.length / 2 }, (_, i) => [anchors[2 * i]!, anchors[2 * i + 1]!] as const);
  return pairs.sort((a, b) => a[0] * a[1] - b[0] * b[1]).flat();
}

export interface EvolveOptions {
  /** Number of anchors (all levels together). */
  n: number;
  anchorT: number;
  /** Genetic-search generations. */
  generations?: number;
  seed?: number;
}

/**
 * Anchors (pixels, interleaved, sorted by area) fitted to label sizes: k-means on whitened sizes of labels at
 * least 2 px, then a genetic search that keeps random multiplicative mutations improving the fitness.
 */
export function evolveAnchors(wh: Float32Array, options: EvolveOptions): number[] {
  const { n, anchorT, generations = 1000, seed = 0 } = options;
  const rng = createRng(seed, 0x4a4e4348);
  const kept: number[] = [];
  for (let i = 0; i < wh.length; i += 2) if (wh[i]! >= 2 || wh[i + 1]! >= 2) kept.push(wh[i]!, wh[i + 1]!);
  const sizes = Float32Array.from(kept);
  const count = sizes.length / 2;
  let k: number[];
  if (count >= n) {
    const mean = [0, 1].map((d) => sizes.filter((_, i) => i % 2 === d).reduce((s, v) => s + v, 0) / count);
    const std = [0, 1].map((d) => Math.sqrt(sizes.filter((_, i) => i % 2 === d).reduce((s, v) => s + (v - mean[d]!) ** 2, 0) / count) || 1);
    const whitened = Float64Array.from(sizes, (v, i) => v / std[i % 2]!);
    k = Array.from(kmeans(whitened, n, 30, rng), (v, i) => v * std[i % 2]!);
  } else {
    // Too few labels for k-means: random sizes up to the image size, as the reference falls back to.
    k = Array.from({ length: 2 * n }, () => rng.next() * 640).sort((a, b) => a - b);
  }
  k = sortByArea(k);
  let fitness = anchorFit(sizes, k, anchorT).fitness;
  const mutationProbability = 0.9;
  const sigma = 0.1;
  for (let g = 0; g < generations; g++) {
    let factors: number[];
    do {
      const strength = rng.next();
      factors = k.map(() => Math.min(Math.max((rng.next() < mutationProbability ? strength * rng.normal() * sigma : 0) + 1, 0.3), 3.0));
    } while (factors.every((f) => f === 1));
    const candidate = k.map((v, i) => Math.max(v * factors[i]!, 2.0));
    const candidateFitness = anchorFit(sizes, candidate, anchorT).fitness;
    if (candidateFitness > fitness) [fitness, k] = [candidateFitness, candidate];
  }
  return sortByArea(k);
}

/** The model's anchors in pixels, interleaved, level by level. */
export function modelAnchorPixels(model: DetectionModel): number[] {
  const { anchors, stride } = model.detect;
  const values = anchors.toArray();
  const perLevel = values.length / stride.length;
  return values.map((v, i) => v * stride[Math.floor(i / perLevel)]!);
}

export interface AutoAnchorReport {
  before: AnchorFit;
  /** Set when new anchors were computed; `replaced` tells whether they were better and went into the model. */
  after?: AnchorFit;
  replaced: boolean;
  /** Anchors now in the model, pixels, per level [w, h, ...]. */
  anchors: number[][];
  message: string;
}

export interface AutoAnchorOptions {
  imgsz: number;
  anchorT: number;
  seed?: number;
  generations?: number;
}

/**
 * Checks the model's anchors against the training labels and replaces them (in place, in stride units) when
 * evolved anchors recall more labels. Levels keep small anchors on small strides.
 */
export function checkAnchors(model: DetectionModel, images: readonly LabelledSize[], options: AutoAnchorOptions): AutoAnchorReport {
  const { imgsz, anchorT, seed = 0 } = options;
  const rng = createRng(seed, 0x41555541);
  const wh = labelSizes(images, imgsz, 0.1, rng);
  const current = modelAnchorPixels(model);
  const before = anchorFit(wh, current, anchorT);
  const { nl, na } = model.detect;
  const perLevel = (flat: number[]) => Array.from({ length: nl }, (_, l) => flat.slice(l * na * 2, (l + 1) * na * 2));
  const head = `${before.anchorsPerTarget.toFixed(2)} anchors/target, ${before.bpr.toFixed(3)} Best Possible Recall (BPR).`;
  if (before.bpr > BPR_THRESHOLD) {
    return { before, replaced: false, anchors: perLevel(current), message: `${head} Current anchors are a good fit to dataset` };
  }
  const evolved = evolveAnchors(labelSizes(images, imgsz), { n: nl * na, anchorT, generations: options.generations, seed });
  const after = anchorFit(wh, evolved, anchorT);
  if (!(after.bpr > before.bpr)) {
    return { before, after, replaced: false, anchors: perLevel(current), message: `${head} Anchors are a poor fit; evolved anchors are no better (BPR ${after.bpr.toFixed(3)}), keeping the originals` };
  }
  // Sorted by area, so with strides ascending each level gets the next larger group.
  const ascending = model.stride.every((s, i) => i === 0 || s >= model.stride[i - 1]!);
  const levels = perLevel(evolved);
  const ordered = ascending ? levels : levels.reverse();
  noGrad(() =>
    tidy(() => {
      const inGrid = ordered.flatMap((level, l) => level.map((v) => v / model.stride[l]!));
      model.detect.anchors.copy_(tensor(inGrid, [nl, na, 2]));
    }),
  );
  model.detect.clearGridCache();
  return {
    before,
    after,
    replaced: true,
    anchors: ordered,
    message: `${head} Anchors were a poor fit; replaced by evolved anchors with BPR ${after.bpr.toFixed(3)}: ${ordered.map((l) => l.map((v) => Math.round(v)).join(',')).join(' | ')}`,
  };
}
