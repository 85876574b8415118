// Axis arithmetic for charts: data ranges, "nice" tick positions (1, 2, 5 × 10^k) and tick labels.

export interface Range {
  min: number;
  max: number;
}

/** The finite extent of some values, widened when empty or flat so an axis can still be drawn. */
export function extent(values: Iterable<number>, fallback: Range = { min: 0, max: 1 }): Range {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return { ...fallback };
  // Spans within float noise of the values count as flat (ticks could not be told apart).
  if (max - min <= 1e-9 * Math.max(Math.abs(min), Math.abs(max))) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return { min: min - pad, max: max + pad };
  }
  return { min, max };
}

/** Widens a range by a fraction of its span on both sides. */
export function padRange(range: Range, fraction = 0.05): Range {
  const pad = (range.max - range.min) * fraction;
  return { min: range.min - pad, max: range.max + pad };
}

/** About `count` evenly spaced round tick values inside the range. */
export function niceTicks(range: Range, count = 5): number[] {
  const span = range.max - range.min;
  if (!(span > 0) || !Number.isFinite(span)) return [range.min];
  const raw = span / Math.max(count, 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const first = Math.ceil(range.min / step - 1e-9);
  const last = Math.floor(range.max / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last && ticks.length <= 4 * count; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

/** A compact label: integers as they are, else up to 4 significant digits, exponents for extremes. */
export function tickLabel(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1).replace('e+', 'e');
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** Maps a value from a data range onto pixel coordinates [from, to] (to may be below from, for y axes). */
export function scaleLinear(range: Range, from: number, to: number): (v: number) => number {
  const span = range.max - range.min || 1;
  return (v) => from + ((v - range.min) / span) * (to - from);
}
