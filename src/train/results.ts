// Per-epoch results: the record the trainer keeps and results.csv with YOLOv5's column names (plus hook columns).
import { rename, writeFile } from 'node:fs/promises';

export interface EpochRecord {
  epoch: number;
  /** Mean training loss parts over the epoch: box, objectness, class. */
  train: [number, number, number];
  precision: number;
  recall: number;
  map50: number;
  map: number;
  /**
   * The training loss parts on the validation set: box, objectness, class (NaN where no validation measured them,
   * e.g. epochs of runs made before they were recorded).
   */
  val: [number, number, number];
  /** Learning rate of each parameter group at the end of the epoch. */
  lr: [number, number, number];
  fitness: number;
  /** Columns added by hooks (e.g. pruning's sparsity figures). */
  extra: Record<string, number>;
}

export const RESULT_COLUMNS = [
  'epoch',
  'train/box_loss',
  'train/obj_loss',
  'train/cls_loss',
  'metrics/precision',
  'metrics/recall',
  'metrics/mAP_0.5',
  'metrics/mAP_0.5:0.95',
  'val/box_loss',
  'val/obj_loss',
  'val/cls_loss',
  'x/lr0',
  'x/lr1',
  'x/lr2',
] as const;

/**
 * A record as stored in a checkpoint's history: those written before validation losses were recorded have none,
 * and JSON turns NaN into null.
 */
export function restoreRecord(stored: Omit<EpochRecord, 'val'> & { val?: (number | null)[] }): EpochRecord {
  const val = stored.val ?? [];
  return { ...stored, val: [0, 1, 2].map((k) => val[k] ?? Number.NaN) as [number, number, number] };
}

/** Fitness as YOLOv5 ranks checkpoints: 0.1·mAP50 + 0.9·mAP50-95. */
export function fitness(metrics: { map50: number; map: number }): number {
  return 0.1 * metrics.map50 + 0.9 * metrics.map;
}

/** Hook columns in order of first appearance. */
export function extraColumns(records: readonly EpochRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const k of Object.keys(r.extra)) keys.add(k);
  return [...keys];
}

const cell = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(6));

export function resultsCsv(records: readonly EpochRecord[]): string {
  const extras = extraColumns(records);
  const header = [...RESULT_COLUMNS, ...extras].join(',');
  const rows = records.map((r) =>
    [r.epoch, ...r.train, r.precision, r.recall, r.map50, r.map, ...r.val, ...r.lr, ...extras.map((k) => r.extra[k])].map(cell).join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/** Rewrites results.csv from the full history (temporary file, then rename). */
export async function writeResultsCsv(path: string, records: readonly EpochRecord[]): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, resultsCsv(records));
  await rename(temporary, path);
}
