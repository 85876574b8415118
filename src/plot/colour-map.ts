// Sequential colour maps for heatmaps, and the text colour that stays readable on a given cell colour.

type Rgb = [number, number, number];

const hex = (code: string): Rgb => [1, 3, 5].map((i) => parseInt(code.slice(i, i + 2), 16)) as Rgb;

/** Matplotlib's 'Blues' (ColorBrewer's nine steps, light to dark), what seaborn's confusion matrices use. */
const BLUES: readonly Rgb[] = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'].map(hex);

const css = ([r, g, b]: Rgb): string => `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;

function blueAt(t: number): Rgb {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (BLUES.length - 1);
  const i = Math.min(Math.floor(x), BLUES.length - 2);
  const a = BLUES[i]!;
  const b = BLUES[i + 1]!;
  return a.map((v, k) => v + (b[k]! - v) * (x - i)) as Rgb;
}

/** The 'Blues' colour at t in [0, 1] (clamped), as a CSS colour. */
export function blues(t: number): string {
  return css(blueAt(t));
}

/** Black or white, whichever reads better on the 'Blues' colour at t (seaborn's rule: relative luminance 0.408). */
export function textOnBlues(t: number): string {
  const linear = blueAt(t).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * linear[0]! + 0.7152 * linear[1]! + 0.0722 * linear[2]!;
  return luminance > 0.408 ? '#262626' : '#ffffff';
}

/** Gradient stops of 'Blues' for an SVG <linearGradient> (offset 0 is the lightest). */
export function bluesStops(): string {
  return BLUES.map((c, i) => `<stop offset="${(i / (BLUES.length - 1)).toFixed(3)}" stop-color="${css(c)}"/>`).join('');
}
