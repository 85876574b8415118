// Random scenes for the synthetic detection dataset: a background (gradient or texture), clutter that is not a
// target class (thin lines, small dots, faint blobs), 1–6 shape objects that may overlap, and sensor noise.
// A scene is plain data; svg.ts draws it and the label file is read straight off its object boxes.
import { contrasting, hsv, mix, randomColour, shade, type Rgb } from './colour.js';
import type { Rng } from '../../util/random.js';
import { insideOutline, outlineBox, placeOutline, SHAPE_CLASSES, type Box, type Outline, type Point } from './shapes.js';
import { integer } from '../../util/check.js';

export type Background =
  | { kind: 'flat'; colour: Rgb }
  | { kind: 'linear'; from: Rgb; to: Rgb; start: Point; end: Point }
  | { kind: 'radial'; inner: Rgb; outer: Rgb; centre: Point; radius: number }
  /** `angle` in degrees; `duty` is the fraction of each period painted `b`. */
  | { kind: 'stripes'; a: Rgb; b: Rgb; period: number; duty: number; angle: number }
  | { kind: 'checkers'; a: Rgb; b: Rgb; cell: number; angle: number }
  /** Fractal noise: `tint` laid over `base` with a turbulence mask; `frequency` in cycles per pixel. */
  | { kind: 'noise'; base: Rgb; tint: Rgb; frequency: number; octaves: number; seed: number };

export type Clutter =
  | { kind: 'line'; points: Point[]; width: number; colour: Rgb; opacity: number }
  | { kind: 'dot'; centre: Point; radius: number; colour: Rgb }
  /** A faint irregular blob: a smooth closed curve through `points`. */
  | { kind: 'blob'; points: Point[]; colour: Rgb; opacity: number };

export type Paint =
  | { kind: 'solid'; colour: Rgb }
  | { kind: 'gradient'; from: Rgb; to: Rgb; start: Point; end: Point };

export interface SceneObject {
  classId: number;
  outline: Outline;
  /** The full extent of the object (occlusion does not shrink it), clipped to the image. */
  box: Box;
  paint: Paint;
}

export interface Scene {
  size: number;
  background: Background;
  /** Drawn before the objects. */
  below: Clutter[];
  /** Drawn in order, so later objects cover earlier ones. */
  objects: SceneObject[];
  /** Thin lines drawn over the objects. */
  above: Clutter[];
  /** Gaussian pixel noise (standard deviation in 8-bit levels), from its own stream. */
  noise: { sigma: number; seed: number };
}

export interface SceneOptions {
  /** Image side in pixels. */
  size: number;
  /** Number of classes K; objects use the first K shapes. */
  classes: number;
}

const BACKGROUND_ONLY = 0.05;
const MAX_OBJECTS = 6;
/** Object extent (longer side of its box) as a fraction of the image side, sampled log-uniformly. */
const MIN_EXTENT = 0.08;
const MAX_EXTENT = 0.4;
/** Below this an object is a few pixels of JPEG mush, whatever the image size. */
const MIN_EXTENT_PX = 5;
/**
 * A placement that would hide more than this fraction of an earlier object is rejected, so every drawn object
 * stays recognisable and keeps its label (none ever needs dropping for occlusion).
 */
const MAX_HIDDEN = 0.5;
const MIN_IN_FRAME = 0.8;
const PLACEMENT_TRIES = 30;
/** Minimum RGB distance between an object and whatever lies under it. */
const MIN_CONTRAST = 80;
/** Chance that an object takes its class's hue: a prior that helps learning without defining the class. */
const COLOUR_PRIOR = 0.5;
const VISIBILITY_GRID = 16;

export function sampleScene(rng: Rng, { size, classes }: SceneOptions): Scene {
  integer('classes', classes, { min: 1, max: SHAPE_CLASSES.length });
  const background = sampleBackground(rng, size);
  const below = sampleClutter(rng, size);
  const objects = sampleObjects(rng, size, classes, background, below);
  const above: Clutter[] = rng.chance(0.35)
    ? Array.from({ length: rng.int(1, 2) }, () => sampleLine(rng, size, Math.max(0.5, rng.uniform(0.4, 1.2) * (size / 128))))
    : [];
  const noise = { sigma: rng.chance(0.7) ? rng.uniform(1.5, 9) : 0, seed: rng.int(0, 0x7fffffff) };
  return { size, background, below, objects, above, noise };
}

