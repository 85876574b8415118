// Charts as SVG: a figure is a grid of panels, each a line chart, bar chart, histogram, scatter plot, a set of
// rectangles, a heatmap or a 2-D histogram, with axes, ticks, a title and an optional legend. Render the SVG with
// render.ts.
import { extent, niceTicks, padRange, scaleLinear, tickLabel, type Range } from './axes.js';
import { blues, bluesStops, textOnBlues } from './colour-map.js';

/** Matplotlib's default colour cycle (tab10), for series without an explicit colour. */
export const SERIES_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface Series {
  x: readonly number[];
  y: readonly number[];
  label?: string;
  colour?: string;
  /** Draw a dot at each point. */
  markers?: boolean;
  dashed?: boolean;
  /** Line width in pixels (default 2). */
  width?: number;
}

interface PanelBase {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Fixed axis ranges (default: from the data). */
  xRange?: Range;
  yRange?: Range;
}

export type Panel =
  | (PanelBase & {
      kind: 'lines';
      series: readonly Series[];
      /** Where the legend goes: over the top right of the plot, or beside it (needs a right margin). */
      legend?: 'inside' | 'outside';
    })
  | (PanelBase & { kind: 'bars'; categories: readonly string[]; values: readonly number[]; colours?: readonly string[] })
  | (PanelBase & { kind: 'histogram'; values: ArrayLike<number>; bins?: number; colour?: string; logY?: boolean })
  | (PanelBase & {
      kind: 'scatter';
      x: ArrayLike<number>;
      y: ArrayLike<number>;
      colour?: string;
      /** Dot radius in pixels. */
      radius?: number;
      opacity?: number;
      /** Text beside each point (e.g. model names on a trade-off plot). */
      labels?: readonly string[];
    })
  | (PanelBase & {
      kind: 'rects';
      /** Rectangles by centre and size in data units. */
      rects: readonly { cx: number; cy: number; w: number; h: number; colour?: string }[];
      opacity?: number;
    })
  | (PanelBase & {
      kind: 'heatmap';
      /** rows × columns values, row by row, the first row at the top; NaN cells stay blank. */
      values: ArrayLike<number>;
      rows: number;
      columns: number;
      rowLabels?: readonly string[];
      columnLabels?: readonly string[];
      /** Write each shown value in its cell with this many decimals. */
      annotateDecimals?: number;
      /** The values the colour map spans (default 0 to the largest value). */
      colourRange?: Range;
      colourBar?: boolean;
    })
  | (PanelBase & {
      kind: '2d-histogram';
      x: ArrayLike<number>;
      y: ArrayLike<number>;
      /** Bins along each axis (default 50). */
      bins?: number;
    });

interface Margin {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface FigureOptions {
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
  title?: string;
  /** Space around each panel's plot area, in pixels (tick labels, axis titles, an outside legend). */
  margin?: Partial<Margin>;
}

const MARGIN: Margin = { left: 62, right: 16, top: 30, bottom: 46 };
/** Rough width of a character of the figures' sans-serif font, as a fraction of the font size. */
const CHAR_WIDTH = 0.6;
const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '0');

interface Frame {
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** Bins values into `bins` equal intervals over `range`; values outside are dropped. */
export function histogramCounts(values: ArrayLike<number>, bins: number, range: Range): number[] {
  const counts = new Array<number>(bins).fill(0);
  const span = range.max - range.min || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= range.min && v <= range.max)) continue;
    counts[Math.min(bins - 1, Math.floor(((v - range.min) / span) * bins))]! += 1;
  }
  return counts;
}

