// Hyperparameter evolution (YOLOv5's train.py --evolve): each generation trains with a mutation of one of the best
// earlier results, validates its final epoch only, and appends a row to evolve.csv. The search continues from
// that file, so a rerun of the same command picks up where the last one stopped.
import { existsSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createRng, type Rng } from '../util/random.js';
import { saveFigure } from '../plot/render.js';
import type { Panel } from '../plot/figure.js';
import { loadHyp, validateHyp, type Hyp } from './hyp.js';
import { fitness } from './results.js';
import { train, type TrainOptions } from './trainer.js';

/**
 * Per hyperparameter: mutation gain (0 never mutates) and the bounds a mutation is clipped to — YOLOv5's search
 * space. Class label smoothing is not searched.
 */
export const EVOLVE_SPACE: Readonly<Partial<Record<keyof Hyp, readonly [gain: number, lower: number, upper: number]>>> = {
  lr0: [1, 1e-5, 1e-1],
  lrf: [1, 0.01, 1.0],
  momentum: [0.3, 0.6, 0.98],
  weight_decay: [1, 0.0, 0.001],
  warmup_epochs: [1, 0.0, 5.0],
  warmup_momentum: [1, 0.0, 0.95],
  warmup_bias_lr: [1, 0.0, 0.2],
  box: [1, 0.02, 0.2],
  cls: [1, 0.2, 4.0],
  cls_pw: [1, 0.5, 2.0],
  obj: [1, 0.2, 4.0],
  obj_pw: [1, 0.5, 2.0],
  iou_t: [0, 0.1, 0.7],
  anchor_t: [1, 2.0, 8.0],
  anchors: [2, 2.0, 10.0],
  fl_gamma: [0, 0.0, 2.0],
  hsv_h: [1, 0.0, 0.1],
  hsv_s: [1, 0.0, 0.9],
  hsv_v: [1, 0.0, 0.9],
  degrees: [1, 0.0, 45.0],
  translate: [1, 0.0, 0.9],
  scale: [1, 0.0, 0.9],
  shear: [1, 0.0, 10.0],
  perspective: [0, 0.0, 0.001],
  flipud: [1, 0.0, 1.0],
  fliplr: [0, 0.0, 1.0],
  mosaic: [1, 0.0, 1.0],
  mixup: [1, 0.0, 1.0],
  copy_paste: [1, 0.0, 1.0],
};
/** The metric columns of evolve.csv, before the hyperparameters. */
export const EVOLVE_METRICS = ['metrics/precision', 'metrics/recall', 'metrics/mAP_0.5', 'metrics/mAP_0.5:0.95'] as const;
/** Parents come from this many best generations so far. */
const PARENTS = 5;
/** A hyperparameter mutates with this probability, by a factor 1 + gain · N(0, 1) · U(0, 1) · SIGMA in [0.3, 3]. */
const MUTATION_PROBABILITY = 0.8;
const SIGMA = 0.2;

export interface Generation {
  /** Precision, recall, mAP50, mAP50-95 of the final epoch. */
  metrics: [number, number, number, number];
  hyp: Hyp;
}

const generationFitness = (g: Generation) => fitness({ map50: g.metrics[2], map: g.metrics[3] });
const fittest = (generations: readonly Generation[]) => generations.reduce((a, b) => (generationFitness(b) > generationFitness(a) ? b : a));

/** The generations recorded in an evolve.csv, checked against the hyperparameters being evolved. */
export function readGenerations(file: string, keys: readonly string[]): Generation[] {
  if (!existsSync(file)) return [];
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const columns = (header ?? '').split(',').map((c) => c.trim());
  const expected = [...EVOLVE_METRICS, ...keys];
  if (columns.join() !== expected.join()) {
    throw new Error(`${file}: its columns (${columns.join(', ')}) are not this search's (${expected.join(', ')}); evolve into another folder (--name)`);
  }
  return lines.map((line, i) => {
    const values = line.split(',').map(Number);
    if (values.length !== columns.length || values.some((v) => !Number.isFinite(v))) throw new Error(`${file}: row ${i + 2} is not ${columns.length} numbers`);
    const hyp = validateHyp(Object.fromEntries(keys.map((k, j) => [k, values[EVOLVE_METRICS.length + j]!])), `${file} row ${i + 2}`);
    return { metrics: values.slice(0, EVOLVE_METRICS.length) as Generation['metrics'], hyp };
  });
}

/** The parent of the next generation: one of the best PARENTS so far, drawn with weight fitness − worst + 1e-6. */
export function selectParent(generations: readonly Generation[], rng: Rng): Hyp {
  const best = [...generations].sort((a, b) => generationFitness(b) - generationFitness(a)).slice(0, PARENTS);
  if (best.length === 0) throw new Error('selectParent: no generations yet');
  const floor = Math.min(...best.map(generationFitness));
  const weights = best.map((g) => generationFitness(g) - floor + 1e-6);
  let draw = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < best.length; i++) {
    draw -= weights[i]!;
    if (draw < 0) return best[i]!.hyp;
  }
  return best[best.length - 1]!.hyp;
}