function sampleBackground(rng: Rng, size: number): Background {
  const a = randomColour(rng);
  // The second colour is pulled part-way towards the first, so textures range from faint to bold.
  const b = mix(a, randomColour(rng), rng.uniform(0.3, 1));
  const kind = rng.pick(['flat', 'linear', 'linear', 'radial', 'stripes', 'checkers', 'noise', 'noise'] as const);
  switch (kind) {
    case 'flat':
      return { kind, colour: a };
    case 'linear': {
      const angle = rng.uniform(0, 2 * Math.PI);
      const [dx, dy] = [(Math.cos(angle) * size) / 2, (Math.sin(angle) * size) / 2];
      return { kind, from: a, to: b, start: { x: size / 2 - dx, y: size / 2 - dy }, end: { x: size / 2 + dx, y: size / 2 + dy } };
    }
    case 'radial':
      return { kind, inner: a, outer: b, centre: { x: rng.uniform(0, size), y: rng.uniform(0, size) }, radius: rng.uniform(0.5, 1.2) * size };
    case 'stripes':
      return { kind, a, b, period: Math.max(3, rng.uniform(0.04, 0.25) * size), duty: rng.uniform(0.2, 0.8), angle: rng.uniform(0, 180) };
    case 'checkers':
      return { kind, a, b, cell: Math.max(3, rng.uniform(0.04, 0.2) * size), angle: rng.uniform(0, 90) };
    case 'noise':
      return { kind, base: a, tint: b, frequency: rng.uniform(2, 16) / size, octaves: rng.int(1, 4), seed: rng.int(0, 1_000_000) };
  }
}

/** Colours that can appear anywhere in the background, for the contrast rule. */
function backgroundColours(bg: Background): Rgb[] {
  switch (bg.kind) {
    case 'flat':
      return [bg.colour];
    case 'linear':
      return [bg.from, mix(bg.from, bg.to, 0.5), bg.to];
    case 'radial':
      return [bg.inner, mix(bg.inner, bg.outer, 0.5), bg.outer];
    case 'stripes':
    case 'checkers':
      return [bg.a, bg.b];
    case 'noise':
      return [bg.base, mix(bg.base, bg.tint, 0.5), bg.tint];
  }
}

function sampleLine(rng: Rng, size: number, width: number): Clutter {
  const coordinate = (): number => rng.uniform(-0.1, 1.1) * size;
  const points = Array.from({ length: rng.int(2, 4) }, () => ({ x: coordinate(), y: coordinate() }));
  return { kind: 'line', points, width, colour: randomColour(rng), opacity: rng.uniform(0.4, 1) };
}

function sampleClutter(rng: Rng, size: number): Clutter[] {
  const scale = size / 128;
  const clutter: Clutter[] = [];
  for (let i = rng.int(0, 4); i > 0; i--) clutter.push(sampleLine(rng, size, Math.max(0.5, rng.uniform(0.5, 2) * scale)));
  // Dots stay below the smallest object size so they read as specks, not circles.
  for (let i = rng.int(0, 6); i > 0; i--) {
    const centre = { x: rng.uniform(0, size), y: rng.uniform(0, size) };
    clutter.push({ kind: 'dot', centre, radius: Math.max(0.7, rng.uniform(0.008, 0.025) * size), colour: randomColour(rng) });
  }
  for (let i = rng.int(0, 3); i > 0; i--) clutter.push(sampleBlob(rng, size));
  return clutter;
}

function sampleBlob(rng: Rng, size: number): Clutter {
  const radius = rng.uniform(0.05, 0.12) * size;
  const aspect = rng.uniform(0.35, 0.7);
  const angle = rng.uniform(0, Math.PI);
  const [cx, cy] = [rng.uniform(0, size), rng.uniform(0, size)];
  const count = 9;
  const points = Array.from({ length: count }, (_, i) => {
    const a = (2 * Math.PI * i) / count;
    const r = radius * rng.uniform(0.55, 1);
    const [u, v] = [r * Math.cos(a), r * aspect * Math.sin(a)];
    return { x: cx + u * Math.cos(angle) - v * Math.sin(angle), y: cy + u * Math.sin(angle) + v * Math.cos(angle) };
  });
  return { kind: 'blob', points, colour: randomColour(rng), opacity: rng.uniform(0.2, 0.5) };
}

function clutterBox(c: Clutter): Box | undefined {
  switch (c.kind) {
    case 'line':
      return undefined; // too thin to hide an object's edge
    case 'dot':
      return { x0: c.centre.x - c.radius, y0: c.centre.y - c.radius, x1: c.centre.x + c.radius, y1: c.centre.y + c.radius };
    case 'blob':
      return outlineBox([c.points]);
  }
}

function paintColours(p: Paint): Rgb[] {
  return p.kind === 'solid' ? [p.colour] : [p.from, p.to];
}