/** Axes, grid lines, ticks and labels for a panel; returns the SVG and the data→pixel mappings. */
function axes(frame: Frame, panel: PanelBase, xr: Range, yr: Range, xTicks: boolean, yTicks?: { value: number; label: string }[]) {
  const { x0, y0, width, height } = frame;
  const sx = scaleLinear(xr, x0, x0 + width);
  const sy = scaleLinear(yr, y0 + height, y0);
  const parts: string[] = [`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="white" stroke="#333" stroke-width="1"/>`];
  for (const { value, label } of yTicks ?? niceTicks(yr, 5).map((value) => ({ value, label: tickLabel(value) }))) {
    const y = sy(value);
    parts.push(`<line x1="${x0}" y1="${f(y)}" x2="${x0 + width}" y2="${f(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x0 - 5}" y="${f(y + 4)}" text-anchor="end" font-size="11">${label}</text>`);
  }
  if (xTicks) {
    for (const t of niceTicks(xr, 5)) {
      const x = sx(t);
      parts.push(`<line x1="${f(x)}" y1="${y0}" x2="${f(x)}" y2="${y0 + height}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${f(x)}" y="${y0 + height + 15}" text-anchor="middle" font-size="11">${tickLabel(t)}</text>`);
    }
  }
  if (panel.title) parts.push(`<text x="${x0 + width / 2}" y="${y0 - 10}" text-anchor="middle" font-size="14">${escapeXml(panel.title)}</text>`);
  if (panel.xLabel) parts.push(`<text x="${x0 + width / 2}" y="${y0 + height + 36}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`);
  if (panel.yLabel) {
    const cx = x0 - 48;
    const cy = y0 + height / 2;
    parts.push(`<text x="${cx}" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 ${cx} ${cy})">${escapeXml(panel.yLabel)}</text>`);
  }
  // Grid lines first, then the frame on top of them.
  parts.push(`<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#333" stroke-width="1"/>`);
  return { svg: parts.join(''), sx, sy };
}

interface LegendEntry {
  label: string;
  colour: string;
  width: number;
}

/** Width in pixels of a legend listing `labels`: the right margin an outside legend needs. */
export function legendWidth(labels: readonly string[]): number {
  return 12 + Math.max(0, ...labels.map((label) => label.length)) * 6.5 + 22;
}

function legend(frame: Frame, entries: LegendEntry[], placement: 'inside' | 'outside' = 'inside'): string {
  if (entries.length === 0) return '';
  const rowHeight = 15;
  const natural = legendWidth(entries.map((e) => e.label));
  const width = placement === 'inside' ? Math.min(frame.width - 10, natural) : natural;
  const x = placement === 'inside' ? frame.x0 + frame.width - width - 5 : frame.x0 + frame.width + 10;
  const y = placement === 'inside' ? frame.y0 + 5 : frame.y0;
  const rows = entries.map(
    (e, i) =>
      `<line x1="${f(x + 6)}" y1="${y + 10 + i * rowHeight}" x2="${f(x + 22)}" y2="${y + 10 + i * rowHeight}" stroke="${e.colour}" stroke-width="${Math.min(Math.max(e.width, 1.5), 3)}"/>` +
      `<text x="${f(x + 26)}" y="${y + 14 + i * rowHeight}" font-size="11">${escapeXml(e.label)}</text>`,
  );
  return `<rect x="${f(x)}" y="${y}" width="${f(width)}" height="${entries.length * rowHeight + 6}" fill="white" fill-opacity="0.85" stroke="#ccc"/>${rows.join('')}`;
}

