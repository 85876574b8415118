// The pruning recipe a user does not have to write: every setting left open is chosen from what the pipeline
// knows — the epoch budget, the target, the dataset's size, the batch size, the optimizer and hyperparameters the
// checkpoint was trained with, the original model's accuracy and the CPU's channel block — and each choice comes
// with its reason, printed in one block at the start of a run. Given options always win.
import type { Hyp } from '../train/hyp.js';
import type { OptimizerName } from '../train/optimizer.js';
import { lrFactor, NOMINAL_BATCH } from '../train/schedule.js';

/** How the gate criterion ranks channels: |gate|, or the first-order Taylor estimate of the loss change. */
export type ImportanceMeasure = 'magnitude' | 'taylor';

/** What the pipeline knows before it starts. */
export interface RecipeFacts {
  /** Channel gates (this method) or BatchNorm scales, and whether the target is a budget (ratio, GFLOPs, latency). */
  criterion: 'gate' | 'bn';
  budgeted: boolean;
  trainImages: number;
  batchSize: number;
  /** Keep this fraction of the cost (GFLOPs or estimated latency) by the end; absent for a ratio or threshold. */
  keepFraction?: number;
  /** How the checkpoint was trained, where it says (our checkpoints do; official ones do not). */
  trained?: { optimizer: OptimizerName; hyp: Hyp; nominalBatch?: number; source: string };
  /** The hyperparameters the run falls back to (hyp.scratch-low, as YOLOv5's train.py). */
  defaultHyp: Hyp;
  /** The original model's mAP50 on the validation split. */
  originalMap50: number;
  /** ONNX Runtime's convolution channel block on this CPU (1 when unknown). */
  channelBlock: number;
}

/** The options a user may leave open (undefined: choose). */
export interface RecipeRequest {
  epochs?: number;
  rounds?: number;
  epochsPerRound?: number;
  finetuneEpochs?: number;
  optimizer?: OptimizerName;
  hyp?: Hyp;
  /** Whether `hyp` was given by the user (then it is used exactly, warmup included). */
  hypGiven?: boolean;
  nominalBatch?: number;
  gateLr?: number;
  sparsity?: number;
  minWarmup?: number;
  distill?: number;
  featureDistill?: number;
  round?: number;
  importance?: ImportanceMeasure;
  fade?: boolean;
}

export interface Recipe {
  epochs: number;
  rounds: number;
  epochsPerRound: number;
  finetuneEpochs: number;
  optimizer: OptimizerName;
  /** Hyperparameters of sparsity training (the weights' learning rate lowered) and of fine-tuning. */
  sparsityHyp: Hyp;
  hyp: Hyp;
  nominalBatch: number;
  gateLr: number;
  /** λ per image at the start of sparsity training (the controller adapts it from there). */
  sparsity: number;
  minWarmup: number;
  distill: number;
  featureDistill: number;
  /**
   * The mAP50 the model a network is pruned from (its parent) must still have when fine-tuning starts for its
   * features to be taught: 0 when the gain was given.
   */
  parentMinMap50: number;
  round: number;
  importance: ImportanceMeasure;
  /** Whether each round's planned channels fade out over its later sparsity epochs (src/prune/fade.ts). */
  fade: boolean;
  /** One line per choice: the value and why ("given" for what the user set). */
  reasons: string[];
}

/**
 * Each round keeps at least this fraction of the cost of the model entering it. Within a budget of a few dozen
 * epochs, fewer and larger steps won on Highway (yolov5n to 50% of the GFLOPs in 12 epochs): four rounds of ≥ 80%
 * with one sparsity epoch each left no gate near zero, so every removal cut live channels; two rounds of 70.7% ended
 * at 0.463 mAP50-95, the second round's λ collapsing the model it inherited; one round, three sparsity epochs and
 * nine of fine-tuning at 0.551 (control 0.664). Towards 35%, three rounds of 70% collapsed in the second (0.088).
 */
