// What the demo makes and how long it trains, in two sizes: the full demo (about five minutes on two CPU cores)
// and a reduced one that runs every stage in a fraction of that (for tests and a quick look).
import type { Hyp } from '../train/hyp.js';
import type { OptimizerName } from '../train/optimizer.js';
import type { Criterion } from '../prune/plan.js';
import type { ImportanceMeasure } from '../prune/recipe.js';

/** Batch 1, a 1280×720 frame letterboxed to 640×384: the deployment case the latency is quoted for. */
export const BENCHMARK_IMGSZ = 640;
export const BENCHMARK_INPUT: [number, number] = [384, 640];

export interface DemoPlan {
  /** Synthetic dataset: training and validation images, classes, image side in pixels (also the training size). */
  images: number;
  valImages: number;
  classes: number;
  imgsz: number;
  /** Model config, trained from scratch. */
  cfg: string;
  epochs: number;
  batchSize: number;
  /** Images per optimizer step. */
  nominalBatch: number;
  optimizer: OptimizerName;
  /** Changes to hyp.scratch-low for training from scratch. */
  hyp: Partial<Hyp>;
  /** Changes to hyp.scratch-low for sparsity training and fine-tuning. */
  pruneHyp: Partial<Hyp>;
  /** Optimizer of sparsity training and fine-tuning, its images per step, and the gates' own learning rate. */
  pruneOptimizer: OptimizerName;
  pruneNominalBatch: number;
  gateLr: number;
  /** Gain of distillation from the trained model in fine-tuning and in the rounds after the first (0: off). */
  distill: number;
  /** Pruning: rounds of sparsity training then pruning, fine-tuning, the share of GFLOPs kept. */
  rounds: number;
  /** Sparsity strength λ at the start. */
  sparsity: number;
  /** Share of gates wanted below `gateThreshold` (λ adapts, the penalty pauses once it is met). */
  targetSparsity: number;
  gateThreshold: number;
  /** What is pruned and how channels are ranked: gates by magnitude. */
  criterion: Criterion;
  importance: ImportanceMeasure;
  /** Channels every layer keeps at least. */
  minChannels: number;
  /** Lower bound of the fine-tuning warmup in iterations. */
  minWarmup: number;
  epochsPerRound: number;
  finetuneEpochs: number;
  targetFlops: number;
  /** Kept channel counts rounded up to a multiple of this: ONNX Runtime's channel block (16 on AVX-512, 8 on AVX2). */
  round: number;
  calibImages: number;
  /** Held-out images the two models detect on. */
  detectImages: number;
  /** Timed ONNX Runtime runs per model, after `warmup` untimed ones. */
  benchmarkRuns: number;
  benchmarkWarmup: number;
}

// Sizes chosen by measurement: a training step of 16 images at 96 px costs about 0.24 s on the two cores (forward,
// backward, optimizer, EMA, loader); with 1,000 images the demo took 7.4 min on the quiet machine (train 260 s,
// prune 175 s), so 800 images (700 steps of training, 350 of pruning) and a smaller validation set aim at five.
// AdamW with higher objectness and class gains learned fastest of the recipes tried in so few steps.
const FROM_SCRATCH: Partial<Hyp> = { lr0: 0.003, warmup_epochs: 1, warmup_bias_lr: 0, obj: 3, cls: 3 };

// Pruning in two rounds (each keeps about 71% of the GFLOPs), with the optimizer and learning rate of the training:
// λ strong enough to move the gates in these few steps, the penalty pausing once 30% of them are near zero, the
// gates learning at 0.03 (under Adam a step moves a gate by about its learning rate), fine-tuning warmed up for one
// epoch instead of 100 steps. Channels in multiples of 16, ONNX Runtime's block on AVX-512. Every setting of the
// pruning pipeline is given, so that the demo stays as measured when the pipeline's defaults change.
const PRUNING = {
  pruneHyp: { obj: 3, cls: 3, lr0: 0.003, warmup_bias_lr: 0 },
  pruneOptimizer: 'AdamW',
  gateLr: 0.03,
  rounds: 2,
  sparsity: 3e-3,
  targetSparsity: 0.3,
  gateThreshold: 0.1,
  criterion: 'gate',
  importance: 'magnitude',
  minChannels: 8,
  epochsPerRound: 2,
  targetFlops: 0.5,
  round: 16,
} satisfies Partial<DemoPlan>;

/** The training every plan shares: yolov5n from scratch, AdamW, an optimizer step per batch of 16. */
const TRAINING = { cfg: 'yolov5n', batchSize: 16, nominalBatch: 16, optimizer: 'AdamW', hyp: FROM_SCRATCH } satisfies Partial<DemoPlan>;

export const FULL_PLAN: DemoPlan = {
  images: 800,
  valImages: 100,
  classes: 3,
  imgsz: 96,
  ...TRAINING,
  epochs: 14,
  ...PRUNING,
  // An optimizer step per 64 images (YOLOv5's nominal batch), with which the figures below were measured.
  pruneNominalBatch: 64,
  finetuneEpochs: 3,
  // Learning the trained model's outputs too: measured mAP50 0.204 → 0.230, mAP50-95 0.074 → 0.085 for 9 s more.
  distill: 3,
  // One epoch of batches.
  minWarmup: 50,
  calibImages: 128,
  detectImages: 6,
  benchmarkRuns: 30,
  benchmarkWarmup: 5,
};

// One class at 64 px: the easiest task the generator makes, so that a few hundred steps give a model that
// finds objects, and the pruned one still does after a short fine-tuning at a higher learning rate.
export const FAST_PLAN: DemoPlan = {
  images: 256,
  valImages: 32,
  classes: 1,
  imgsz: 64,
  ...TRAINING,
  epochs: 25,
  ...PRUNING,
  // An optimizer step per batch, as in its training: at one per 64 images sparsity training and fine-tuning made
  // 4 steps an epoch, and the pruned model fell to mAP50 0.119 of the original's 0.245 (seed 0); per batch, 0.168.
  pruneNominalBatch: 16,
  finetuneEpochs: 6,
  // Its teacher is too weak to learn from: with distillation the pruned mAP50 fell from 0.170 to 0.127.
  distill: 0,
  // One epoch of batches.
  minWarmup: 16,
  calibImages: 32,
  detectImages: 6,
  benchmarkRuns: 5,
  benchmarkWarmup: 1,
};
