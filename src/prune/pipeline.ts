// The pruning pipeline (`yolov5 prune`): rounds of sparsity training then pruning, fine-tuning without the
// penalty, every round validated and checkpointed, resumable; ends with a report comparing original and pruned.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DetectionModel } from '../model/yolo.js';
import type { Conv } from '../model/common.js';
import type { Tensor } from '../torch/index.js';
import { gflops, latencyCost } from '../model/summary.js';
import { loadModel, readCheckpoint, saveCheckpoint } from '../checkpoint/index.js';
import { validate } from '../val/validator.js';
import { train, type TrainContext, type TrainHooks, type TrainOptions, type TrainResult } from '../train/trainer.js';
import type { EpochRecord } from '../train/results.js';
import type { OptimizerName } from '../train/optimizer.js';
import { loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import { compareOnnxLatency } from '../infer/benchmark.js';
import { incrementPath } from '../io/run-dir.js';
import { insertGates } from './gates.js';
import { analyzeDependencies, type DependencyGraph } from './dependency.js';
import { nextLambda, SparsityPenalty, type PenaltyTarget } from './sparsity.js';
import { measureActivationMagnitudes } from './calibrate.js';
import { calibrationSource, type CalibrationSource } from './calibration-data.js';
import { planFor, pruneStep, type PruneTarget } from './round.js';
import { fadeCap, fadingChannels, GateFade, planFromFading, type FadingChannels } from './fade.js';
import { groupImportance } from './plan.js';
import { OutputDistillation } from './distill.js';
import { chooseRecipe, fadeStartEpoch, type ImportanceMeasure, type Recipe, type RecipeFacts, type RecipeRequest } from './recipe.js';
import { channelBlock } from '../infer/channel-block.js';
import type { CheckpointMeta } from '../checkpoint/index.js';
import type { Criterion, Importance } from './plan.js';
import { measureTaylorImportance } from './taylor.js';
import { createTrainLoader, trainingWorkers } from '../data/train-loader.js';
import { DEFAULT_HYP, loadHyp, scaleLossGains, type Hyp } from '../train/hyp.js';
import { YoloLoss } from '../train/loss.js';
import { checkImgSize } from '../data/letterbox.js';
import { onnxLatencyOf, plotGateHistograms, writeReport, type Int8Figures, type ModelFigures, type OnnxLatency, type PruneReport, type RoundRecord } from './report.js';
import { describeErrors, exportInt8File } from '../export/int8.js';
import { validateOnnxFile } from '../infer/backend.js';

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
   * by a bound falling linearly to zero (chosen: on for the gate criterion with a ratio, FLOPs or latency target
   * and at least two sparsity epochs a round; see src/prune/fade.ts).
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
  calibrationImages?: number;
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
type Settings = Required<Omit<PruneOptions, 'resume' | 'log' | 'name' | 'hyp' | Optional>> &
  Pick<PruneOptions, Optional> & {
    hyp: Hyp;
    sparsityHyp: Hyp;
    saveDir: string;
    /** Whether λ adapts towards each round's target sparsity (not when a λ was given without a target). */
    adaptLambda: boolean;
    /** Why each chosen setting has its value, as printed at the start. */
    recipe: string[];
  };
/** What the user settled before the recipe fills the rest in. */
type Given = Omit<Settings, keyof Recipe | 'recipe' | 'adaptLambda' | 'saveDir'> & { request: RecipeRequest };

interface PipelineState {
  settings: Settings;
  /** λ now (adapted with a target sparsity). */
  lambda: number;
  original: ModelFigures;
  rounds: RoundRecord[];
  /** The checkpoint the next stage starts from. */
  current: string;
  /** The channels fading in the round in progress, once its plan was made (so a resumed round fades the same). */
  fade?: { round: number; channels: FadingChannels };
  /** The sparsity-trained checkpoint of the round in progress, once its training finished. */
  sparsityTrained?: { round: number; path: string };
  finetuned?: string;
  /** Wall seconds of the run's finished sessions (a resumed run adds up), and the largest RSS seen, in bytes. */
  wallSeconds?: number;
  maxRss?: number;
  done: boolean;
}

const DEFAULT_STAT_THRESHOLD = 0.1;

function givenSettings(o: PruneOptions): Given {
  const targets = [o.ratio, o.targetFlops, o.targetLatency].filter((v) => v !== undefined).length;
  if (targets > 1) throw new Error('give at most one of --ratio, --target-flops and --target-latency (with --threshold as the alternative)');
  const criterion = o.criterion ?? 'gate';
  const importance = o.importance;
  if (importance === 'taylor' && criterion !== 'gate') throw new Error('--importance taylor is measured through the gates: it needs --criterion gate');
  if (importance === 'taylor' && o.threshold !== undefined && targets === 0) {
    throw new Error('--importance taylor ranks channels by an estimated loss change, which a --threshold on |gate| does not apply to: give --ratio, --target-flops or --target-latency');
  }
  if (o.targetSparsity !== undefined) {
    const max = criterion === 'gate' ? 0.5 : 1;
    if (!(o.targetSparsity > 0 && o.targetSparsity <= max)) {
      throw new Error(`--target-sparsity must be in (0, ${max}]${criterion === 'gate' ? ': the penalty presses only the smaller half of each layer' : ''}, got ${o.targetSparsity}`);
    }
  }
  const positiveInt = (v: number, what: string, min = 1) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`${what} must be an integer ≥ ${min}, got ${v}`);
    return v;
  };
  const nonNegative = (v: number, what: string) => {
    if (!(v >= 0)) throw new Error(`${what} must be ≥ 0, got ${v}`);
    return v;
  };
  const useFlops = o.targetFlops ?? (o.ratio === undefined && o.threshold === undefined && o.targetLatency === undefined ? 0.6 : undefined);
  const optional = <T>(v: T | undefined, check: (v: T) => T) => (v === undefined ? undefined : check(v));
  const request: RecipeRequest = {
    epochs: optional(o.epochs, (v) => positiveInt(v, '--epochs', 0)),
    rounds: optional(o.rounds, (v) => positiveInt(v, '--rounds')),
    epochsPerRound: optional(o.epochsPerRound, (v) => positiveInt(v, '--epochs-per-round', 0)),
    finetuneEpochs: optional(o.finetuneEpochs, (v) => positiveInt(v, '--finetune-epochs', 0)),
    optimizer: o.optimizer,
    ...(o.hyp !== undefined ? { hyp: loadHyp(o.hyp), hypGiven: true } : {}),
    nominalBatch: optional(o.nominalBatch, (v) => positiveInt(v, '--nominal-batch')),
    gateLr: optional(o.gateLr, (v) => nonNegative(v, '--gate-lr')),
    sparsity: optional(o.sparsity, (v) => nonNegative(v, '--sparsity')),
    minWarmup: optional(o.minWarmup, (v) => positiveInt(v, '--min-warmup', 0)),
    distill: optional(o.distill, (v) => nonNegative(v, '--distill')),
    round: optional(o.round, (v) => positiveInt(v, '--round')),
    importance,
    fade: o.fade,
  };
  return {
    request,
    weights: o.weights,
    data: resolve(o.data),
    imgsz: positiveInt(o.imgsz ?? 640, '--img', 32),
    batchSize: positiveInt(o.batchSize ?? 16, '--batch-size'),
    ...(o.targetSparsity !== undefined ? { targetSparsity: o.targetSparsity } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
    ...(useFlops !== undefined ? { targetFlops: useFlops } : {}),
    ...(o.targetLatency !== undefined ? { targetLatency: o.targetLatency } : {}),
    minChannels: positiveInt(o.minChannels ?? 8, '--min-channels', 0),
    criterion,
    cache: o.cache ?? true,
    workers: positiveInt(o.workers ?? 8, '--workers'),
    seed: positiveInt(o.seed ?? 0, '--seed', 0),
    project: o.project ?? 'runs/prune',
    existOk: o.existOk ?? false,
    calibrationImages: positiveInt(o.calibrationImages ?? 256, '--calibration-images'),
    benchmark: o.benchmark ?? true,
    int8: o.int8 ?? false,
  };
}