function linesPanel(frame: Frame, panel: Extract<Panel, { kind: 'lines' }>): string {
  const xr = panel.xRange ?? extent(panel.series.flatMap((s) => [...s.x]));
  const yr = panel.yRange ?? padRange(extent(panel.series.flatMap((s) => [...s.y])));
  const { svg, sx, sy } = axes(frame, panel, xr, yr, true);
  const parts = [svg];
  panel.series.forEach((s, i) => {
    const colour = s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    const points = s.x.map((x, k) => [x, s.y[k]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (points.length > 1) {
      const d = points.map(([x, y], k) => `${k ? 'L' : 'M'}${f(sx(x))},${f(sy(y))}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="${s.width ?? 2}"${s.dashed ? ' stroke-dasharray="3,3"' : ''}/>`);
    }
    if (s.markers || points.length === 1) for (const [x, y] of points) parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${colour}"/>`);
  });
  const labelled = panel.series
    .map((s, i) => ({ label: s.label ?? '', colour: s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]!, width: s.width ?? 2 }))
    .filter((e) => e.label !== '');
  parts.push(legend(frame, labelled, panel.legend));
  return parts.join('');
}

function barsPanel(frame: Frame, panel: Extract<Panel, { kind: 'bars' }>): string {
  const n = panel.categories.length;
  const yr = panel.yRange ?? { min: 0, max: extent(panel.values, { min: 0, max: 1 }).max * 1.05 || 1 };
  const { svg, sy } = axes(frame, panel, { min: 0, max: Math.max(n, 1) }, yr, false);
  const parts = [svg];
  const slot = frame.width / Math.max(n, 1);
  const every = Math.max(1, Math.ceil(n / 40)); // label at most ~40 categories
  panel.categories.forEach((name, i) => {
    const v = panel.values[i] ?? 0;
    const top = sy(Math.max(v, yr.min));
    const colour = panel.colours?.[i] ?? SERIES_COLOURS[0]!;
    parts.push(`<rect x="${f(frame.x0 + i * slot + slot * 0.1)}" y="${f(top)}" width="${f(slot * 0.8)}" height="${f(frame.y0 + frame.height - top)}" fill="${colour}"/>`);
    if (i % every === 0) {
      const cx = frame.x0 + (i + 0.5) * slot;
      const cy = frame.y0 + frame.height + 6;
      const rotate = n > 10 ? ` transform="rotate(90 ${f(cx)} ${f(cy)})" text-anchor="start"` : ' text-anchor="middle"';
      parts.push(`<text x="${f(cx)}" y="${f(n > 10 ? cy : cy + 9)}" font-size="${n > 10 ? 8 : 11}"${rotate}>${escapeXml(name.slice(0, 14))}</text>`);
    }
  });
  return parts.join('');
}

function histogramPanel(frame: Frame, panel: Extract<Panel, { kind: 'histogram' }>): string {
  const bins = panel.bins ?? 50;
  const xr = panel.xRange ?? extent(Array.from(panel.values));
  const counts = histogramCounts(panel.values, bins, xr);
  // Log scale: bars show log10(1 + count), ticks sit at powers of ten.
  const shown = panel.logY ? counts.map((c) => Math.log10(1 + c)) : counts;
  const yr = panel.yRange ?? { min: 0, max: Math.max(...shown, 1) * 1.05 };
  const decades = Array.from({ length: Math.floor(yr.max) + 1 }, (_, k) => ({ value: Math.log10(1 + 10 ** k), label: tickLabel(10 ** k) }));
  const { svg, sx, sy } = axes(frame, panel, xr, yr, true, panel.logY ? [{ value: 0, label: '0' }, ...decades] : undefined);
  const parts = [svg];
  const binWidth = (xr.max - xr.min) / bins;
  const colour = panel.colour ?? SERIES_COLOURS[0]!;
  shown.forEach((v, i) => {
    if (v <= 0) return;
    const left = sx(xr.min + i * binWidth);
    const right = sx(xr.min + (i + 1) * binWidth);
    parts.push(`<rect x="${f(left)}" y="${f(sy(v))}" width="${f(Math.max(right - left - 0.5, 0.5))}" height="${f(frame.y0 + frame.height - sy(v))}" fill="${colour}"/>`);
  });
  return parts.join('');
}

function scatterPanel(frame: Frame, panel: Extract<Panel, { kind: 'scatter' }>): string {
  // Room for point labels on the right and top.
  const xr = panel.xRange ?? padRange(extent(Array.from(panel.x)), panel.labels ? 0.15 : 0.05);
  const yr = panel.yRange ?? padRange(extent(Array.from(panel.y)), panel.labels ? 0.1 : 0.05);
  const { svg, sx, sy } = axes(frame, panel, xr, yr, true);
  const parts = [svg];
  const colour = panel.colour ?? SERIES_COLOURS[0]!;
  const r = panel.radius ?? 2;
  const opacity = panel.opacity ?? 0.6;
  for (let i = 0; i < panel.x.length; i++) {
    const [x, y] = [panel.x[i]!, panel.y[i]!];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="${r}" fill="${colour}" fill-opacity="${opacity}"/>`);
    const label = panel.labels?.[i];
    if (label) parts.push(`<text x="${f(sx(x) + r + 3)}" y="${f(sy(y) - r - 2)}" font-size="11">${escapeXml(label)}</text>`);
  }
  return parts.join('');
}

function rectsPanel(frame: Frame, panel: Extract<Panel, { kind: 'rects' }>): string {
  const xr = panel.xRange ?? { min: 0, max: 1 };
  const yr = panel.yRange ?? { min: 0, max: 1 };
  const { svg, sx, sy } = axes(frame, panel, xr, yr, true);
  const parts = [svg, `<clipPath id="c${frame.x0}_${frame.y0}"><rect x="${frame.x0}" y="${frame.y0}" width="${frame.width}" height="${frame.height}"/></clipPath>`];
  parts.push(`<g clip-path="url(#c${frame.x0}_${frame.y0})" fill="none" stroke-opacity="${panel.opacity ?? 0.4}">`);
  for (const r of panel.rects) {
    const [left, right] = [sx(r.cx - r.w / 2), sx(r.cx + r.w / 2)];
    const [top, bottom] = [sy(r.cy + r.h / 2), sy(r.cy - r.h / 2)];
    parts.push(`<rect x="${f(left)}" y="${f(top)}" width="${f(right - left)}" height="${f(bottom - top)}" stroke="${r.colour ?? SERIES_COLOURS[0]}"/>`);
  }
  parts.push('</g>');
  return parts.join('');
}

/** Cells coloured by value on matplotlib's 'Blues', with category labels; the labels are laid out inside the frame. */
function heatmapPanel(frame: Frame, panel: Extract<Panel, { kind: 'heatmap' }>): string {
  const { rows, columns, rowLabels = [], columnLabels = [] } = panel;
  const longest = (labels: readonly string[]) => Math.max(0, ...labels.map((l) => l.length));
  const barRoom = panel.colourBar ? 70 : 0;
  const xTitleRoom = panel.xLabel ? 22 : 0;
  // Tick labels scale with the cells (a first guess of their size), within readable bounds.
  const guess = Math.min((frame.width - barRoom) / columns, (frame.height - xTitleRoom) / rows);
  const font = Math.min(12, Math.max(6, guess * 0.75));
  const rowRoom = longest(rowLabels) * CHAR_WIDTH * font + 6 + (panel.yLabel ? 22 : 0);
  const cell = Math.min((frame.width - barRoom - rowRoom) / columns, (frame.height - xTitleRoom - 6 - font) / rows);
  const rotate = longest(columnLabels) * CHAR_WIDTH * font > cell * 0.95;
  const columnRoom = (rotate ? longest(columnLabels) * CHAR_WIDTH * font : font) + 6;
  const size = Math.max(Math.min(cell, (frame.height - xTitleRoom - columnRoom) / rows), 1);
  const x0 = frame.x0 + rowRoom;
  const y0 = frame.y0;
  const [gridWidth, gridHeight] = [size * columns, size * rows];

  const finite = Array.from(panel.values).filter((v) => Number.isFinite(v));
  const range = panel.colourRange ?? { min: 0, max: finite.reduce((a, b) => Math.max(a, b), 0) || 1 };
  const level = (v: number) => (v - range.min) / (range.max - range.min || 1);
  const parts: string[] = [];
  const annotationFont = Math.min(18, size * 0.3);
  // Faint cell borders under the cells: where most cells are blank they still show which row and column is which.
  for (let r = 0; r <= rows; r++) parts.push(`<line x1="${f(x0)}" y1="${f(y0 + r * size)}" x2="${f(x0 + gridWidth)}" y2="${f(y0 + r * size)}" stroke="#ececec"/>`);
  for (let c = 0; c <= columns; c++) parts.push(`<line x1="${f(x0 + c * size)}" y1="${f(y0)}" x2="${f(x0 + c * size)}" y2="${f(y0 + gridHeight)}" stroke="#ececec"/>`);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const v = panel.values[r * columns + c]!;
      if (!Number.isFinite(v)) continue;
      const [x, y] = [x0 + c * size, y0 + r * size];
      // A hair wider than the cell, so neighbours leave no seam.
      parts.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(size + 0.4)}" height="${f(size + 0.4)}" fill="${blues(level(v))}"/>`);
      if (panel.annotateDecimals !== undefined) {
        parts.push(
          `<text x="${f(x + size / 2)}" y="${f(y + size / 2 + annotationFont * 0.35)}" text-anchor="middle" font-size="${f(annotationFont)}" fill="${textOnBlues(level(v))}">${v.toFixed(panel.annotateDecimals)}</text>`,
        );
      }
    }
  }
  rowLabels.forEach((label, r) => {
    parts.push(`<text x="${f(x0 - 4)}" y="${f(y0 + (r + 0.5) * size + font * 0.35)}" text-anchor="end" font-size="${f(font)}">${escapeXml(label)}</text>`);
  });
  columnLabels.forEach((label, c) => {
    const x = x0 + (c + 0.5) * size;
    const y = y0 + gridHeight + 4;
    parts.push(
      rotate
        ? `<text x="${f(x + font * 0.35)}" y="${f(y)}" text-anchor="end" font-size="${f(font)}" transform="rotate(-90 ${f(x + font * 0.35)} ${f(y)})">${escapeXml(label)}</text>`
        : `<text x="${f(x)}" y="${f(y + font)}" text-anchor="middle" font-size="${f(font)}">${escapeXml(label)}</text>`,
    );
  });
  if (panel.title) parts.push(`<text x="${f(x0 + gridWidth / 2)}" y="${y0 - 10}" text-anchor="middle" font-size="15">${escapeXml(panel.title)}</text>`);
  if (panel.xLabel) parts.push(`<text x="${f(x0 + gridWidth / 2)}" y="${f(y0 + gridHeight + columnRoom + 16)}" text-anchor="middle" font-size="13">${escapeXml(panel.xLabel)}</text>`);
  if (panel.yLabel) {
    const [cx, cy] = [frame.x0 + 10, y0 + gridHeight / 2];
    parts.push(`<text x="${f(cx)}" y="${f(cy)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${f(cx)} ${f(cy)})">${escapeXml(panel.yLabel)}</text>`);
  }
  if (panel.colourBar) {
    const [bx, id] = [x0 + gridWidth + 20, `blues${frame.x0}_${frame.y0}`];
    const sy = scaleLinear(range, y0 + gridHeight, y0);
    parts.push(`<linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${bluesStops()}</linearGradient>`);
    parts.push(`<rect x="${f(bx)}" y="${y0}" width="16" height="${f(gridHeight)}" fill="url(#${id})" stroke="#333" stroke-width="0.5"/>`);
    for (const t of niceTicks(range, 5)) {
      parts.push(`<line x1="${f(bx + 16)}" y1="${f(sy(t))}" x2="${f(bx + 20)}" y2="${f(sy(t))}" stroke="#333"/>`);
      parts.push(`<text x="${f(bx + 23)}" y="${f(sy(t) + 4)}" font-size="11">${tickLabel(t)}</text>`);
    }
  }
  return parts.join('');
}