export const ROUND_KEEP = 0.5;
/**
 * How far the penalty alone would move a gate the task does not defend over one round. On Highway one full travel
 * within one epoch took yolov5n from 0.663 to 0.117 mAP50-95 before anything was removed; the controller raises λ
 * from this start when the round's share of gates does not reach zero.
 */
export const ROUND_TRAVEL = 0.5;
/**
 * The weights' learning rate in sparsity training, as a share of the training's lr0. The gates have their own rate;
 * the weights only need to follow them, and a trained model restarted at its lr0 forgets what the original knew:
 * on Highway the first sparsity epoch took yolov5n from 0.663 to 0.295 mAP50-95 at lr0 and to 0.602 at lr0 / 10,
 * and the first round's pruned model kept 0.406 instead of 0.299.
 */
export const SPARSITY_LR_SHARE = 0.1;
/** Sparsity training gets at most this share of the epoch budget; fine-tuning the rest. */
const SPARSITY_SHARE = 0.5;
/** More sparsity epochs per round than this go to fine-tuning instead. */
const MAX_EPOCHS_PER_ROUND = 3;
/** The nominal batch shrinks (to a multiple of the batch) until an epoch has at least this many optimizer steps. */
const MIN_STEPS_PER_EPOCH = 16;
/** Distillation gain, and the original's mAP50 from which its outputs are worth learning. */
const DISTILL_GAIN = 3;
const DISTILL_MIN_MAP50 = 0.5;
/** Feature distillation's gain at the start of fine-tuning (it falls to 0 by the end), and what it gave (docs/pruning.md §5). */
const FEATURE_DISTILL_GAIN = 2;
const FEATURE_DISTILL_MEASURED = 'Highway, 9 epochs after a prune to 50% of the GFLOPs: mAP50-95 0.536 without, 0.551 with; a constant gain 1 0.547, 4 0.524';
const FEATURE_DISTILL_WEAK = 'the full demo, original mAP50 0.286: fine-tuned mAP50-95 0.094 without, 0.072 with';
const FEATURE_DISTILL_COLLAPSED = 'Highway at 35% of the GFLOPs, parent mAP50 0.31: fine-tuned mAP50-95 0.357 without, 0.329 with';
/** SGD: the gates' learning rate. Adam: λ (under Adam a step moves a gate by about its learning rate, whatever λ). */
const SGD_GATE_LR = 0.05;
const ADAM_LAMBDA = 3e-3;

/** The epoch budget when none is given: about 40,000 training images seen, within 10 to 60 epochs. */
export function defaultEpochBudget(trainImages: number): number {
  return Math.min(60, Math.max(10, Math.round(40_000 / trainImages)));
}

/** Rounds needed so that no round keeps less than ROUND_KEEP of the cost entering it. */
export function roundsFor(keepFraction: number | undefined): number {
  if (keepFraction === undefined || keepFraction >= 1) return 1;
  return Math.max(1, Math.ceil(Math.log(keepFraction) / Math.log(ROUND_KEEP) - 1e-9));
}

/**
 * Σ over a round's epochs of the gates' learning-rate factor, times the penalty's ramp (λ rises linearly over the
 * first epoch): how many full-strength epochs of pressure one round applies.
 */
export function roundPressure(epochs: number, hyp: Pick<Hyp, 'lrf'>): number {
  const factor = lrFactor('linear', hyp.lrf, epochs);
  let total = 0;
  for (let e = 0; e < epochs; e++) total += factor(e) * (e === 0 ? 0.5 : 1);
  return total;
}

const fmt = (v: number) => (Math.abs(v) < 1e-2 && v !== 0 ? v.toExponential(1) : String(+v.toPrecision(3)));

/** What decided the fade's default (docs/pruning.md §5). */
const FADE_MEASURED = 'round 1 to 70.7% of the GFLOPs: mAP50-95 0.239 faded, 0.406 pruned at once';

/** The round's epoch (0-based) at which its channels start to fade: after the first half of its epochs, at least one. */
export function fadeStartEpoch(epochsPerRound: number): number {
  return Math.max(1, Math.floor(epochsPerRound / 2));
}

