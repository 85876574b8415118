// The settings of a prune run: the options a user gives (checked, with one message per mistake), what the recipe
// needs to know to fill in the rest, and each round's target.
import { resolve } from 'node:path';
import type { DetectionModel } from '../model/yolo.js';
import { gflops, latencyCost } from '../model/summary.js';
import type { OptimizerName } from '../train/optimizer.js';
import { loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import type { PruneTarget } from './round.js';
import type { ImportanceMeasure, Recipe, RecipeFacts, RecipeRequest } from './recipe.js';
import { channelBlock } from '../infer/channel-block.js';
import type { CheckpointMeta } from '../checkpoint/index.js';
import type { Criterion } from './plan.js';
import { DEFAULT_HYP, loadHyp, type Hyp } from '../train/hyp.js';
import type { ModelFigures } from './report.js';
import { integer, number } from '../util/check.js';

/**
 * Options of `yolov5 prune`. Those marked "chosen" are picked by the recipe (src/prune/recipe.ts) from the budget,
 * the target, the data and the checkpoint when left out; the run prints each choice and its reason.
 */
export interface PruneOptions {
  weights: string;
  data: string;
  imgsz?: number;
  batchSize?: number;
  /** Epochs in all: sparsity training of every round plus fine-tuning (chosen from the dataset size; 0: one-shot). */
  epochs?: number;
  /** Images per optimizer step in sparsity training and fine-tuning (chosen). */
  nominalBatch?: number;
  /** Rounds of sparsity training then pruning (chosen). */
  rounds?: number;
  /** Sparsity-training epochs per round (chosen). */
  epochsPerRound?: number;
  /** Fine-tuning epochs after the last round (chosen). */
  finetuneEpochs?: number;
  /**
   * Fade out the channels each round's plan removes during that round's later sparsity epochs, their gates capped
   * by a bound falling linearly to zero (default off: measured worse than pruning at once on Highway; needs the gate
   * criterion, a ratio, FLOPs or latency target and at least two sparsity epochs a round; see src/prune/fade.ts).
   */
  fade?: boolean;
  /** λ: the sparsity strength (also the starting value when a target sparsity adapts it; chosen). */
  sparsity?: number;
  /**
   * Share of gates wanted below the threshold; λ adapts between epochs to reach it. Default: per round, the share
   * of channels a uniform narrowing removes to reach that round's cost target.
   */
  targetSparsity?: number;
  /** The gates' learning rate in sparsity training (no warmup; decays with the schedule; chosen). */
  gateLr?: number;
  /**
   * Lower bound of the fine-tuning warmup in iterations (default 100, as YOLOv5). A pruned model needs its learning
   * rate to recover, and on a small dataset 100 iterations are many epochs. Sparsity training keeps the official
   * warmup: it starts from a trained model that a harsh start would damage. Default 0: the recipe shortens the
   * warmup instead (see recipe.ts).
   */
  minWarmup?: number;
  /**
   * Gain of distillation from the original model during fine-tuning (chosen: on when the original is a good
   * teacher): the pruned model learns the unpruned one's outputs on the same images besides the labels.
   */
  distill?: number;
  /**
   * Gain of feature distillation at the start of fine-tuning, falling linearly to 0 by its end: each layer's output
   * learns the same channels of the model it was pruned from (see FeatureDistillation).
   */
  featureDistill?: number;
  /** Prune channels whose importance is below this (also the threshold of the gate statistics). */
  threshold?: number;
  /** Remove this share of all channels by the end. */
  ratio?: number;
  /** Keep this fraction of the original GFLOPs by the end. */
  targetFlops?: number;
  /**
   * Keep this fraction of the original's estimated CPU latency by the end (convLatencyCost: multiply-adds plus a
   * cost per output element); among channels of similar importance the costly ones go first.
   */
  targetLatency?: number;
  minChannels?: number;
  /** Kept channel counts rounded up to a multiple of this (chosen: ONNX Runtime's channel block on this CPU). */
  round?: number;
  criterion?: Criterion;
  /**
   * How the gate criterion ranks channels: |gate| (default), or the first-order Taylor estimate of the loss change
   * if the channel were removed, measured through the gates on training batches (ranks channels whose gates
   * have not separated). Needs a ratio, FLOPs or latency target: its scale has no meaning for a threshold.
   */
  importance?: ImportanceMeasure;
  /** Hyperparameters (path or shipped name; chosen: those the checkpoint was trained with, warmup shortened). */
  hyp?: string;
  /** Optimizer of sparsity training and fine-tuning (chosen: the checkpoint's); the gates share it. */
  optimizer?: OptimizerName;
  /** Cache decoded training images in RAM when they fit (default true). */
  cache?: boolean;
  workers?: number;
  seed?: number;
  project?: string;
  name?: string;
  existOk?: boolean;
  /** A previous run's folder (or its state.json) to continue. */
  resume?: string;
  /** Calibration images for the reconstruction of removed channels, BatchNorm statistics and Taylor importance. */
  calibImages?: number;
  /** Measure ONNX Runtime latency of the original and the pruned model (default true). */
  benchmark?: boolean;
  /**
   * Also quantize the pruned model to INT8 (ONNX, QDQ; calibrated on the calibration images of the train split):
   * `pruned-int8.onnx` with dynamic axes, validated in ONNX Runtime and in the latency comparison (default false).
   */
  int8?: boolean;
  log?: (line: string) => void;
}

export type { ImportanceMeasure } from './recipe.js';

type Optional = 'targetSparsity' | 'ratio' | 'targetFlops' | 'targetLatency' | 'threshold';
export type Settings = Required<Omit<PruneOptions, 'resume' | 'log' | 'name' | 'hyp' | Optional>> &
  Pick<PruneOptions, Optional> & {
    hyp: Hyp;
    sparsityHyp: Hyp;
    saveDir: string;
    /** Whether λ adapts towards each round's target sparsity (not when a λ was given without a target). */
    adaptLambda: boolean;
    /** Why each chosen setting has its value, as printed at the start. */
    recipe: string[];
    /** The recipe's bar for the parent's features (absent in the state of runs made before it existed: no bar). */
    parentMinMap50?: number;
  };
/** What the user settled before the recipe fills the rest in. */
export type Given = Omit<Settings, keyof Recipe | 'recipe' | 'adaptLambda' | 'saveDir'> & { request: RecipeRequest };


const DEFAULT_STAT_THRESHOLD = 0.1;

export function givenSettings(o: PruneOptions): Given {
  const targets = [o.ratio, o.targetFlops, o.targetLatency].filter((v) => v !== undefined).length;
  if (targets > 1) throw new Error('give at most one of --ratio, --target-flops and --target-latency (with --threshold as the alternative)');
  const criterion = o.criterion ?? 'gate';
  const importance = o.importance;
  if (importance === 'taylor' && criterion !== 'gate') throw new Error('--importance taylor is measured through the gates: it needs --criterion gate');
  if (importance === 'taylor' && o.threshold !== undefined && targets === 0) {
    throw new Error('--importance taylor ranks channels by an estimated loss change, which a --threshold on |gate| does not apply to: give --ratio, --target-flops or --target-latency');
  }
  if (o.targetSparsity !== undefined) {
    const upper = criterion === 'gate' ? { max: 0.5, why: 'the penalty presses only the smaller half of each layer' } : { max: 1 };
    number('--target-sparsity', o.targetSparsity, { min: 0, minExclusive: true, ...upper });
  }
  const useFlops = o.targetFlops ?? (o.ratio === undefined && o.threshold === undefined && o.targetLatency === undefined ? 0.6 : undefined);
  const optional = <T>(v: T | undefined, check: (v: T) => T) => (v === undefined ? undefined : check(v));
  const request: RecipeRequest = {
    epochs: optional(o.epochs, (v) => integer('--epochs', v, { min: 0 })),
    rounds: optional(o.rounds, (v) => integer('--rounds', v, { min: 1 })),
    epochsPerRound: optional(o.epochsPerRound, (v) => integer('--epochs-per-round', v, { min: 0 })),
    finetuneEpochs: optional(o.finetuneEpochs, (v) => integer('--finetune-epochs', v, { min: 0 })),
    optimizer: o.optimizer,
    ...(o.hyp !== undefined ? { hyp: loadHyp(o.hyp), hypGiven: true } : {}),
    nominalBatch: optional(o.nominalBatch, (v) => integer('--nominal-batch', v, { min: 1 })),
    gateLr: optional(o.gateLr, (v) => number('--gate-lr', v, { min: 0 })),
    sparsity: optional(o.sparsity, (v) => number('--sparsity', v, { min: 0 })),
    minWarmup: optional(o.minWarmup, (v) => integer('--min-warmup', v, { min: 0 })),
    distill: optional(o.distill, (v) => number('--distill', v, { min: 0 })),
    featureDistill: optional(o.featureDistill, (v) => number('--feature-distill', v, { min: 0 })),
    round: optional(o.round, (v) => integer('--round', v, { min: 1 })),
    importance,
    fade: o.fade,
  };
  return {
    request,
    weights: o.weights,
    data: resolve(o.data),
    imgsz: integer('--img', o.imgsz ?? 640, { min: 32 }),
    batchSize: integer('--batch-size', o.batchSize ?? 16, { min: 1 }),
    ...(o.targetSparsity !== undefined ? { targetSparsity: o.targetSparsity } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
    ...(useFlops !== undefined ? { targetFlops: useFlops } : {}),
    ...(o.targetLatency !== undefined ? { targetLatency: o.targetLatency } : {}),
    minChannels: integer('--min-channels', o.minChannels ?? 8, { min: 0 }),
    criterion,
    cache: o.cache ?? true,
    workers: integer('--workers', o.workers ?? 8, { min: 1 }),
    seed: integer('--seed', o.seed ?? 0, { min: 0 }),
    project: o.project ?? 'runs/prune',
    existOk: o.existOk ?? false,
    calibImages: integer('--calib-images', o.calibImages ?? 256, { min: 1 }),
    benchmark: o.benchmark ?? true,
    int8: o.int8 ?? false,
  };
}

/**
 * The share of gates a round's sparsity training aims to take below the threshold: given, or the share of channels
 * a uniform narrowing removes to reach the round's target (a convolution's cost falls with the square of the kept
 * share), else 0.4 — at most the half the penalty presses.
 */
export function roundSparsity(s: Settings, target: PruneTarget): number {
  if (s.targetSparsity !== undefined) return s.targetSparsity;
  const share = 'flopsFraction' in target ? 1 - Math.sqrt(target.flopsFraction) : 'latencyFraction' in target ? 1 - Math.sqrt(target.latencyFraction) : 'ratio' in target ? target.ratio : 0.4;
  return Math.min(s.criterion === 'gate' ? 0.5 : 1, Math.max(0.05, share));
}

/** The recipe's facts: dataset size, how the checkpoint was trained, this CPU's channel block. */
export function recipeFacts(given: Omit<Given, 'request'>, meta: CheckpointMeta | undefined, originalMap50: number): RecipeFacts {
  const settings = (meta?.training as { settings?: { optimizer?: OptimizerName; hyp?: Hyp; nominalBatch?: number } } | undefined)?.settings;
  const keepFraction = given.targetFlops ?? given.targetLatency;
  return {
    criterion: given.criterion,
    budgeted: keepFraction !== undefined || given.ratio !== undefined,
    trainImages: splitImageFiles(loadDatasetConfig(given.data), 'train').length,
    batchSize: given.batchSize,
    ...(keepFraction !== undefined ? { keepFraction } : {}),
    ...(settings?.optimizer && settings.hyp
      ? { trained: { optimizer: settings.optimizer, hyp: settings.hyp, ...(settings.nominalBatch ? { nominalBatch: settings.nominalBatch } : {}), source: given.weights } }
      : {}),
    defaultHyp: loadHyp(DEFAULT_HYP),
    originalMap50,
    channelBlock: channelBlock(),
  };
}

/** Round r's goal for the model entering it, spreading the final target geometrically over the rounds. */
export function roundTarget(s: Settings, r: number, original: ModelFigures, current: DetectionModel): PruneTarget {
  const share = (fraction: number, originalCost: number, currentCost: number) => Math.min(1, (originalCost * fraction ** (r / s.rounds)) / currentCost);
  if (s.targetFlops !== undefined) return { flopsFraction: share(s.targetFlops, original.gflops, gflops(current, s.imgsz)) };
  if (s.targetLatency !== undefined) return { latencyFraction: share(s.targetLatency, original.latencyCost, latencyCost(current, s.imgsz) / 1e9) };
  if (s.ratio !== undefined) return { ratio: 1 - (1 - s.ratio) ** (1 / s.rounds) };
  return { threshold: s.threshold! };
}

export function statThreshold(s: Settings): number {
  return s.threshold ?? DEFAULT_STAT_THRESHOLD;
}

export function describeTarget(target: PruneTarget): string {
  if ('flopsFraction' in target) return `keep ${(target.flopsFraction * 100).toFixed(1)}% of the GFLOPs`;
  if ('latencyFraction' in target) return `keep ${(target.latencyFraction * 100).toFixed(1)}% of the estimated latency`;
  if ('ratio' in target) return `remove ${(target.ratio * 100).toFixed(1)}% of the channels`;
  return `remove channels with importance below ${target.threshold}`;
}
