// The training stages of a prune run: sparsity training of a round (the penalty, its λ controller, the fade,
// distillation) and fine-tuning, both through the trainer, each resuming its own interrupted run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectionModel } from '../model/yolo.js';
import type { Conv } from '../model/common.js';
import type { Tensor } from '../torch/index.js';
import { readCheckpoint } from '../checkpoint/index.js';
import { train, type TrainContext, type TrainHooks, type TrainOptions, type TrainResult } from '../train/trainer.js';
import type { EpochRecord } from '../train/results.js';
import { loadDatasetConfig, splitImageFiles } from '../data/dataset-config.js';
import { analyzeDependencies, type DependencyGraph } from './dependency.js';
import { nextLambda, SparsityPenalty, type PenaltyTarget } from './sparsity.js';
import { measureActivationMagnitudes } from './calibrate.js';
import { calibrationSource, type CalibrationSource } from './calibration-data.js';
import { planFor, type PruneTarget } from './round.js';
import { fadeCap, fadingChannels, GateFade, type FadingChannels } from './fade.js';
import { FeatureDistillation, OutputDistillation } from './distill.js';
import { fadeStartEpoch, parentFeatureGain } from './recipe.js';
import { groupImportance, type Criterion, type Importance } from './plan.js';
import { measureTaylorImportance } from './taylor.js';
import { trainingWorkers } from '../data/train-loader.js';
import { detectionLoss, trainingBatches } from '../train/training-data.js';
import { statThreshold, type Settings } from './settings.js';
import { saveState, type PipelineState } from './state.js';
import type { ProcessGroup } from '../torch/distributed.js';

/**
 * How a stage trains: where its lines go, and over several processes the group (rank 0 alone logs and writes) with
 * the trainer's synchronized BatchNorm and bucket size. Not part of the settings: a resumed run may use other ones.
 */
export interface StageRun {
  log: (line: string) => void;
  group?: ProcessGroup;
  syncBn?: boolean;
  bucketCapMb?: number;
}

const writes = (run: StageRun) => (run.group?.rank ?? 0) === 0;

/** The coefficients the penalty acts on: the gates (already inserted), or the BatchNorm scales of the same convolutions. */
async function penaltyTargets(model: DetectionModel, criterion: Criterion, calibration: CalibrationSource, images: number): Promise<PenaltyTarget[]> {
  const graph = analyzeDependencies(model);
  const convs = graph.groups.filter((g) => !g.fixed).flatMap((g) => g.members);
  if (criterion === 'bn') return convs.map(({ name, conv }) => ({ name: `${name}.bn`, weight: conv.bn!.weight }));
  const magnitudes = await measureActivationMagnitudes(model, calibration(), Math.min(images, 64));
  return convs.map(({ name, conv }) => ({ name: `${name}.gate`, weight: gateOf(name, conv), importance: magnitudes.get(conv) }));
}

/** Taylor importance on augmented training batches, as sparsity training saw them, over the calibration budget of images. */
export async function taylorImportance(model: DetectionModel, graph: DependencyGraph, s: Settings, log: (line: string) => void): Promise<Importance> {
  const loader = await trainingBatches(model, loadDatasetConfig(s.data), {
    imgsz: s.imgsz,
    batchSize: s.batchSize,
    hyp: s.hyp,
    workers: trainingWorkers(s.workers, s.batchSize),
    seed: s.seed,
  });
  try {
    log(`importance: first-order Taylor (gate × gradient of the detection loss) over ${s.calibImages} training images`);
    const { loss } = detectionLoss(model, s.hyp, s.imgsz);
    async function* batches() {
      for (let epoch = 0; ; epoch++) yield* loader.epoch(epoch);
    }
    return await measureTaylorImportance(model, graph, batches(), loss, s.calibImages);
  } finally {
    await loader.close();
  }
}

function gateOf(name: string, conv: Conv): Tensor {
  if (!conv.gate) throw new Error(`${name} has no gate: gates must be inserted before sparsity training`);
  return conv.gate.weight;
}

/**
 * Sparsity training of one round; resumes its own interrupted run. The penalty binds to the model the trainer
 * trains. With a fade target, the penalty ranks the channels over the round's first epochs, the plan for the target
 * is made from that ranking, and its channels fade out over the remaining epochs (src/prune/fade.ts).
 */