export function chooseRecipe(request: RecipeRequest, facts: RecipeFacts): Recipe {
  const reasons: string[] = [];
  const given = (name: string, value: unknown) => reasons.push(`${name} ${value} (given)`);

  // The budget: rounds small enough to lose little at a time, at least one sparsity epoch each, the rest fine-tuning.
  const epochs = request.epochs ?? defaultEpochBudget(facts.trainImages);
  if (request.epochs !== undefined) given('epochs', epochs);
  else reasons.push(`epochs ${epochs} in all: about 40,000 training images seen (${facts.trainImages} per epoch), within 10–60`);
  const sparsityBudget = Math.floor(epochs * SPARSITY_SHARE);
  const needed = roundsFor(facts.keepFraction);
  const rounds = request.rounds ?? Math.max(1, Math.min(needed, sparsityBudget));
  if (request.rounds !== undefined) given('rounds', rounds);
  else if (facts.keepFraction === undefined) reasons.push('rounds 1: without a cost target the step size is unknown');
  else {
    reasons.push(
      `rounds ${rounds}: each keeps ≥ ${Math.round(ROUND_KEEP * 100)}% of the cost entering it (${(facts.keepFraction * 100).toFixed(0)}% in all needs ${needed})` +
        (rounds < needed ? `, as many as half the budget allows` : ''),
    );
  }
  const epochsPerRound = request.epochsPerRound ?? (epochs === 0 ? 0 : Math.max(1, Math.min(MAX_EPOCHS_PER_ROUND, Math.floor(sparsityBudget / rounds))));
  if (request.epochsPerRound !== undefined) given('epochs per round', epochsPerRound);
  else reasons.push(`epochs per round ${epochsPerRound}: sparsity training gets up to half the budget, at most ${MAX_EPOCHS_PER_ROUND} epochs a round`);
  const finetuneEpochs = request.finetuneEpochs ?? Math.max(0, epochs - rounds * epochsPerRound);
  if (request.finetuneEpochs !== undefined) given('fine-tuning epochs', finetuneEpochs);
  else reasons.push(`fine-tuning ${finetuneEpochs} epochs: the rest of the budget`);
  if (request.epochs !== undefined && rounds * epochsPerRound + finetuneEpochs !== epochs) {
    throw new Error(`--epochs ${epochs} does not match --rounds ${rounds} × --epochs-per-round ${epochsPerRound} + --finetune-epochs ${finetuneEpochs}: give the budget or the parts`);
  }

  // Train as the model was trained: another optimizer, or SGD's lr0 after Adam's, first undoes what it learned.
  const optimizer = request.optimizer ?? facts.trained?.optimizer ?? 'SGD';
  if (request.optimizer !== undefined) given('optimizer', optimizer);
  else reasons.push(`optimizer ${optimizer}: ${facts.trained ? `the one ${facts.trained.source} was trained with` : 'the checkpoint does not say, so YOLOv5\'s'}`);
  const baseHyp = request.hyp ?? facts.trained?.hyp ?? facts.defaultHyp;
  let hyp = baseHyp;
  let sparsityHyp = baseHyp;
  if (request.hypGiven) reasons.push('hyperparameters as given');
  else {
    // A trained model needs no warmup from a bias learning rate of 0.1 over 3 epochs: on Highway it shook the
    // base 0.599 → 0.528 mAP50-95 in the control's first epoch. One epoch, biases starting at lr0.
    const cool = (lr0: number): Hyp => ({ ...baseHyp, lr0, warmup_epochs: Math.min(baseHyp.warmup_epochs, 1), warmup_bias_lr: Math.min(baseHyp.warmup_bias_lr, lr0) });
    hyp = cool(baseHyp.lr0);
    sparsityHyp = cool(baseHyp.lr0 * SPARSITY_LR_SHARE);
    reasons.push(
      `hyperparameters ${facts.trained ? `of ${facts.trained.source}'s training` : 'hyp.scratch-low'} (lr0 ${fmt(hyp.lr0)}), ` +
        `warmup ${hyp.warmup_epochs} epoch from bias lr ${fmt(hyp.warmup_bias_lr)}: the model is trained, a longer and hotter warmup shakes it`,
    );
    reasons.push(
      `sparsity training at lr0 ${fmt(sparsityHyp.lr0)} for the weights: they follow the gates, and at the full lr0 a trained model forgets what it knew (measured on Highway)`,
    );
  }
  const minWarmup = request.minWarmup ?? 0;
  if (request.minWarmup !== undefined) given('minimum warmup', `${minWarmup} iterations`);

  const recorded = facts.trained?.nominalBatch ?? NOMINAL_BATCH;
  let nominalBatch = request.nominalBatch ?? recorded;
  if (request.nominalBatch !== undefined) given('nominal batch', nominalBatch);
  else {
    while (nominalBatch > facts.batchSize && facts.trainImages / nominalBatch < MIN_STEPS_PER_EPOCH) nominalBatch -= facts.batchSize;
    nominalBatch = Math.max(nominalBatch, facts.batchSize);
    const steps = Math.max(1, Math.floor(facts.trainImages / nominalBatch));
    reasons.push(`nominal batch ${nominalBatch}: ${steps} optimizer steps per epoch` + (nominalBatch < recorded ? ` (${recorded} would give fewer than ${MIN_STEPS_PER_EPOCH})` : ''));
  }
  const stepsPerEpoch = Math.max(1, facts.trainImages / nominalBatch);

  // The penalty's strength: a gate the task does not defend travels ROUND_TRAVEL within one round.
  const pressure = roundPressure(epochsPerRound, sparsityHyp);
  const adam = optimizer !== 'SGD';
  let gateLr: number;
  let sparsity: number;
  if (epochsPerRound === 0) {
    gateLr = request.gateLr ?? SGD_GATE_LR;
    sparsity = request.sparsity ?? 0;
    reasons.push('no sparsity training: one-shot pruning of the model as it is');
  } else if (adam) {
    gateLr = request.gateLr ?? ROUND_TRAVEL / (stepsPerEpoch * pressure);
    sparsity = request.sparsity ?? ADAM_LAMBDA;
    reasons.push(
      request.gateLr !== undefined
        ? `gate lr ${fmt(gateLr)} (given)`
        : `gate lr ${fmt(gateLr)}: under ${optimizer} a pressed gate moves about its learning rate per step, so ${ROUND_TRAVEL} in one round of ${Math.round(stepsPerEpoch * epochsPerRound)} steps`,
    );
    reasons.push(request.sparsity !== undefined ? `λ ${fmt(sparsity)} (given)` : `λ ${fmt(sparsity)} per image at the start: weighs the penalty against the task (measured on the synthetic set)`);
  } else {
    gateLr = request.gateLr ?? SGD_GATE_LR;
    if (request.gateLr !== undefined) given('gate lr', fmt(gateLr));
    // SGD with momentum m moves a coefficient under a constant gradient G by lr·G/(1 − m) per step; the penalty's
    // gradient per optimizer step is λ · nominal batch, and an epoch has images / nominal batch steps. BatchNorm
    // scales (--criterion bn) learn at the weights' lr0, gates at their own rate.
    const [lr, what] = facts.criterion === 'bn' ? [sparsityHyp.lr0, 'BatchNorm scales learn at the weights\' lr0'] : [gateLr, 'gate lr'];
    sparsity = request.sparsity ?? (ROUND_TRAVEL * (1 - hyp.momentum)) / (lr * facts.trainImages * pressure);
    reasons.push(
      request.sparsity !== undefined
        ? `λ ${fmt(sparsity)} (given)`
        : `λ ${fmt(sparsity)} per image at the start (${what} ${fmt(lr)}): the penalty alone would move a coefficient by ${ROUND_TRAVEL} in one round ` +
            `over ${facts.trainImages} images; the controller adapts it between epochs`,
    );
  }

  const distill = request.distill ?? (facts.originalMap50 >= DISTILL_MIN_MAP50 ? DISTILL_GAIN : 0);
  if (request.distill !== undefined) given('distillation gain', distill);
  else {
    reasons.push(
      distill > 0
        ? `distillation gain ${distill}: the original (mAP50 ${facts.originalMap50.toFixed(3)}) is a teacher worth learning from`
        : `no distillation: the original's mAP50 ${facts.originalMap50.toFixed(3)} is below ${DISTILL_MIN_MAP50}, a weak teacher misleads (measured on the fast demo)`,
    );
  }
  // The parent's features are as good as the model it was trained from: the same bar as the outputs'.
  const featureDistill = request.featureDistill ?? (facts.originalMap50 >= DISTILL_MIN_MAP50 ? FEATURE_DISTILL_GAIN : 0);
  if (request.featureDistill !== undefined) given('feature distillation gain', featureDistill);
  else if (finetuneEpochs > 0) {
    reasons.push(
      featureDistill > 0
        ? `feature distillation gain ${featureDistill}, falling to 0 over fine-tuning, while the model pruned from keeps mAP50 ≥ ${DISTILL_MIN_MAP50}: ` +
          `every layer's kept channels learn what they computed before the pruning step (${FEATURE_DISTILL_MEASURED})`
        : `no feature distillation: the original's mAP50 ${facts.originalMap50.toFixed(3)} is below ${DISTILL_MIN_MAP50}, and the features of a weak model mislead too (${FEATURE_DISTILL_WEAK})`,
    );
  }
  const round = request.round ?? facts.channelBlock;
  if (request.round !== undefined) given('channel multiple', round);
  else reasons.push(`channels in multiples of ${round}: ONNX Runtime's convolution block on this CPU`);

  // Gates that never trained are all 1: they rank nothing, the estimated loss change does (it needs a budget).
  const importance = request.importance ?? (facts.criterion === 'gate' && epochsPerRound === 0 && facts.budgeted ? 'taylor' : 'magnitude');
  if (request.importance !== undefined) given('importance', importance);
  else if (importance === 'taylor') reasons.push('importance taylor: without sparsity training every gate is 1 and ranks nothing; the first-order estimate of the loss change does');

  // The fade needs a plan (a budget) made from gates the penalty has ranked (an epoch before it) and gates to cap.
  const canFade = facts.criterion === 'gate' && facts.budgeted && epochsPerRound >= 2;
  if (request.fade && !canFade) {
    throw new Error('--fade needs --criterion gate, a --ratio, --target-flops or --target-latency, and at least 2 --epochs-per-round (one ranks the channels, the rest fade them)');
  }
  const fade = request.fade ?? false;
  if (request.fade !== undefined) given('fade', fade ? 'on' : 'off');
  else if (canFade) {
    const fading = epochsPerRound - fadeStartEpoch(epochsPerRound);
    reasons.push(
      `no fade: on Highway, channels faded out over a round's last ${fading === 1 ? 'epoch' : `${fading} epochs`} left the model worse than removing them at once ` +
        `with least-squares reconstruction (${FADE_MEASURED})`,
    );
  }

  const parentMinMap50 = request.featureDistill === undefined ? DISTILL_MIN_MAP50 : 0;
  return { epochs, rounds, epochsPerRound, finetuneEpochs, optimizer, sparsityHyp, hyp, nominalBatch, gateLr, sparsity, minWarmup, distill, featureDistill, parentMinMap50, round, importance, fade, reasons };
}

/**
 * The feature distillation gain fine-tuning uses, once the parent's accuracy is known. A round whose sparsity
 * training collapsed leaves a parent whose features mislead as a weak original's do; a given gain is used as given.
 */
export function parentFeatureGain(recipe: { featureDistill: number; parentMinMap50?: number }, parentMap50: number | undefined): { gain: number; reason?: string } {
  const bar = recipe.parentMinMap50 ?? 0;
  if (recipe.featureDistill === 0 || parentMap50 === undefined || parentMap50 >= bar) return { gain: recipe.featureDistill };
  return {
    gain: 0,
    reason: `no feature distillation: the model pruned from has mAP50 ${parentMap50.toFixed(3)}, below ${bar}; its features would mislead (${FEATURE_DISTILL_COLLAPSED})`,
  };
}
