// `yolov5 prune` and the library's prune(): every option once. Options without a default are chosen by the
// recipe from the epoch budget, the target, the data and the checkpoint, and printed with their reasons.
import { OPTIMIZERS } from '../train/optimizer.js';
import { batchSize, calibImages, device, imgsz, processes, runFolder } from './common.js';
import { defineOptions, type OptionsOf, type ResolvedOptionsOf } from './declare.js';
import { choice, flag, fraction, nonNegativeInteger, nonNegativeNumber, positiveInteger, text } from './values.js';

export const pruneOptions = defineOptions('prune', {
  weights: { type: text, argument: '<path>', help: 'trained weights (official .pt or yolov5-ts .safetensors); required unless resuming' },
  data: { type: text, argument: '<yaml>', help: 'dataset yaml (coco128.yaml by name: shipped, downloaded on first use); required unless resuming' },
  imgsz: imgsz('train and val image size'),
  batchSize: batchSize('batch size', 16),
  epochs: {
    type: nonNegativeInteger,
    argument: '<n>',
    help: "epochs in all: every round's sparsity training plus fine-tuning (chosen from the dataset size; 0: one-shot pruning)",
  },
  nominalBatch: {
    type: positiveInteger,
    argument: '<n>',
    help: "images per optimizer step: batches accumulate gradients up to it (chosen: the checkpoint's, or 64 as YOLOv5, smaller when an epoch would have under 16 steps)",
  },
  rounds: { type: positiveInteger, argument: '<n>', help: 'rounds of sparsity training then pruning (chosen: each keeps ≥ 50% of the cost entering it)' },
  epochsPerRound: { type: nonNegativeInteger, argument: '<n>', help: 'sparsity-training epochs per round (chosen)' },
  finetuneEpochs: { type: nonNegativeInteger, argument: '<n>', help: 'epochs of fine-tuning without the penalty after the last round (chosen: the rest of the budget)' },
  sparsity: {
    type: nonNegativeNumber,
    argument: '<lambda>',
    help: 'sparsity strength λ per image, the start value the controller adapts (chosen: with SGD, enough to move an undefended gate by 0.5 in one round); alone, a fixed λ',
  },
  targetSparsity: {
    type: fraction,
    argument: '<share>',
    help: "adapt λ between epochs so this share of gates falls below the threshold; the penalty pauses while it is met, and λ backs off while the training loss is over 10% above the round's best (default per round: 1 − √(the round's cost fraction))",
  },
  gateLr: {
    type: nonNegativeNumber,
    argument: '<lr>',
    help: "the gates' learning rate in sparsity training: no warmup, decays with the schedule (chosen: 0.05 with SGD; with Adam, a travel of 0.5 in one round)",
  },
  minWarmup: { type: nonNegativeInteger, argument: '<iterations>', help: "training stages warm up for at least this many iterations (default 0: the recipe's one-epoch warmup)" },
  distill: {
    type: nonNegativeNumber,
    argument: '<gain>',
    help: "sparsity training and fine-tuning also learn the original model's outputs on the same images, with this gain (chosen: 3 when the original's mAP50 ≥ 0.5, else 0)",
  },
  featureDistill: {
    type: nonNegativeNumber,
    argument: '<gain>',
    help: "fine-tuning also matches every layer's output to the same channels of the model it was pruned from, with this gain at the start, falling linearly to 0 by the end (chosen: 2 when the original's mAP50 ≥ 0.5 and the model pruned from still has it when fine-tuning starts, else 0)",
  },
  threshold: { type: nonNegativeNumber, argument: '<t>', help: 'prune channels whose |gate| is below t (also the threshold of the gate statistics, default 0.1)' },
  ratio: { type: fraction, argument: '<r>', help: 'remove this share of all prunable channels by the end' },
  targetFlops: { type: fraction, argument: '<f>', help: 'keep this fraction of the original GFLOPs by the end (default 0.6)' },
  targetLatency: { type: fraction, argument: '<f>', help: 'keep this fraction of the estimated CPU latency by the end, costly high-resolution channels first' },
  minChannels: { type: nonNegativeInteger, default: 8, argument: '<n>', help: 'never keep fewer channels per layer (or the layer width if smaller)' },
  round: {
    type: positiveInteger,
    argument: '<n>',
    help: "round kept channel counts up to a multiple of n (chosen: ONNX Runtime's channel block on this CPU, 16 with AVX-512, 8 with AVX2)",
  },
  criterion: { type: choice(['gate', 'bn']), default: 'gate', argument: '<c>', help: 'importance: channel gates (this method) or BatchNorm scales (network slimming)' },
  importance: {
    type: choice(['magnitude', 'taylor']),
    argument: '<m>',
    help: 'how the gate criterion ranks channels: |gate|, or the Taylor estimate of the loss change (gate × gradient, on training batches) (chosen: taylor for one-shot pruning, else magnitude)',
  },
  fade: {
    type: flag,
    flags: ['--fade', '--no-fade'],
    help: "fade out the channels each round's plan removes over its later sparsity epochs, gates capped by a bound falling to zero, so pruning removes channels that contribute nothing (default off: measured worse than pruning at once on Highway; needs the gate criterion, a target and ≥ 2 epochs a round)",
  },
  hyp: {
    type: text,
    argument: '<yaml>',
    help: "hyperparameters for sparsity training and fine-tuning, used as given (chosen: the checkpoint's, or hyp.scratch-low, with a one-epoch warmup)",
  },
  optimizer: { type: choice(OPTIMIZERS), argument: '<name>', help: "optimizer of sparsity training and fine-tuning; the gates share it (chosen: the checkpoint's, or SGD)" },
  cache: { type: flag, default: true, flags: ['--no-cache'], help: 'do not cache decoded training images in RAM (by default they are, when they fit)' },
  workers: { type: positiveInteger, default: 8, argument: '<n>', help: 'data loader worker threads' },
  seed: { type: nonNegativeInteger, default: 0, argument: '<n>', help: 'random seed' },
  calibImages: calibImages('training images for the reconstruction of removed channels, BatchNorm statistics, Taylor importance and --int8', 256),
  benchmark: { type: flag, default: true, flags: ['--no-benchmark'], help: 'skip the ONNX Runtime latency comparison' },
  int8: { type: flag, default: false, help: 'also quantize the pruned model to INT8 (pruned-int8.onnx) and report its mAP and latency' },
  ...runFolder('runs/prune'),
  resume: { type: text, argument: '<dir>', help: 'continue an interrupted run (its runs/prune/expN folder)' },
  device,
  // Sparsity training and fine-tuning in several processes; pruning steps, validation and files stay with rank 0.
  ...processes,
});

/** The options of prune(), as the flags of `yolov5 prune` in camelCase. */
export type PruneOptions = OptionsOf<typeof pruneOptions>;
export type ResolvedPruneOptions = ResolvedOptionsOf<typeof pruneOptions>;
