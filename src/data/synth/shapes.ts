// The object classes of the synthetic dataset. Each class is a shape (the class is the SHAPE, never the colour)
// given as polygons in a unit frame (circumradius about 1). One polygon representation drives everything:
// the SVG path, the tight label box and the point-in-shape test used to measure occlusion, so the three agree.

export interface Point {
  x: number;
  y: number;
}

/** Closed polygons filled with the even-odd rule (a ring is its outer circle plus its hole). */
export type Outline = readonly (readonly Point[])[];

export interface ShapeClass {
  name: string;
  /** Hue (degrees) this class leans towards when the colour prior is used; it helps learning, it never defines the class. */
  hue: number;
  unit: Outline;
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function regular(sides: number, radius: number, phase = -Math.PI / 2): Point[] {
  return Array.from({ length: sides }, (_, i) => {
    const a = phase + (2 * Math.PI * i) / sides;
    return { x: radius * Math.cos(a), y: radius * Math.sin(a) };
  });
}

function star(points: number, outer: number, inner: number): Point[] {
  return Array.from({ length: 2 * points }, (_, i) => {
    const a = -Math.PI / 2 + (Math.PI * i) / points;
    const r = i % 2 === 0 ? outer : inner;
    return { x: r * Math.cos(a), y: r * Math.sin(a) };
  });
}

function plus(arm: number, halfWidth: number): Point[] {
  const [l, w] = [arm, halfWidth];
  return [
    { x: -w, y: -l }, { x: w, y: -l }, { x: w, y: -w }, { x: l, y: -w }, { x: l, y: w }, { x: w, y: w },
    { x: w, y: l }, { x: -w, y: l }, { x: -w, y: w }, { x: -l, y: w }, { x: -l, y: -w }, { x: -w, y: -w },
  ];
}

// 48 sides render as a smooth circle at any size this generator makes (up to ~40% of a large image).
const ROUND = 48;

/** In class-index order; a dataset with K classes uses the first K. Hues are spread so the first few classes differ most. */
export const SHAPE_CLASSES: readonly ShapeClass[] = [
  { name: 'circle', hue: 0, unit: [regular(ROUND, 1)] },
  { name: 'square', hue: 225, unit: [regular(4, 1, -Math.PI / 4)] },
  { name: 'triangle', hue: 45, unit: [regular(3, 1)] },
  { name: 'cross', hue: 270, unit: [plus(0.95, 0.3)] },
  { name: 'star', hue: 135, unit: [star(5, 1, 0.45)] },
  { name: 'ring', hue: 315, unit: [regular(ROUND, 1), regular(ROUND, 0.55)] },
  // A rhombus with unequal diagonals, so no rotation of a square looks like it.
  { name: 'diamond', hue: 180, unit: [[{ x: 0, y: -1 }, { x: 0.58, y: 0 }, { x: 0, y: 1 }, { x: -0.58, y: 0 }]] },
  { name: 'hexagon', hue: 90, unit: [regular(6, 1)] },
];

export const MAX_CLASSES = SHAPE_CLASSES.length;

export interface Placement {
  cx: number;
  cy: number;
  /** Scale of the unit shape along its own axes (before rotation), in pixels. */
  sx: number;
  sy: number;
  /** Radians. */
  angle: number;
}

export function placeOutline(unit: Outline, p: Placement): Outline {
  const cos = Math.cos(p.angle);
  const sin = Math.sin(p.angle);
  return unit.map((ring) =>
    ring.map(({ x, y }) => {
      const u = x * p.sx;
      const v = y * p.sy;
      return { x: p.cx + u * cos - v * sin, y: p.cy + u * sin + v * cos };
    }),
  );
}

export function outlineBox(outline: Outline): Box {
  const box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (const ring of outline) {
    for (const { x, y } of ring) {
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return box;
}

/** Even-odd point-in-polygon over all rings, matching SVG's fill-rule="evenodd". */
export function insideOutline(outline: Outline, x: number, y: number): boolean {
  let inside = false;
  for (const ring of outline) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i]!;
      const b = ring[j]!;
      if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    }
  }
  return inside;
}
