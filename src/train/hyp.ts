// Training hyperparameters (the YOLOv5 `hyp.*.yaml` files): optimisation, loss gains and augmentation.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { shippedConfigDir } from '../model/config.js';
import type { AugmentHyp } from '../data/augment/hyp.js';

export interface Hyp extends AugmentHyp {
  lr0: number;
  lrf: number;
  momentum: number;
  weight_decay: number;
  warmup_epochs: number;
  warmup_momentum: number;
  warmup_bias_lr: number;
  box: number;
  cls: number;
  cls_pw: number;
  obj: number;
  obj_pw: number;
  iou_t: number;
  anchor_t: number;
  fl_gamma: number;
  copy_paste: number;
  /** Class label smoothing epsilon (a command-line option in YOLOv5, kept with the rest). */
  label_smoothing: number;
  /** Anchors per level for configs without explicit anchors (optional in the files). */
  anchors?: number;
}

const REQUIRED: (keyof Hyp)[] = [
  'lr0', 'lrf', 'momentum', 'weight_decay', 'warmup_epochs', 'warmup_momentum', 'warmup_bias_lr',
  'box', 'cls', 'cls_pw', 'obj', 'obj_pw', 'iou_t', 'anchor_t', 'fl_gamma',
  'hsv_h', 'hsv_s', 'hsv_v', 'degrees', 'translate', 'scale', 'shear', 'perspective', 'flipud', 'fliplr',
  'mosaic', 'mixup', 'copy_paste',
];
const OPTIONAL: (keyof Hyp)[] = ['label_smoothing', 'anchors'];
const PROBABILITIES: (keyof Hyp)[] = ['flipud', 'fliplr', 'mosaic', 'mixup', 'copy_paste', 'label_smoothing'];

export const DEFAULT_HYP = 'hyp.scratch-low';

/** The folder of shipped hyperparameter files (cfg/hyps at the package root). */
export function shippedHypDir(): string {
  return join(dirname(shippedConfigDir()), 'hyps');
}

/** Checks a parsed hyp mapping; `source` names it in errors. */
export function validateHyp(raw: unknown, source: string): Hyp {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: hyperparameters must be a mapping of name: number`);
  const entries = raw as Record<string, unknown>;
  const known = new Set<string>([...REQUIRED, ...OPTIONAL]);
  for (const key of Object.keys(entries)) {
    if (!known.has(key)) throw new Error(`${source}: unknown hyperparameter '${key}' (expected ${[...known].join(', ')})`);
  }
  for (const key of REQUIRED) if (!(key in entries)) throw new Error(`${source}: missing hyperparameter '${key}'`);
  for (const [key, value] of Object.entries(entries)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`${source}: hyperparameter '${key}' must be a non-negative number, got ${JSON.stringify(value)}`);
    }
  }
  for (const key of PROBABILITIES) {
    if (key in entries && (entries[key] as number) > 1) throw new Error(`${source}: '${key}' is a probability, got ${String(entries[key])}`);
  }
  if ((entries.anchor_t as number) <= 1) throw new Error(`${source}: 'anchor_t' must be greater than 1, got ${String(entries.anchor_t)}`);
  if ((entries.lr0 as number) <= 0) throw new Error(`${source}: 'lr0' must be positive`);
  const hyp = entries as unknown as Hyp;
  return { ...hyp, label_smoothing: hyp.label_smoothing ?? 0 };
}

/** Loads hyperparameters from a YAML path or a shipped name (`hyp.scratch-low`, `scratch-med`, ...). */
export function loadHyp(pathOrName: string = DEFAULT_HYP): Hyp {
  let path = resolve(pathOrName);
  if (!existsSync(path)) {
    const base = pathOrName.replace(/\.ya?ml$/, '');
    const shipped = join(shippedHypDir(), `${base.startsWith('hyp.') ? base : `hyp.${base}`}.yaml`);
    if (!existsSync(shipped)) throw new Error(`hyperparameter file '${pathOrName}' not found (neither a file nor a shipped hyp in ${shippedHypDir()})`);
    path = shipped;
  }
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not valid YAML (${(error as Error).message})`);
  }
  return validateHyp(raw, path);
}

/**
 * The loss gains as YOLOv5 rescales them before training: box by 3/levels, class by classes/80 and levels,
 * objectness by image area relative to 640² and levels.
 */
export function scaleLossGains(hyp: Hyp, model: { nl: number; nc: number; imgsz: number }): Hyp {
  const levels = 3 / model.nl;
  return {
    ...hyp,
    box: hyp.box * levels,
    cls: hyp.cls * (model.nc / 80) * levels,
    obj: hyp.obj * (model.imgsz / 640) ** 2 * levels,
  };
}
