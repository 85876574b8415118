// YOLOv5's augment_hsv: random gains applied through lookup tables to an 8-bit HSV image (hue 0..179), converted
// with OpenCV's 8-bit rules (fixed-point RGB→HSV, float HSV→RGB rounded back), so colours shift the same way.
import type { RgbImage } from '../image.js';
import type { Rng } from '../../util/random.js';
import type { AugmentHyp } from './hyp.js';

export interface HsvGains {
  hue: number;
  saturation: number;
  value: number;
}

/** Each gain uniform in 1 ± its hyperparameter. */
export function drawHsvGains(rng: Rng, hyp: Pick<AugmentHyp, 'hsv_h' | 'hsv_s' | 'hsv_v'>): HsvGains {
  return {
    hue: rng.uniform(-1, 1) * hyp.hsv_h + 1,
    saturation: rng.uniform(-1, 1) * hyp.hsv_s + 1,
    value: rng.uniform(-1, 1) * hyp.hsv_v + 1,
  };
}

const HSV_SHIFT = 12;
const HSV_ROUND = 1 << (HSV_SHIFT - 1);
const HUE_RANGE = 180;

// OpenCV's reciprocal tables: s = diff * 255 / v and h = x * 180 / (6 * diff), both in 12-bit fixed point.
const SATURATION_DIV = new Int32Array(256);
const HUE_DIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SATURATION_DIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HUE_DIV[i] = Math.round((HUE_RANGE << HSV_SHIFT) / (6 * i));
}

function gainTable(gain: number, wrap: boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    const scaled = x * gain;
    table[x] = Math.trunc(wrap ? scaled % HUE_RANGE : Math.min(Math.max(scaled, 0), 255));
  }
  return table;
}

/** Shifts hue, saturation and value of `image` in place. */
export function augmentHsv(image: RgbImage, gains: HsvGains): void {
  if (gains.hue === 1 && gains.saturation === 1 && gains.value === 1) return;
  const hueTable = gainTable(gains.hue, true);
  const satTable = gainTable(gains.saturation, false);
  const valTable = gainTable(gains.value, false);
  const data = image.data;
  // Large flat areas (mosaic borders, skies) repeat the previous pixel's colour; reuse its result.
  let lastIn = -1;
  let lastOut = 0;
  for (let p = 0; p < data.length; p += 3) {
    const r = data[p]!;
    const g = data[p + 1]!;
    const b = data[p + 2]!;
    const packed = (r << 16) | (g << 8) | b;
    if (packed !== lastIn) {
      lastIn = packed;
      lastOut = shiftPixel(r, g, b, hueTable, satTable, valTable);
    }
    data[p] = lastOut >> 16;
    data[p + 1] = (lastOut >> 8) & 255;
    data[p + 2] = lastOut & 255;
  }
}

const f32 = Math.fround;
const INV_255 = f32(1 / 255);
const SECTORS_PER_HUE = f32(6 / HUE_RANGE);

/** A level in [0, 1] back to 8 bits as OpenCV's vectorised HSV→RGB does it: float32 product, truncated. */
function toByte(level: number): number {
  return Math.trunc(f32(level * 255));
}

/**
 * One pixel through RGB→HSV (8-bit), the gain tables, and back; returns packed 0xRRGGBB. The way back computes in
 * float32 like OpenCV's, so results match it to the last bit rather than to ±1.
 */
function shiftPixel(r: number, g: number, b: number, hueTable: Uint8Array, satTable: Uint8Array, valTable: Uint8Array): number {
  const max = r > g ? (r > b ? r : b) : g > b ? g : b;
  const min = r < g ? (r < b ? r : b) : g < b ? g : b;
  const diff = max - min;
  const s = (diff * SATURATION_DIV[max]! + HSV_ROUND) >> HSV_SHIFT;
  const x = max === r ? g - b : max === g ? b - r + 2 * diff : r - g + 4 * diff;
  let h = (x * HUE_DIV[diff]! + HSV_ROUND) >> HSV_SHIFT;
  if (h < 0) h += HUE_RANGE;

  const v = f32(valTable[max]! * INV_255);
  const sat = f32(satTable[s]! * INV_255);
  if (sat === 0) {
    const grey = toByte(v);
    return (grey << 16) | (grey << 8) | grey;
  }
  const hh = f32(hueTable[h]! * SECTORS_PER_HUE);
  const sector = Math.floor(hh);
  const f = f32(hh - sector);
  // The four levels a hue sector mixes: full, floor, falling and rising.
  const top = toByte(v);
  const bottom = toByte(f32(v * f32(1 - sat)));
  const falling = toByte(f32(v * f32(1 - f32(sat * f))));
  const rising = toByte(f32(v * f32(1 - f32(sat * f32(1 - f)))));
  switch (sector) {
    case 0:
      return (top << 16) | (rising << 8) | bottom;
    case 1:
      return (falling << 16) | (top << 8) | bottom;
    case 2:
      return (bottom << 16) | (top << 8) | rising;
    case 3:
      return (bottom << 16) | (falling << 8) | top;
    case 4:
      return (rising << 16) | (bottom << 8) | top;
    default:
      return (top << 16) | (bottom << 8) | falling;
  }
}