/**
 * The share of gates a round's sparsity training aims to take below the threshold: given, or the share of channels
 * a uniform narrowing removes to reach the round's target (a convolution's cost falls with the square of the kept
 * share), else 0.4 — at most the half the penalty presses.
 */
function roundSparsity(s: Settings, target: PruneTarget): number {
  if (s.targetSparsity !== undefined) return s.targetSparsity;
  const share = 'flopsFraction' in target ? 1 - Math.sqrt(target.flopsFraction) : 'latencyFraction' in target ? 1 - Math.sqrt(target.latencyFraction) : 'ratio' in target ? target.ratio : 0.4;
  return Math.min(s.criterion === 'gate' ? 0.5 : 1, Math.max(0.05, share));
}

/** The recipe's facts: dataset size, how the checkpoint was trained, this CPU's channel block. */
function recipeFacts(given: Omit<Given, 'request'>, meta: CheckpointMeta | undefined, originalMap50: number): RecipeFacts {
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
function roundTarget(s: Settings, r: number, original: ModelFigures, current: DetectionModel): PruneTarget {
  const share = (fraction: number, originalCost: number, currentCost: number) => Math.min(1, (originalCost * fraction ** (r / s.rounds)) / currentCost);
  if (s.targetFlops !== undefined) return { flopsFraction: share(s.targetFlops, original.gflops, gflops(current, s.imgsz)) };
  if (s.targetLatency !== undefined) return { latencyFraction: share(s.targetLatency, original.latencyCost, latencyCost(current, s.imgsz) / 1e9) };
  if (s.ratio !== undefined) return { ratio: 1 - (1 - s.ratio) ** (1 / s.rounds) };
  return { threshold: s.threshold! };
}

function statThreshold(s: Settings): number {
  return s.threshold ?? DEFAULT_STAT_THRESHOLD;
}

/** The coefficients the penalty acts on: the gates (already inserted), or the BatchNorm scales of the same convolutions. */
async function penaltyTargets(model: DetectionModel, criterion: Criterion, calibration: CalibrationSource, images: number): Promise<PenaltyTarget[]> {
  const graph = analyzeDependencies(model);
  const convs = graph.groups.filter((g) => !g.fixed).flatMap((g) => g.members);
  if (criterion === 'bn') return convs.map(({ name, conv }) => ({ name: `${name}.bn`, weight: conv.bn!.weight }));
  const magnitudes = await measureActivationMagnitudes(model, calibration(), Math.min(images, 64));
  return convs.map(({ name, conv }) => ({ name: `${name}.gate`, weight: gateOf(name, conv), importance: magnitudes.get(conv) }));
}

/** Taylor importance on augmented training batches, as sparsity training saw them, over the calibration budget of images. */
async function taylorImportance(model: DetectionModel, graph: DependencyGraph, s: Settings, log: (line: string) => void): Promise<Importance> {
  const hyp = s.hyp;
  const loader = await createTrainLoader({
    dataset: loadDatasetConfig(s.data),
    split: 'train',
    imgsz: s.imgsz,
    batchSize: s.batchSize,
    stride: Math.max(...model.stride, 32),
    hyp,
    augment: true,
    workers: trainingWorkers(s.workers, s.batchSize),
    seed: s.seed,
  });
  try {
    log(`importance: first-order Taylor (gate × gradient of the detection loss) over ${s.calibrationImages} training images`);
    const loss = new YoloLoss(model, scaleLossGains(hyp, { nl: model.detect.nl, nc: model.detect.nc, imgsz: s.imgsz }));
    async function* batches() {
      for (let epoch = 0; ; epoch++) yield* loader.epoch(epoch);
    }
    return await measureTaylorImportance(model, graph, batches(), loss, s.calibrationImages);
  } finally {
    await loader.close();
  }
}

function gateOf(name: string, conv: Conv): Tensor {
  if (!conv.gate) throw new Error(`${name} has no gate: gates must be inserted before sparsity training`);
  return conv.gate.weight;
}

async function figures(model: DetectionModel, s: Pick<Settings, 'data' | 'imgsz' | 'batchSize'>, log: (line: string) => void): Promise<ModelFigures> {
  const metrics = await validate(model, { data: s.data, imgsz: s.imgsz, batchSize: s.batchSize, quiet: true, progress: true, log });
  const result: ModelFigures = {
    parameters: model.numParameters(),
    gflops: gflops(model, s.imgsz),
    latencyCost: latencyCost(model, s.imgsz) / 1e9,
    map50: metrics.map50,
    map: metrics.map,
  };
  log(`  ${result.parameters} parameters, ${result.gflops.toFixed(2)} GFLOPs, mAP50 ${result.map50.toFixed(4)}, mAP50-95 ${result.map.toFixed(4)}`);
  return result;
}

/** When this process took up a run, and the run's wall time before: a resumed run's time adds up. */
const sessions = new WeakMap<PipelineState, { start: number; prior: number }>();

function saveState(saveDir: string, state: PipelineState): void {
  const session = sessions.get(state);
  if (session) state.wallSeconds = session.prior + (Date.now() - session.start) / 1000;
  state.maxRss = Math.max(state.maxRss ?? 0, process.resourceUsage().maxRSS * 1024);
  const path = join(saveDir, 'state.json');
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${path}.tmp`, path);
}

function loadState(resumeFrom: string): PipelineState {
  const path = resumeFrom.endsWith('.json') ? resumeFrom : join(resumeFrom, 'state.json');
  if (!existsSync(path)) throw new Error(`cannot resume: ${path} does not exist (give a runs/prune/exp folder)`);
  return JSON.parse(readFileSync(path, 'utf8')) as PipelineState;
}

/**
 * Sparsity training of one round; resumes its own interrupted run. The penalty binds to the model the trainer
 * trains. With a fade target, the penalty ranks the channels over the round's first epochs, the plan for the target
 * is made from that ranking, and its channels fade out over the remaining epochs (src/prune/fade.ts).
 */
async function sparsityTraining(
  model: DetectionModel,
  s: Settings,
  state: PipelineState,
  r: number,
  share: number | undefined,
  fadeTarget: PruneTarget | undefined,
  log: (line: string) => void,
): Promise<TrainResult> {
  const calibration = await calibrationSource(s.data, { imgsz: s.imgsz, stride: Math.max(...model.stride, 32), maxImages: s.calibrationImages });
  const images = splitImageFiles(loadDatasetConfig(s.data), 'train').length;
  const batchesPerEpoch = Math.max(1, Math.ceil(images / s.batchSize));
  let penalty: SparsityPenalty | undefined;
  // The model learns from the original while its gates shrink (and, from the second round on, while it recovers
  // from the last pruning), so that what the penalty takes away is relearned by other channels.
  const teacher = await distillation(s, log);
  let steps = 0;
  let paused = 0;
  const fadeStart = fadeTarget ? fadeStartEpoch(s.epochsPerRound) : Infinity;
  let fade: GateFade | undefined;
  const startFade = (channels: FadingChannels, ctx: TrainContext) => {
    fade = new GateFade(channels, ctx.model);
    const { channels: count, layers } = fade.size;
    log(`fade: ${count} channels of ${layers} layers (the round's plan) fade out over epochs ${fadeStart + 1}–${s.epochsPerRound}; the penalty stops`);
  };
  const hooks: TrainHooks = {
    beforeTrainingStarts: async (ctx) => {
      penalty = new SparsityPenalty(await penaltyTargets(ctx.model, s.criterion, calibration, s.calibrationImages), state.lambda, s.criterion === 'gate');
      if (share !== undefined) penalty.target = { share, threshold: statThreshold(s) };
      if (state.fade?.round === r) startFade(state.fade.channels, ctx);
    },
    afterOptimizerStep: (ctx) => {
      fade?.apply(fadeCap(ctx.iteration, fadeStart * batchesPerEpoch, s.epochsPerRound * batchesPerEpoch), [ctx.model, ctx.ema.ema]);
    },
    extraLoss: (_model, ctx, batch) => {
      const learned = teacher?.loss(batch.images, batch.predictions) ?? null;
      if (fade) return learned;
      // λ ramps in over the first epoch, so the task separates the gates before the penalty dominates. The
      // detection loss sums over the batch's images (YOLOv5 scales it by the batch size), so λ is per image too.
      penalty!.lambda = state.lambda * s.batchSize * Math.min(1, (ctx.iteration + 1) / batchesPerEpoch);
      // The penalty pauses while the target is met: pressing on would push gates of channels the plan keeps
      // towards zero too, a loss of capacity the model would have to recover from.
      steps++;
      const loss = penalty!.loss();
      if (!loss && penalty!.lambda > 0) paused++;
      return loss && learned ? loss.add(learned) : (loss ?? learned);
    },
    onEpochEnd: async (ctx) => {
      // The last step's cap is 0 already unless the epoch ended between optimizer steps: the checkpoint saved
      // after this hook must hold exact zeros.
      if (fade && ctx.epoch + 1 === s.epochsPerRound) fade.apply(0, [ctx.model, ctx.ema.ema]);
      const stats = penalty!.stats(statThreshold(s));
      const before = state.lambda;
      const trainLoss = (record: EpochRecord) => record.train.reduce((a, b) => a + b, 0);
      const loss = trainLoss(ctx.record);
      const bestLoss = Math.min(loss, ...ctx.history.map(trainLoss));
      let backedOff = false;
      const fadesNext = !fade && ctx.epoch + 1 === fadeStart;
      if (share !== undefined && !fade && !fadesNext) {
        // Adjust gradually: a λ strong enough to move gates in a few steps wrecks the model.
        ({ lambda: state.lambda, backedOff } = nextLambda({ lambda: before, below: stats.below, target: share, loss, bestLoss }));
      }
      const pausedShare = steps ? paused / steps : 0;
      log(
        `sparsity: ${(stats.below * 100).toFixed(1)}% of ${s.criterion === 'gate' ? 'gates' : 'BN scales'} below ${statThreshold(s)}, ` +
          `mean |g| ${stats.meanAbs.toFixed(4)}, train loss ${loss.toFixed(4)}, λ ${before.toExponential(2)}` +
          (state.lambda !== before ? ` → ${state.lambda.toExponential(2)}` : '') +
          (backedOff ? ` (train loss ${((loss / bestLoss - 1) * 100).toFixed(0)}% above the round's best: backing off)` : '') +
          (share !== undefined ? ` (target ${(share * 100).toFixed(0)}%, met in ${(pausedShare * 100).toFixed(0)}% of steps)` : ''),
      );
      steps = paused = 0;
      if (fadesNext) {
        const graph = analyzeDependencies(ctx.model);
        const importance = s.importance === 'taylor' ? await taylorImportance(ctx.model, graph, s, log) : groupImportance(graph, 'gate');
        const plan = planFor(ctx.model, graph, importance, fadeTarget!, { minChannels: s.minChannels, round: s.round, imgsz: s.imgsz });
        state.fade = { round: r, channels: fadingChannels(plan) };
        startFade(state.fade.channels, ctx);
      }
      saveState(s.saveDir, state);
      return { 'sparsity/below': stats.below, 'sparsity/mean_abs': stats.meanAbs, 'sparsity/lambda': before, 'sparsity/paused': pausedShare };
    },
  };
  const runDir = join(s.saveDir, `round${r}`);
  const last = join(runDir, 'weights', 'last.safetensors');
  try {
    if (existsSync(last)) return await train({ resume: last, log }, hooks);
    return await train({ ...stageOptions(model, s, runDir, s.epochsPerRound, log), hyp: s.sparsityHyp, gateLr: s.gateLr, freezeBatchNormStats: true }, hooks);
  } finally {
    fade?.dispose();
  }
}

/** Training settings shared by sparsity training and fine-tuning: the given model, exactly; anchors as they are. */
function stageOptions(model: DetectionModel, s: Settings, saveDir: string, epochs: number, log: (line: string) => void): TrainOptions {
  return {
    data: s.data,
    model,
    hyp: s.hyp,
    imgsz: s.imgsz,
    batchSize: s.batchSize,
    nominalBatch: s.nominalBatch,
    optimizer: s.optimizer,
    epochs,
    saveDir,
    workers: s.workers,
    seed: s.seed,
    cache: s.cache ? 'ram' : false,
    noautoanchor: true,
    patience: 0,
    log,
  };
}

/** The original model as a teacher, if distillation is on. */
async function distillation(s: Settings, log: (line: string) => void): Promise<OutputDistillation | undefined> {
  if (s.distill === 0) return undefined;
  log(`distilling from the original model (weight ${s.distill})`);
  return new OutputDistillation((await readCheckpoint(join(s.saveDir, 'original.safetensors'))).model, s.distill);
}

/** Fine-tuning without the penalty (also the control's recipe), distilling from the original model if asked. */
async function fineTune(model: DetectionModel, s: Settings, log: (line: string) => void): Promise<TrainResult> {
  const runDir = join(s.saveDir, 'finetune');
  const last = join(runDir, 'weights', 'last.safetensors');
  const teacher = await distillation(s, log);
  const hooks: TrainHooks = teacher ? { extraLoss: (_model, _ctx, batch) => teacher.loss(batch.images, batch.predictions) } : {};
  if (existsSync(last)) return train({ resume: last, log }, hooks);
  return train({ ...stageOptions(model, s, runDir, s.finetuneEpochs, log), minWarmupIterations: s.minWarmup }, hooks);
}

/** The pruned model quantized to INT8 and validated in ONNX Runtime at the pipeline's settings. */
async function quantized(model: DetectionModel, s: Settings, log: (line: string) => void): Promise<Int8Figures> {
  const file = join(s.saveDir, 'pruned-int8.onnx');
  log(`\nINT8: quantizing the pruned model, activations calibrated on ${s.calibrationImages} training images...`);
  const result = await exportInt8File(model, file, { data: s.data, imgsz: s.imgsz, dynamic: true, calibImages: s.calibrationImages });
  log(`  output difference from the float model: ${describeErrors(result.errors)}`);
  const metrics = await validateOnnxFile(file, { data: s.data, imgsz: s.imgsz, batchSize: s.batchSize, quiet: true, progress: true, log });
  log(`  ${file}: mAP50 ${metrics.map50.toFixed(4)}, mAP50-95 ${metrics.map.toFixed(4)}`);
  return { file, map50: metrics.map50, map: metrics.map };
}

/** Deployment latency at the reference input (a 1280×720 frame letterboxed to 640×384, batch 1), runs alternating. */
async function onnxLatencies(models: (DetectionModel | string)[]): Promise<OnnxLatency[]> {
  return (await compareOnnxLatency(models, { imgsz: 640, runs: 40, warmup: 5 })).map(onnxLatencyOf);
}

export interface PruneResult {
  saveDir: string;
  report: PruneReport;
  /** The final pruned (and fine-tuned) checkpoint. */
  weights: string;
}

export async function prunePipeline(options: PruneOptions): Promise<PruneResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const start = Date.now();
  let state: PipelineState;
  if (options.resume) {
    state = loadState(options.resume);
    log(`Resuming ${state.settings.saveDir}: ${state.rounds.length} of ${state.settings.rounds} rounds done`);
  } else {
    const { request, ...given } = givenSettings(options);
    const saveDir = resolve(incrementPath(given.project, options.name ?? 'exp', given.existOk));
    // A fresh run in a reused folder (--exist-ok) must not resume the stages of an older run.
    for (const entry of readdirSync(saveDir)) {
      if (/^(round\d+|finetune)$/.test(entry)) rmSync(join(saveDir, entry), { recursive: true, force: true });
    }
    const { model, meta } = await loadModel(given.weights);
    // As the trainer will (YOLOv5's train.py): a multiple of the largest stride, at least two strides; the GFLOPs
    // and mAP of the report are then measured at the size the stages train at.
    const gs = Math.max(...model.stride, 32);
    const checked = checkImgSize([given.imgsz], gs, 2 * gs);
    if (checked.warning) log(checked.warning);
    given.imgsz = checked.sizes[0]!;
    log(`Original model ${given.weights}:`);
    const original = await figures(model, given, log);
    const { reasons, ...recipe } = chooseRecipe(request, recipeFacts(given, meta, original.map50));
    log(`\nRecipe (flags override):\n${reasons.map((line) => `  ${line}`).join('\n')}`);
    // A given λ without a target stays fixed, as asked; otherwise the controller adapts it towards each round's target.
    const settings: Settings = { ...given, ...recipe, adaptLambda: request.sparsity === undefined || given.targetSparsity !== undefined, saveDir, recipe: reasons };
    const originalPath = join(saveDir, 'original.safetensors');
    await saveCheckpoint(originalPath, model);
    state = { settings, lambda: settings.sparsity, original, rounds: [], current: originalPath, done: false };
  }
  sessions.set(state, { start, prior: state.wallSeconds ?? 0 });
  saveState(state.settings.saveDir, state);
  const s = state.settings;
  mkdirSync(s.saveDir, { recursive: true });

  for (let r = state.rounds.length + 1; r <= s.rounds; r++) {
    log(`\n===== round ${r}/${s.rounds}: sparsity training (${s.epochsPerRound} epochs, ${s.criterion}) =====`);
    let { model } = await readCheckpoint(state.current);
    // Gates go in before training starts: the optimizer and the EMA copy must include them.
    if (s.criterion === 'gate') insertGates(model);
    if (s.epochsPerRound > 0) {
      if (state.sparsityTrained?.round !== r) {
        const target = roundTarget(s, r, state.original, model);
        const share = s.adaptLambda ? roundSparsity(s, target) : undefined;
        const trained = await sparsityTraining(model, s, state, r, share, s.fade && !('threshold' in target) ? target : undefined, log);
        if (trained.interrupted) throw new Error(`sparsity training interrupted; continue with: yolov5 prune --resume ${s.saveDir}`);
        state.sparsityTrained = { round: r, path: trained.lastPath };
        saveState(s.saveDir, state);
      }
      model = (await readCheckpoint(state.sparsityTrained!.path)).model;
    }
    const calibration = await calibrationSource(s.data, { imgsz: s.imgsz, stride: Math.max(...model.stride, 32), maxImages: s.calibrationImages });
    const target = roundTarget(s, r, state.original, model);
    log(`\n===== round ${r}/${s.rounds}: pruning (${describeTarget(target)}) =====`);
    await plotGateHistograms(model, s.criterion, join(s.saveDir, `round${r}_${s.criterion === 'gate' ? 'gates' : 'bn'}.png`), `round ${r}: |coefficient| per layer before pruning`);
    const step = await pruneStep(model, {
      criterion: s.criterion,
      target,
      minChannels: s.minChannels,
      round: s.round,
      imgsz: s.imgsz,
      calibration,
      calibrationImages: s.calibrationImages,
      ...(s.importance === 'taylor' ? { importance: (graph: DependencyGraph) => taylorImportance(model, graph, s, log) } : {}),
      // After a fade, exactly its channels go: a fresh plan might keep some of them (zeros that still cost).
      ...(state.fade?.round === r ? { plan: (graph: DependencyGraph) => planFromFading(graph, state.fade!.channels) } : {}),
    });
    const path = join(s.saveDir, `round${r}.safetensors`);
    await saveCheckpoint(path, step.model);
    const after = await figures(step.model, s, log);
    state.rounds.push({ round: r, lambda: state.lambda, target: describeTarget(target), channels: step.channels, ...after });
    state.current = path;
    saveState(s.saveDir, state);
  }

  if (!state.finetuned) {
    const { model } = await readCheckpoint(state.current);
    if (s.finetuneEpochs > 0) {
      log(`\n===== fine-tuning (${s.finetuneEpochs} epochs, no penalty) =====`);
      const tuned = await fineTune(model, s, log);
      state.finetuned = tuned.bestPath;
    } else {
      state.finetuned = state.current;
    }
    saveState(s.saveDir, state);
  }

  const { model: original } = await readCheckpoint(join(s.saveDir, 'original.safetensors'));
  const { model: final } = await readCheckpoint(state.finetuned);
  log('\nFinal pruned model:');
  const finalFigures = await figures(final, s, log);
  const weights = join(s.saveDir, 'pruned.safetensors');
  await saveCheckpoint(weights, final);
  const int8 = s.int8 ? await quantized(final, s, log) : undefined;
  let originalLatency: OnnxLatency | undefined;
  let prunedLatency: OnnxLatency | undefined;
  let int8Latency: OnnxLatency | undefined;
  if (s.benchmark) {
    log(`\nMeasuring ONNX Runtime latency (batch 1, letterboxed 1280×720 → 640×384), original${int8 ? ', pruned and INT8' : ' and pruned'} runs alternating...`);
    [originalLatency, prunedLatency, int8Latency] = await onnxLatencies([original, final, ...(int8 ? [int8.file] : [])]);
  }
  const report: PruneReport = {
    settings: { ...s },
    original: { ...state.original, ...(originalLatency ? { onnx: originalLatency } : {}) },
    rounds: state.rounds,
    final: { ...finalFigures, ...(prunedLatency ? { onnx: prunedLatency } : {}) },
    ...(int8 ? { int8: { ...int8, ...(int8Latency ? { onnx: int8Latency } : {}) } } : {}),
    weights,
  };
  state.done = true;
  saveState(s.saveDir, state);
  report.wallSeconds = state.wallSeconds!;
  report.maxRssBytes = state.maxRss!;
  const text = await writeReport(report, s.saveDir);
  log(`\n${text}`);
  log(`Results saved to ${s.saveDir}`);
  return { saveDir: s.saveDir, report, weights };
}

function describeTarget(target: PruneTarget): string {
  if ('flopsFraction' in target) return `keep ${(target.flopsFraction * 100).toFixed(1)}% of the GFLOPs`;
  if ('latencyFraction' in target) return `keep ${(target.latencyFraction * 100).toFixed(1)}% of the estimated latency`;
  if ('ratio' in target) return `remove ${(target.ratio * 100).toFixed(1)}% of the channels`;
  return `remove channels with importance below ${target.threshold}`;
}

