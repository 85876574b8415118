// `val --task study` (YOLOv5's speed-versus-accuracy study): each model validated at a range of image sizes, a
// study_<data>_<weights>.txt per model in val.py's format and study.png comparing them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extent, padRange } from '../plot/axes.js';
import { legendWidth, type Panel } from '../plot/figure.js';
import { saveFigure } from '../plot/render.js';
import { formatG } from './report.js';
import type { ValidationResult } from './validator.js';

/** val.py's study sizes: 256 to 1536 pixels in steps of 128. */
export const STUDY_SIZES: readonly number[] = Array.from({ length: 11 }, (_, i) => 256 + 128 * i);

export interface StudyPoint {
  imgsz: number;
  result: ValidationResult;
}

export interface ModelStudy {
  /** The model's name in the plot's legend. */
  name: string;
  points: StudyPoint[];
}


/**
 * A study file: a row per size as val.py's `np.savetxt(fmt='%10.4g')`: P, R, mAP50, mAP50-95, the three loss parts
 * (0, no loss is computed) and the milliseconds per image of pre-processing, inference and NMS. The header is a
 * comment, which NumPy's loadtxt (and so YOLOv5's plot_val_study) skips.
 */
export function studyText(points: readonly StudyPoint[]): string {
  const header = [
    '# P R mAP50 mAP50-95 val/box_loss val/obj_loss val/cls_loss pre-process(ms) inference(ms) NMS(ms)',
    `# one row per image size: ${points.map((p) => p.imgsz).join(' ')}`,
  ];
  const rows = points.map(({ result: r }) =>
    [r.mp, r.mr, r.map50, r.map, 0, 0, 0, r.speed.preprocess, r.speed.inference, r.speed.nms].map((v) => formatG(v, 4).padStart(10)).join(' '),
  );
  return `${[...header, ...rows].join('\n')}\n`;
}

/** Writes `file` in `saveDir`; returns its path. */
export function writeStudy(saveDir: string, file: string, points: readonly StudyPoint[]): string {
  const path = join(saveDir, file);
  writeFileSync(path, studyText(points));
  return path;
}

/** study.png: mAP50-95 against image size and against inference time, a line per model. */
export async function plotStudy(studies: readonly ModelStudy[], path: string): Promise<void> {
  const panel = (title: string, xLabel: string, x: (p: StudyPoint) => number): Panel => ({
    kind: 'lines',
    title,
    xLabel,
    yLabel: 'mAP50-95',
    series: studies.map((study) => ({ x: study.points.map(x), y: study.points.map((p) => p.result.map), label: study.name, markers: true })),
    // Room for the end points' markers, and the legend beside the plot rather than over the curves' high end.
    xRange: padRange(extent(studies.flatMap((study) => study.points.map(x)))),
    legend: 'outside',
  });
  const legend = legendWidth(studies.map((study) => study.name));
  await saveFigure(
    [panel('mAP50-95 by image size', 'image size (pixels)', (p) => p.imgsz), panel('mAP50-95 by inference time', 'inference (ms per image)', (p) => p.result.speed.inference)],
    path,
    { columns: 2, panelWidth: 520 + legend, panelHeight: 420, margin: { right: legend + 24 } },
  );
}
