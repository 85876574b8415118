// A small seeded PRNG, so what is random here is reproducible (the synthetic dataset byte for byte, augmentation,
// AutoAnchor, evolution), which Math.random cannot be. sfc32 for the stream, seeded through a splitmix32-style mixer
// so nearby keys (image 7 vs image 8) give unrelated streams; every image gets its own stream, so the images do not
// depend on generation order.
import { number } from './check.js';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer uniform in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Standard normal sample. */
  normal(): number;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A generator determined by the keys (e.g. seed, split, image index); integers are used modulo 2^32. */
export function createRng(...keys: number[]): Rng {
  let h = 0x9e3779b9;
  for (const key of keys) {
    number('random seed key', key);
    // Fold in both 32-bit halves so seeds beyond 2^32 still differ.
    h = mix32(h ^ mix32(key >>> 0));
    h = mix32(h ^ Math.floor(key / 4294967296));
  }
  let a = mix32(h ^ 0x1234567);
  let b = mix32(h ^ 0x89abcdef);
  let c = mix32(h ^ 0x2468ace);
  let d = 1;
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextU32();

  const next = (): number => nextU32() / 4294967296;
  return {
    uint32: nextU32,
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('cannot pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
  };
}
