// The official implementation's validation numbers (reference/yolov5n-val-official.json), read by the parity test
// on the fixture images and by bench/val-parity.ts on the whole of COCO128 val.
import { readFileSync } from 'node:fs';

/** One official val.run(): its settings and P, R, mAP50, mAP50-95. */
export interface OfficialResult {
  imgsz: number;
  batch_size: number;
  P: number;
  R: number;
  mAP50: number;
  mAP50_95: number;
}

export interface OfficialReference {
  coco128_val: { results: OfficialResult[] };
  coco128_val32: { results: OfficialResult[]; tta_results: OfficialResult[] };
}

export function readOfficialReference(path: string): OfficialReference {
  return JSON.parse(readFileSync(path, 'utf8')) as OfficialReference;
}

/** Ours against theirs, metric by metric, as [name, ours, official]. */
export function metricPairs(ours: { mp: number; mr: number; map50: number; map: number }, official: OfficialResult) {
  return [
    ['P', ours.mp, official.P],
    ['R', ours.mr, official.R],
    ['mAP50', ours.map50, official.mAP50],
    ['mAP50-95', ours.map, official.mAP50_95],
  ] as const;
}