/** A mutation of `parent` that differs from it in at least one searched value, clipped to the bounds, 5 decimals. */
export function mutate(parent: Hyp, rng: Rng): Hyp {
  const keys = (Object.keys(EVOLVE_SPACE) as (keyof Hyp)[]).filter((k) => parent[k] !== undefined && EVOLVE_SPACE[k]![0] > 0);
  if (keys.length === 0) throw new Error('mutate: nothing to mutate');
  let factors: number[];
  do {
    const spread = rng.next() * SIGMA;
    factors = keys.map((k) => {
      const mutates = rng.next() < MUTATION_PROBABILITY;
      return Math.min(3, Math.max(0.3, 1 + EVOLVE_SPACE[k]![0] * (mutates ? 1 : 0) * rng.normal() * spread));
    });
  } while (factors.every((f) => f === 1));
  const child: Hyp = { ...parent };
  keys.forEach((k, i) => {
    const [, lower, upper] = EVOLVE_SPACE[k]!;
    child[k] = Math.round(Math.min(upper, Math.max(lower, (parent[k] as number) * factors[i]!)) * 1e5) / 1e5;
  });
  return child;
}

/** evolve.png: every generation's fitness against each searched hyperparameter, the best marked. */
async function plotGenerations(generations: readonly Generation[], keys: readonly (keyof Hyp)[], file: string): Promise<void> {
  const fits = generations.map(generationFitness);
  const best = fits.indexOf(Math.max(...fits));
  const panels: Panel[] = keys.map((k) => ({
    kind: 'scatter',
    title: `${k} = ${tick(generations[best]!.hyp[k] as number)}`,
    xLabel: k,
    yLabel: 'fitness',
    x: generations.map((g) => g.hyp[k] as number),
    y: fits,
    radius: 4,
    opacity: 0.6,
    labels: generations.map((_, i) => (i === best ? '+ best' : '')),
  }));
  await saveFigure(panels, file, { columns: Math.min(6, panels.length), panelWidth: 260, panelHeight: 220 });
}
const tick = (v: number) => String(+v.toPrecision(3));

export interface EvolveOptions extends TrainOptions {
  /** Generations in all, the recorded ones included. */
  generations: number;
  /** The search's folder (evolve.csv, hyp_evolve.yaml, evolve.png); generations train in its `generation` subfolder. */
  saveDir: string;
}

export interface EvolveResult {
  generations: Generation[];
  best: Generation;
  csv: string;
  yaml: string;
}

/**
 * Runs the generations that evolve.csv in `saveDir` does not hold yet. The first generation of a new search trains
 * with the given hyperparameters as they are; every later one with a mutation of a good earlier one.
 */
export async function evolve(options: EvolveOptions): Promise<EvolveResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const base = typeof options.hyp === 'object' ? options.hyp : loadHyp(options.hyp);
  const keys = Object.keys(base) as (keyof Hyp)[];
  const searched = keys.filter((k) => (EVOLVE_SPACE[k]?.[0] ?? 0) > 0);
  const csv = join(options.saveDir, 'evolve.csv');
  const yaml = join(options.saveDir, 'hyp_evolve.yaml');
  const generations = readGenerations(csv, keys);
  if (generations.length > 0) log(`evolve: continuing ${csv} after ${generations.length} generations`);
  if (!existsSync(csv)) writeFileSync(csv, `${[...EVOLVE_METRICS, ...keys].join(',')}\n`);
  // Each generation draws from its own stream: a resumed search makes the choices an uninterrupted one would have.
  for (let g = generations.length; g < options.generations; g++) {
    const rng = createRng(options.seed ?? 0, g);
    const hyp = g === 0 ? base : mutate(selectParent(generations, rng), rng);
    log(`\nevolve: generation ${g + 1}/${options.generations}`);
    const runDir = join(options.saveDir, 'generation');
    rmSync(runDir, { recursive: true, force: true });
    const { generations: _, saveDir: __, ...trainOptions } = options;
    const result = await train({ ...trainOptions, hyp, saveDir: runDir, noval: true, nosave: true, noplots: true, patience: 0 });
    if (result.interrupted) throw new Error(`evolve: generation ${g + 1} was interrupted; rerun the same command to continue the search from ${csv}`);
    const last = result.epochs[result.epochs.length - 1]!;
    const generation: Generation = { metrics: [last.precision, last.recall, last.map50, last.map], hyp };
    generations.push(generation);
    appendFileSync(csv, `${[...generation.metrics.map((v) => +v.toFixed(5)), ...keys.map((k) => hyp[k])].join(',')}\n`);
    const best = fittest(generations);
    writeFileSync(
      yaml,
      `# YOLOv5 hyperparameter evolution: the best of ${generations.length} generations (fitness ${generationFitness(best).toFixed(5)}: ` +
        `P ${best.metrics[0].toFixed(4)}, R ${best.metrics[1].toFixed(4)}, mAP50 ${best.metrics[2].toFixed(4)}, mAP50-95 ${best.metrics[3].toFixed(4)})\n` +
        stringify(best.hyp),
    );
    await plotGenerations(generations, searched, join(options.saveDir, 'evolve.png'));
    log(`evolve: generation ${g + 1} fitness ${generationFitness(generation).toFixed(5)}, best ${generationFitness(best).toFixed(5)} (${yaml})`);
  }
  rmSync(join(options.saveDir, 'generation'), { recursive: true, force: true });
  return { generations, best: fittest(generations), csv, yaml };
}
