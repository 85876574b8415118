// YOLO label files: one object per line, `class cx cy w h` normalised to [0, 1] (or `class x1 y1 x2 y2 ...`, a
// polygon, taken as its bounding box). Checks follow YOLOv5's `verify_image_label`: a broken file makes its
// image unusable (skipped as corrupt), duplicate rows are dropped with a warning.

/** Values this far outside [0, 1] are rounding noise from label writers and get clipped; beyond it, an error. */
export const COORDINATE_TOLERANCE = 1e-3;

export interface ParsedLabels {
  /** Rows of [class, cx, cy, w, h], normalised. */
  boxes: Float32Array;
  /** Problems that were fixed (e.g. duplicate rows removed), each naming the file and line. */
  warnings: string[];
}

/** A label file that cannot be used; the message names the file and line. */
export class LabelError extends Error {
  override name = 'LabelError';
}

function polygonToBox(coords: number[]): [number, number, number, number] {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (let i = 0; i < coords.length; i += 2) {
    x1 = Math.min(x1, coords[i]!);
    x2 = Math.max(x2, coords[i]!);
    y1 = Math.min(y1, coords[i + 1]!);
    y2 = Math.max(y2, coords[i + 1]!);
  }
  return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
}

function parseRow(tokens: string[], where: string, nc: number): number[] {
  const isBox = tokens.length === 5;
  const isPolygon = tokens.length >= 7 && tokens.length % 2 === 1;
  if (!isBox && !isPolygon) {
    throw new LabelError(`${where}: expected 5 columns (class cx cy w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...), got ${tokens.length}`);
  }
  const values = tokens.map((token) => {
    const value = Number(token);
    if (!Number.isFinite(value)) throw new LabelError(`${where}: '${token}' is not a number`);
    return value;
  });
  const cls = values[0]!;
  if (!Number.isInteger(cls)) throw new LabelError(`${where}: class ${tokens[0]} is not an integer`);
  if (cls < 0 || cls >= nc) throw new LabelError(`${where}: class ${cls} out of range (nc=${nc})`);
  const coords = values.slice(1).map((value, i) => {
    if (value < -COORDINATE_TOLERANCE) throw new LabelError(`${where}: negative coordinate ${tokens[i + 1]}`);
    if (value > 1 + COORDINATE_TOLERANCE) throw new LabelError(`${where}: coordinate ${tokens[i + 1]} outside [0, 1] (labels must be normalised by the image size)`);
    return Math.min(Math.max(value, 0), 1);
  });
  return [cls, ...(isBox ? coords : polygonToBox(coords))];
}

/** Parses one label file's text. Throws LabelError when the file is unusable. */
export function parseLabels(text: string, file: string, nc: number): ParsedLabels {
  const rows: number[] = [];
  const warnings: string[] = [];
  const firstLineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, i) => {
    const tokens = line.trim().split(/\s+/).filter((token) => token !== '');
    if (tokens.length === 0) return;
    const lineNumber = i + 1;
    const row = parseRow(tokens, `${file} line ${lineNumber}`, nc);
    // Rows compare at float32 precision, the precision they are kept at.
    const key = row.map((v) => Math.fround(v)).join(' ');
    const first = firstLineOf.get(key);
    if (first !== undefined) {
      warnings.push(`${file} line ${lineNumber}: duplicate of line ${first}, removed`);
      return;
    }
    firstLineOf.set(key, lineNumber);
    rows.push(...row);
  });
  return { boxes: Float32Array.from(rows), warnings };
}


/**
 * One line of a YOLO label file for a box given by corners in pixels of an image of `size`: `class cx cy w h`
 * normalised, then the confidence when given; numbers as Python's `%g` writes them (6 significant digits).
 */
export function labelLine(classId: number, box: { x1: number; y1: number; x2: number; y2: number }, size: { width: number; height: number }, confidence?: number): string {
  const { width, height } = size;
  const values = [(box.x1 + box.x2) / 2 / width, (box.y1 + box.y2) / 2 / height, (box.x2 - box.x1) / width, (box.y2 - box.y1) / height];
  if (confidence !== undefined) values.push(confidence);
  return `${[String(classId), ...values.map((v) => String(Number(v.toPrecision(6))))].join(' ')}\n`;
}