/** The count at or above which the densest cells hold `1 - pmax` of everything (seaborn's `pmax` colour limit). */
function countAtMass(counts: readonly number[], pmax: number): number {
  const sorted = counts.filter((c) => c > 0).sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  let cumulative = 0;
  for (const c of sorted) {
    cumulative += c;
    if (cumulative / total >= 1 - pmax) return c;
  }
  return sorted.at(-1) ?? 1;
}

/** Counts of (x, y) pairs in a grid of bins, darker for more; empty bins stay blank. */
function histogram2dPanel(frame: Frame, panel: Extract<Panel, { kind: '2d-histogram' }>): string {
  const bins = panel.bins ?? 50;
  const xr = panel.xRange ?? extent(Array.from(panel.x));
  const yr = panel.yRange ?? extent(Array.from(panel.y));
  const { svg, sx, sy } = axes(frame, panel, xr, yr, true);
  const counts = new Array<number>(bins * bins).fill(0);
  const bin = (v: number, r: Range) => Math.min(bins - 1, Math.floor(((v - r.min) / (r.max - r.min || 1)) * bins));
  for (let i = 0; i < panel.x.length; i++) {
    const [x, y] = [panel.x[i]!, panel.y[i]!];
    if (x >= xr.min && x <= xr.max && y >= yr.min && y <= yr.max) counts[bin(y, yr) * bins + bin(x, xr)]! += 1;
  }
  // The few densest bins would otherwise wash everything else out to white.
  const top = countAtMass(counts, 0.9);
  const [bw, bh] = [(xr.max - xr.min) / bins, (yr.max - yr.min) / bins];
  const parts = [svg];
  counts.forEach((count, k) => {
    if (count === 0) return;
    const [i, j] = [k % bins, Math.floor(k / bins)];
    const [left, right] = [sx(xr.min + i * bw), sx(xr.min + (i + 1) * bw)];
    const [upper, lower] = [sy(yr.min + (j + 1) * bh), sy(yr.min + j * bh)];
    parts.push(`<rect x="${f(left)}" y="${f(upper)}" width="${f(right - left + 0.3)}" height="${f(lower - upper + 0.3)}" fill="${blues(0.25 + 0.75 * Math.min(count / top, 1))}"/>`);
  });
  return parts.join('');
}

