// The validation table as YOLOv5 prints it: a 22-wide class column, then 11-wide columns.

/** Like printf's `%.<digits>g`: significant digits, trailing zeros dropped, exponent for very small or large values. */
export function formatG(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(digits)))));
  if (exponent < -4 || exponent >= digits) {
    const [mantissa, power] = x.toExponential(digits - 1).split('e');
    const p = Number(power);
    return `${mantissa!.replace(/\.?0+$/, '')}e${p < 0 ? '-' : '+'}${String(Math.abs(p)).padStart(2, '0')}`;
  }
  return String(Number(x.toPrecision(digits)));
}

/** printf's `%.3g`, the precision of the validation table. */
export const formatG3 = (x: number): string => formatG(x, 3);

export const TABLE_HEADER = `${'Class'.padStart(22)}${['Images', 'Instances', 'P', 'R', 'mAP50', 'mAP50-95'].map((s) => s.padStart(11)).join('')}`;

export function formatTableRow(name: string, images: number, instances: number, p: number, r: number, map50: number, map: number): string {
  return `${name.padStart(22)}${String(images).padStart(11)}${String(instances).padStart(11)}${[p, r, map50, map].map((v) => formatG3(v).padStart(11)).join('')}`;
}

export interface Speed {
  /** Milliseconds per image for each stage. */
  preprocess: number;
  inference: number;
  nms: number;
}

export function formatSpeed(speed: Speed, shape: readonly number[]): string {
  return `Speed: ${speed.preprocess.toFixed(1)}ms pre-process, ${speed.inference.toFixed(1)}ms inference, ${speed.nms.toFixed(1)}ms NMS per image at shape (${shape.join(', ')})`;
}
