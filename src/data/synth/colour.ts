// Colours for the synthetic scenes, and the contrast rule that keeps every labelled object visible.
import type { Rng } from '../../util/random.js';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** h in degrees, s and v in [0, 1]. */
export function hsv(h: number, s: number, v: number): Rgb {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const [r, g, b] =
    hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  return { r: Math.round(255 * (r + m)), g: Math.round(255 * (g + m)), b: Math.round(255 * (b + m)) };
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return {
    r: Math.round(a.r + (b.r - a.r) * t),
    g: Math.round(a.g + (b.g - a.g) * t),
    b: Math.round(a.b + (b.b - a.b) * t),
  };
}

/** Scales brightness by `factor`, clamped to the valid range. */
export function shade(c: Rgb, factor: number): Rgb {
  const f = (v: number): number => Math.max(0, Math.min(255, Math.round(v * factor)));
  return { r: f(c.r), g: f(c.g), b: f(c.b) };
}

export function distance(a: Rgb, b: Rgb): number {
  return Math.hypot(a.r - b.r, a.g - b.g, a.b - b.b);
}

export function hex(c: Rgb): string {
  return `#${[c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Any colour, from greys to saturated ones. */
export function randomColour(rng: Rng): Rgb {
  const saturation = rng.chance(0.2) ? rng.uniform(0, 0.15) : rng.uniform(0.15, 1);
  return hsv(rng.uniform(0, 360), saturation, rng.uniform(0.08, 1));
}

/**
 * Draws from `sample` until every colour of the draw is at least `minDistance` from every colour in `avoid`;
 * after `tries` draws it settles for the best one seen, so it always returns.
 */
export function contrasting<T>(
  sample: () => T,
  coloursOf: (draw: T) => readonly Rgb[],
  avoid: readonly Rgb[],
  minDistance: number,
  tries = 24,
): T {
  let best = sample();
  let bestDistance = -1;
  for (let i = 0; i < tries; i++) {
    const candidate = i === 0 ? best : sample();
    let d = Infinity;
    for (const c of coloursOf(candidate)) for (const a of avoid) d = Math.min(d, distance(c, a));
    if (d >= minDistance) return candidate;
    if (d > bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