export async function sparsityTraining(
  model: DetectionModel,
  s: Settings,
  state: PipelineState,
  r: number,
  share: number | undefined,
  fadeTarget: PruneTarget | undefined,
  run: StageRun,
): Promise<TrainResult> {
  const { log } = run;
  const calibration = await calibrationSource(s.data, { imgsz: s.imgsz, stride: Math.max(...model.stride, 32), maxImages: s.calibImages });
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
      penalty = new SparsityPenalty(await penaltyTargets(ctx.model, s.criterion, calibration, s.calibImages), state.lambda, s.criterion === 'gate');
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
      if (writes(run)) saveState(s.saveDir, state);
      return { 'sparsity/below': stats.below, 'sparsity/mean_abs': stats.meanAbs, 'sparsity/lambda': before, 'sparsity/paused': pausedShare };
    },
  };
  const runDir = join(s.saveDir, `round${r}`);
  const last = join(runDir, 'weights', 'last.safetensors');
  try {
    if (existsSync(last)) return await train({ resume: last, ...trainerRun(run) }, hooks);
    return await train({ ...stageOptions(model, s, runDir, s.epochsPerRound, run), hyp: s.sparsityHyp, gateLr: s.gateLr, freezeBatchNormStats: true }, hooks);
  } finally {
    fade?.dispose();
  }
}

/** The trainer's options for how it runs (not what it trains). */
function trainerRun({ log, group, syncBn, bucketCapMb }: StageRun): Pick<TrainOptions, 'log' | 'group' | 'syncBn' | 'bucketCapMb'> {
  return { log, ...(group ? { group } : {}), ...(syncBn !== undefined ? { syncBn } : {}), ...(bucketCapMb !== undefined ? { bucketCapMb } : {}) };
}

/** Training settings shared by sparsity training and fine-tuning: the given model, exactly; anchors as they are. */
function stageOptions(model: DetectionModel, s: Settings, saveDir: string, epochs: number, run: StageRun): TrainOptions {
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
    ...trainerRun(run),
  };
}

/** The original model as a teacher, if distillation is on. */
async function distillation(s: Settings, log: (line: string) => void): Promise<OutputDistillation | undefined> {
  if (s.distill === 0) return undefined;
  log(`distilling from the original model (weight ${s.distill})`);
  return new OutputDistillation((await readCheckpoint(join(s.saveDir, 'original.safetensors'))).model, s.distill);
}

/** The model the fine-tuned one was pruned from as a teacher of its features, if feature distillation is on. */
async function featureDistillation(s: Settings, parent: PipelineState['parent'], log: (line: string) => void): Promise<FeatureDistillation | undefined> {
  if (!s.featureDistill || !parent) return undefined;
  const { gain, reason } = parentFeatureGain(s, parent.map50);
  if (reason) log(reason);
  if (gain === 0) return undefined;
  const kept = new Map(Object.entries(parent.keptChannels).map(([layer, channels]) => [Number(layer), channels]));
  log(`distilling the features of ${kept.size} layers from the model before pruning (weight ${gain})`);
  return new FeatureDistillation((await readCheckpoint(parent.path)).model, kept, gain);
}

/**
 * Fine-tuning without the penalty (also the control's recipe), distilling from the original model's outputs and
 * from the features of the model it was pruned from (`parent`) if asked.
 */
export async function fineTune(model: DetectionModel, s: Settings, parent: PipelineState['parent'], run: StageRun): Promise<TrainResult> {
  const runDir = join(s.saveDir, 'finetune');
  const last = join(runDir, 'weights', 'last.safetensors');
  const teacher = await distillation(s, run.log);
  const features = await featureDistillation(s, parent, run.log);
  // The features guide the first epochs, where the pruned network is furthest from its parent; their gain falls
  // linearly to 0 by the end, so that the parent's features do not hold the last epochs back (a constant gain of 4
  // ended below none at all on Highway: docs/pruning.md §5).
  const hooks: TrainHooks = {};
  if (teacher || features) {
    hooks.extraLoss = (_model, ctx, batch) => {
      const outputs = teacher?.loss(batch.images, batch.predictions) ?? null;
      const inner = features?.loss(batch.images, batch.features, Math.max(0, 1 - ctx.iteration / (ctx.epochs * ctx.batches))) ?? null;
      return outputs && inner ? outputs.add(inner) : (outputs ?? inner);
    };
  }
  if (features) hooks.featureLayers = features.layers;
  try {
    if (existsSync(last)) return await train({ resume: last, ...trainerRun(run) }, hooks);
    return await train({ ...stageOptions(model, s, runDir, s.finetuneEpochs, run), minWarmupIterations: s.minWarmup }, hooks);
  } finally {
    features?.dispose();
  }
}