/** The figure as an SVG document: panels laid out row by row in `columns` columns; a null panel leaves its cell empty. */
export function figureSvg(panels: readonly (Panel | null)[], options: FigureOptions = {}): string {
  if (panels.length === 0) throw new Error('figureSvg: a figure needs at least one panel');
  const columns = Math.min(options.columns ?? panels.length, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const pw = options.panelWidth ?? 400;
  const ph = options.panelHeight ?? 300;
  const titleHeight = options.title ? 30 : 0;
  const width = columns * pw;
  const height = rows * ph + titleHeight;
  const margin = { ...MARGIN, ...options.margin };
  const body = panels.map((panel, i) => {
    if (!panel) return '';
    const frame: Frame = {
      x0: (i % columns) * pw + margin.left,
      y0: titleHeight + Math.floor(i / columns) * ph + margin.top,
      width: pw - margin.left - margin.right,
      height: ph - margin.top - margin.bottom,
    };
    switch (panel.kind) {
      case 'lines': return linesPanel(frame, panel);
      case 'bars': return barsPanel(frame, panel);
      case 'histogram': return histogramPanel(frame, panel);
      case 'scatter': return scatterPanel(frame, panel);
      case 'rects': return rectsPanel(frame, panel);
      case 'heatmap': return heatmapPanel(frame, panel);
      case '2d-histogram': return histogram2dPanel(frame, panel);
    }
  });
  const title = options.title ? `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16">${escapeXml(options.title)}</text>` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}" fill="#222">` +
    `<rect width="${width}" height="${height}" fill="white"/>${title}${body.join('')}</svg>`
  );
}