function intersects(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

interface Placed {
  outline: Outline;
  /** Unclipped. */
  box: Box;
}

/** Fraction of `object` that is inside the frame and not covered by any of `occluders`, on a grid over its box. */
function visibleFraction(object: Placed, occluders: readonly Placed[], size: number): number {
  const { x0, y0, x1, y1 } = object.box;
  const near = occluders.filter((o) => intersects(o.box, object.box));
  let inside = 0;
  let visible = 0;
  for (let i = 0; i < VISIBILITY_GRID; i++) {
    const y = y0 + ((i + 0.5) / VISIBILITY_GRID) * (y1 - y0);
    for (let j = 0; j < VISIBILITY_GRID; j++) {
      const x = x0 + ((j + 0.5) / VISIBILITY_GRID) * (x1 - x0);
      if (!insideOutline(object.outline, x, y)) continue;
      inside++;
      const inFrame = x >= 0 && x < size && y >= 0 && y < size;
      if (inFrame && !near.some((o) => insideOutline(o.outline, x, y))) visible++;
    }
  }
  return inside === 0 ? 1 : visible / inside;
}

function samplePlacement(rng: Rng, size: number, classId: number): Placed {
  const minExtent = Math.min(MAX_EXTENT * size, Math.max(MIN_EXTENT * size, MIN_EXTENT_PX));
  const extent = Math.exp(rng.uniform(Math.log(minExtent), Math.log(MAX_EXTENT * size)));
  const shape = { sx: rng.uniform(0.85, 1.15), sy: rng.uniform(0.85, 1.15), angle: rng.uniform(0, 2 * Math.PI) };
  // Scale so the rotated shape's box has exactly the sampled extent along its longer side.
  const unitBox = outlineBox(placeOutline(SHAPE_CLASSES[classId]!.unit, { cx: 0, cy: 0, ...shape }));
  const scale = extent / Math.max(unitBox.x1 - unitBox.x0, unitBox.y1 - unitBox.y0);
  const margin = 0.1 * extent;
  const outline = placeOutline(SHAPE_CLASSES[classId]!.unit, {
    cx: rng.uniform(margin, size - margin),
    cy: rng.uniform(margin, size - margin),
    sx: scale * shape.sx,
    sy: scale * shape.sy,
    angle: shape.angle,
  });
  return { outline, box: outlineBox(outline) };
}

/** A new object is accepted only if it is mostly in frame and leaves every earlier object mostly visible. */
function acceptable(placed: readonly Placed[], candidate: Placed, size: number): boolean {
  if (visibleFraction(candidate, [], size) < MIN_IN_FRAME) return false;
  return placed.every((p, i) => visibleFraction(p, [...placed.slice(i + 1), candidate], size) >= 1 - MAX_HIDDEN);
}

function samplePaint(rng: Rng, hue: number, box: Box): Paint {
  const h = rng.chance(COLOUR_PRIOR) ? hue + rng.uniform(-20, 20) : rng.uniform(0, 360);
  const colour = hsv(h, rng.uniform(0.25, 1), rng.uniform(0.2, 1));
  if (rng.chance(0.6)) return { kind: 'solid', colour };
  const angle = rng.uniform(0, 2 * Math.PI);
  const [cx, cy] = [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2];
  const reach = Math.max(box.x1 - box.x0, box.y1 - box.y0) / 2;
  const [dx, dy] = [reach * Math.cos(angle), reach * Math.sin(angle)];
  const to = shade(colour, rng.uniform(0.55, 1.45));
  return { kind: 'gradient', from: colour, to, start: { x: cx - dx, y: cy - dy }, end: { x: cx + dx, y: cy + dy } };
}

function sampleObjects(rng: Rng, size: number, classes: number, background: Background, below: readonly Clutter[]): SceneObject[] {
  const target = rng.chance(BACKGROUND_ONLY) ? 0 : rng.int(1, MAX_OBJECTS);
  const placed: Placed[] = [];
  const objects: SceneObject[] = [];
  const underlay = backgroundColours(background);
  for (let n = 0; n < target; n++) {
    const classId = rng.int(0, classes - 1);
    for (let t = 0; t < PLACEMENT_TRIES; t++) {
      const candidate = samplePlacement(rng, size, classId);
      if (!acceptable(placed, candidate, size)) continue;
      // Contrast against everything this object may be drawn over, so its whole extent stays visible.
      const under = [
        ...underlay,
        ...below.flatMap((c) => {
          const box = clutterBox(c);
          return box && intersects(box, candidate.box) ? [c.colour] : [];
        }),
        ...objects.flatMap((o, i) => (intersects(placed[i]!.box, candidate.box) ? paintColours(o.paint) : [])),
      ];
      const paint = contrasting(() => samplePaint(rng, SHAPE_CLASSES[classId]!.hue, candidate.box), paintColours, under, MIN_CONTRAST);
      placed.push(candidate);
      objects.push({ classId, outline: candidate.outline, box: clipBox(candidate.box, size), paint });
      break;
    }
  }
  return objects;
}

function clipBox(b: Box, size: number): Box {
  const clip = (v: number): number => Math.max(0, Math.min(size, v));
  return { x0: clip(b.x0), y0: clip(b.y0), x1: clip(b.x1), y1: clip(b.y1) };
}
